"""The documentation: every public name has a docstring, and the site builds in strict mode.

The docstring check is plain introspection (fast, no MkDocs). The build test runs
``mkdocs build --strict`` into a temporary folder, so a broken cross-reference or link, a
docstring the parser cannot read, or a missing docstring fails it; it is skipped (saying why)
when the documentation tools are not installed (``pip install -e ".[docs]"``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "hooks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docstrings = _load("docstrings")


def test_every_public_name_has_a_docstring():
    missing, _ = docstrings.check()
    assert not missing, (
        f"{len(missing)} public name(s) without a docstring (own or inherited):\n  "
        + "\n  ".join(missing))


def test_pending_docstrings_list_only_shrinks():
    _, documented = docstrings.check()
    assert not documented, (
        "these names have a docstring now; remove them from PENDING in "
        "docs/hooks/docstrings.py:\n  " + "\n  ".join(documented))


def test_the_check_sees_the_whole_api():
    names = docstrings.public_names()
    for expected in ["minigrad.tensor.Tensor.backward", "minigrad.nn.rnn.LSTM",
                     "minigrad.nn.module.Module.state_dict", "minigrad.optim.adam.Adam",
                     "minigrad.optim.lr_scheduler.StepLR", "minigrad.data.dataloader.DataLoader",
                     "minigrad.serialization.save", "minigrad.autograd.gradcheck.gradcheck"]:
        assert expected in names


def test_tutorial_pages_are_generated_without_running_them(tmp_path):
    pytest.importorskip("mkdocs", reason="needs mkdocs (pip install -e '.[docs]')")
    tutorials = _load("tutorials")
    script = tmp_path / "01_demo.py"
    script.write_text('# %% [markdown]\n# # 1. Demo\n#\n# See [next](02_next.py).\n\n'
                      '# %%\nraise SystemExit("must not run")\nsavefig(fig, "01_x.png")\n')
    page = tutorials.to_markdown(script, figures=set())
    assert "# 1. Demo" in page and "[next](02_next.md)" in page
    assert '```python\nraise SystemExit("must not run")' in page
    assert "tutorials/outputs/01_x.png" in page
    assert tutorials.title_of(script) == "1. Demo"


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="needs mkdocs (pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings", reason="needs mkdocstrings (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="needs mkdocs-material (pip install -e '.[docs]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    problems = [line for line in proc.stderr.splitlines() + proc.stdout.splitlines()
                if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, ("mkdocs build --strict failed:\n" + "\n".join(problems)
                                  + f"\n--- last output:\n{proc.stderr[-3000:]}")
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    assert (site / "api" / "tensor" / "index.html").is_file()
    assert (site / "tutorials" / "index.html").is_file()
    assert elapsed < 120, f"the documentation build took {elapsed:.0f} s"
