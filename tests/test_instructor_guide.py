"""The instructor guide (docs/instructor-guide.md) is executed: every ``bash`` block of the page
runs, in order, from a scratch copy of assignments/tiny, so the page cannot drift from the code.
The regenerated references and template must equal the committed ones."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from minigrad.testing import load_reference

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "instructor-guide.md"
TINY = ROOT / "assignments" / "tiny"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", GUIDE.read_text(), flags=re.S | re.M)


def test_included_files_exist() -> None:
    included = re.findall(r'^--8<-- "([^"]+)"', GUIDE.read_text(), flags=re.M)
    assert len(included) == 3
    for name in included:
        assert (ROOT / name).is_file(), name


def test_the_guide_runs_as_written(tmp_path: Path) -> None:
    scripts = blocks("bash")
    assert len(scripts) >= 6
    shutil.copytree(TINY, tmp_path / "assignments" / "tiny",
                    ignore=shutil.ignore_patterns("__pycache__"))
    bin_dir = tmp_path / "bin"  # `python` on the page is this interpreter
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env = dict(os.environ, PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
               PYTHONPATH=str(ROOT))
    for script in scripts:
        proc = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{script}\n{proc.stdout}\n{proc.stderr}"
    # what the page regenerated is what the repository holds
    copy = tmp_path / "assignments" / "tiny"
    assert (copy / "template" / "softplus.py").read_text() == (
        TINY / "template" / "softplus.py").read_text()
    new = load_reference(copy / "grader" / "references" / "softplus.npz")
    old = load_reference(TINY / "grader" / "references" / "softplus.npz")
    for group in ("inputs", "outputs", "grad_outputs", "grads"):
        a, b = getattr(new, group), getattr(old, group)
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), group
    assert (tmp_path / "results.json").is_file() and (tmp_path / "tiny-autograder.zip").is_file()
