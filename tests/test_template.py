"""python -m minigrad.testing.template: the template is the solution with each marked region
replaced by a stub, every committed template is current, and bad markers are refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigrad.testing.template import MarkerError, main, make_template

ROOT = Path(__file__).resolve().parent.parent
# Templates written by hand rather than from the solution's markers, and why.
HAND_WRITTEN = {
    # the template is the broken code students debug; tests/test_assignment_suite.py checks that
    # it differs from the solution in exactly the planted bugs, each pinned by its own test
    "debugging",
}
SOLUTIONS = sorted(p for p in ROOT.glob("assignments/*/solution/*.py")
                   if p.parent.parent.name not in HAND_WRITTEN)

MARKED = '''def f(x):
    """Docstring kept."""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION


class A:
    def g(self):
        ### BEGIN SOLUTION
        return 2
        ### END SOLUTION
'''


def test_regions_become_stubs_at_the_markers_indentation() -> None:
    assert make_template(MARKED) == '''def f(x):
    """Docstring kept."""
    # YOUR CODE HERE
    raise NotImplementedError()


class A:
    def g(self):
        # YOUR CODE HERE
        raise NotImplementedError()
'''


@pytest.mark.parametrize("source, line, words", [
    ("x = 1\n### END SOLUTION\n", 2, "without a"),
    ("### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION\n", 3, "cannot nest"),
    ("a = 1\n### BEGIN SOLUTION\nx = 1\n", 2, "never closed"),
    ("def f():\n    ### BEGIN SOLUTION\n    pass\n### END SOLUTION\n", 4, "indented"),
])
def test_unbalanced_markers_are_refused_with_file_and_line(source: str, line: int,
                                                            words: str) -> None:
    with pytest.raises(MarkerError, match=rf"sol\.py, line {line}: .*{words}"):
        make_template(source, "sol.py")


def test_a_solution_without_regions_is_refused() -> None:
    with pytest.raises(MarkerError, match="no '### BEGIN SOLUTION'"):
        make_template("x = 1\n", "sol.py")
    assert make_template("x = 1\n", "helper.py", require_regions=False) == "x = 1\n"


def test_check_mode_reports_a_stale_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    sol, tpl = tmp_path / "sol.py", tmp_path / "tpl.py"
    sol.write_text(MARKED)
    assert main([str(sol), str(tpl), "--check"]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main([str(sol), str(tpl)]) == 0
    assert main([str(sol), str(tpl), "--check"]) == 0
    sol.write_text(MARKED.replace("return 2", "return 3"))  # still the same template
    assert main([str(sol), str(tpl), "--check"]) == 0
    sol.write_text(MARKED.replace('"""Docstring kept."""', '"""Changed."""'))
    assert main([str(sol), str(tpl), "--check"]) == 1
    assert "is out of date: run python -m minigrad.testing.template" in capsys.readouterr().err
    sol.write_text("### END SOLUTION\n")
    assert main([str(sol), str(tpl)]) == 2
    assert f"{sol}, line 1" in capsys.readouterr().err


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.parent.parent.name)
def test_committed_templates_are_current(solution: Path) -> None:
    template = solution.parent.parent / "template" / solution.name
    assert template.read_text(encoding="utf-8") == make_template(
        solution.read_text(encoding="utf-8"), str(solution), require_regions=False), (
        f"{template.relative_to(ROOT)} is out of date: run python -m minigrad.testing.template "
        f"{solution.relative_to(ROOT)} {template.relative_to(ROOT)}")


def test_command_line_from_another_folder(tmp_path: Path) -> None:
    (tmp_path / "sol.py").write_text(MARKED)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "minigrad.testing.template", "sol.py",
                           "tpl.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tpl.py").read_text() == make_template(MARKED)
