"""The tutorials as notebooks, and the Chinese edition.

* The committed notebooks (``tutorials/notebooks/``) and the Chinese scripts' code cells are
  what ``python tutorials/build.py`` makes of the English scripts (``--check``).
* Each English notebook runs in quick mode as a notebook would: its code cells, in order, in a
  fresh interpreter whose working folder is not ``tutorials/`` (so nothing beside the scripts can
  be imported), with quick mode switched on by editing ``QUICK = False`` in the first cell (no
  ``--quick``, no ``MINIGRAD_QUICK``), and its plots land in ``outputs/`` of that folder.
* Each Chinese tutorial runs in quick mode as a script, like the English ones.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_tutorials import EXPECTED, _need_data

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
_spec = importlib.util.spec_from_file_location("_tutorials_build", TUTORIALS / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

ENGLISH = [p.name for p in build.scripts(TUTORIALS)]
CHINESE = [p.name for p in build.scripts(build.ZH)]
# The Chinese edition covers these tutorials (09 and 10 join once they exist in English).
CHINESE_EDITION = {"02_rnn_by_hand.py", "03_vanishing_gradients.py",
                   "04_lstm_by_the_numbers.py", "05_sentiment.py",
                   "09_gru_by_the_numbers.py", "10_seq2seq.py"}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MINIGRAD_QUICK", "MINIGRAD_TUTORIALS_OUT")}
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT), **extra)  # minigrad "installed"
    return env


def _check_run(proc: subprocess.CompletedProcess, name: str) -> None:
    tail = proc.stdout[-3000:] + "\n--- stderr ---\n" + proc.stderr[-3000:]
    assert proc.returncode == 0, f"{name} failed:\n{tail}"
    assert "QUICK mode" in proc.stdout, tail
    results = [line for line in proc.stdout.splitlines() if line.startswith("RESULT: ")]
    assert len(results) == 1, f"{name} printed no RESULT line:\n{tail}"


def _pngs_ok(folder: Path, pngs: list[str], name: str) -> None:
    for png in pngs:
        path = folder / png
        assert path.is_file() and path.stat().st_size > 1000, f"{name} did not write {path}"


# ------------------------------------------------------------------------ built files up to date
def test_notebooks_and_chinese_code_are_up_to_date():
    stale = [p.relative_to(ROOT).as_posix() for p, text in build.expected_files().items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    assert not stale, ("out of date (run `python tutorials/build.py`): " + ", ".join(stale))
    notebooks = sorted(p.relative_to(build.NOTEBOOKS).as_posix()
                       for p in build.NOTEBOOKS.rglob("*.ipynb"))
    assert notebooks == sorted([n.replace(".py", ".ipynb") for n in ENGLISH]
                               + [f"zh/{n.replace('.py', '.ipynb')}" for n in CHINESE])


@pytest.mark.parametrize("name", ENGLISH + [f"zh/{n}" for n in CHINESE])
def test_notebook_first_cell_installs_and_has_the_switch(name):
    nb = json.loads(build.notebook_path(TUTORIALS / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert build.INSTALL in first and 'find_spec("minigrad") is None' in first
    assert re.search(r"^QUICK = False$", first, flags=re.M)
    assert build.SWITCH_CELL in (TUTORIALS / name).read_text(encoding="utf-8")  # one wording
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    # every later code cell is the script's, unchanged
    script = build.code_cells((TUTORIALS / name).read_text(encoding="utf-8"))
    assert ["".join(c["source"]) for c in code[1:]] == script[1:]


def test_install_line_and_links_come_from_pyproject():
    assert build.INSTALL == f"{build.DISTRIBUTION}[tutorials] @ git+{build.REPOSITORY}"
    readme = (TUTORIALS / "README.md").read_text(encoding="utf-8")
    for name in ENGLISH:
        script = TUTORIALS / name
        assert build.colab_url(script) in readme, f"tutorials/README.md: no Colab link for {name}"
        assert build.binder_url(script) in readme, f"tutorials/README.md: no Binder link: {name}"


# ------------------------------------------------------------------------------ Chinese edition
def test_chinese_edition_covers_the_tutorials_it_should():
    missing = sorted((CHINESE_EDITION & set(ENGLISH)) - set(CHINESE))
    assert not missing, (
        f"no Chinese version of {missing}: a translated draft may wait in tutorials/zh/pending/ "
        "(git mv it to tutorials/zh/, then run python tutorials/build.py)")
    assert set(CHINESE) <= set(ENGLISH), "a Chinese tutorial without its English original"


@pytest.mark.parametrize("name", CHINESE)
def test_chinese_code_cells_are_the_english_ones(name):
    en = build.code_cells((TUTORIALS / name).read_text(encoding="utf-8"))
    zh = build.code_cells((build.ZH / name).read_text(encoding="utf-8"))
    assert zh == en, f"tutorials/zh/{name} drifted from tutorials/{name}: run tutorials/build.py"
    prose = "".join(line for kind, lines in build.split_cells(
        (build.ZH / name).read_text(encoding="utf-8")) if kind == "markdown" for line in lines)
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in prose)
    assert han > 300, f"tutorials/zh/{name}: its prose is not in Chinese ({han} characters)"


def test_sync_copies_code_and_keeps_prose():
    english = ("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n\n# %% [markdown]\n# text\n\n"
               "# %%\ny = 2\n")
    chinese = "# %% [markdown]\n# # 标题\n\n# %%\nx = 0  # old\n\n# %% [markdown]\n# 文字\n\n# %%\n"
    out = build.synced(english, chinese, "01_x.py")
    assert out == ("# %% [markdown]\n# # 标题\n\n# %%\nx = 1\n\n# %% [markdown]\n# 文字\n\n"
                   "# %%\ny = 2\n")
    assert build.code_cells(out) == build.code_cells(english)
    with pytest.raises(SystemExit, match=r"tutorials/zh/01_x.py has 1 code cells.*has 2"):
        build.synced(english, "# %% [markdown]\n# # 标题\n\n# %%\nx = 1\n", "01_x.py")


def test_add_switch_gives_an_old_tutorial_the_quick_switch():
    old = ('# %% [markdown]\n# # 9. X\n\n# %%\nimport numpy as np\n'
           'from _helpers import QUICK, banner, caveat, plt\n\nimport minigrad as mg\n\n'
           'banner("09 X")\nprint(QUICK)\n')
    new = build.with_switch(old, "09_x.py")
    assert new.startswith("# %% [markdown]\n# # 9. X\n\n" + build.SWITCH_CELL + "# %%\n")
    assert "from minigrad.utils.tutorial import banner, caveat, plt, quick_mode\n" in new
    assert '\nQUICK = quick_mode(QUICK)\nbanner("09 X")' in new and "_helpers" not in new
    assert build.with_switch(new) == new  # once only
    build.notebook(new, "09_x.py")  # what the notebook builder asks for


# ------------------------------------------------------------------------------------ execution
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.network) if EXPECTED[n][1] else n
             for n in ENGLISH if n in EXPECTED])
def test_notebook_runs_in_quick_mode(name, tmp_path):
    pytest.importorskip("matplotlib", reason="the tutorials need the 'tutorials' extra")
    pytest.importorskip("tqdm", reason="the tutorials need the 'tutorials' extra")
    pngs, data = EXPECTED[name]
    _need_data(data)
    nb = json.loads(build.notebook_path(TUTORIALS / name).read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(re.search(r"^\s*[%!]", c, flags=re.M) for c in cells), "IPython magics"
    # what a student does: flip the switch in the first cell
    cells[0], flips = re.subn(r"^QUICK = False$", "QUICK = True", cells[0], flags=re.M)
    assert flips == 1
    # `python -c`: no __file__, like a notebook kernel; the working folder is elsewhere
    proc = subprocess.run([sys.executable, "-c", "\n\n".join(cells)], cwd=tmp_path, env=_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    _check_run(proc, f"notebook {name}")
    _pngs_ok(tmp_path / "outputs", pngs, f"notebook {name}")


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.network) if EXPECTED[n][1] else n
             for n in CHINESE if n in EXPECTED])
def test_chinese_tutorial_runs_in_quick_mode(name, tmp_path):
    pytest.importorskip("matplotlib", reason="the tutorials need the 'tutorials' extra")
    pytest.importorskip("tqdm", reason="the tutorials need the 'tutorials' extra")
    pngs, data = EXPECTED[name]
    _need_data(data)
    out = tmp_path / "outputs"
    proc = subprocess.run([sys.executable, str(build.ZH / name), "--quick"], cwd=tmp_path,
                          env=_env(MINIGRAD_TUTORIALS_OUT=str(out)), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)
    _check_run(proc, f"tutorials/zh/{name}")
    _pngs_ok(out, pngs, f"tutorials/zh/{name}")


def test_quick_mode_switch(tmp_path):
    """The notebook's switch, the command line and the environment all turn quick mode on;
    anything but True/False is refused by name. (In a subprocess: importing the helpers picks a
    plotting backend and makes the outputs folder.)"""
    code = ("from minigrad.utils import tutorial as t\n"
            "print(t.QUICK, t.quick_mode(False), t.quick_mode(True), t.QUICK)\n"
            "try:\n    t.quick_mode('yes')\nexcept TypeError as e:\n    print(e)\n")

    def run(*args: str, **env: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path,
                              env=_env(MINIGRAD_TUTORIALS_OUT=str(tmp_path / "out"), **env),
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()

    plain = run()
    assert plain[0] == "False False True True"
    assert "QUICK switch" in plain[1] and "'yes'" in plain[1]
    assert run("--quick")[0] == "True True True True"
    assert run(MINIGRAD_QUICK="1")[0] == "True True True True"
    assert (tmp_path / "out").is_dir()
