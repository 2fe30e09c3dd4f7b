"""python -m minigrad.testing.grade: any checks.py, --self-check, Gradescope's results.json
always written, and an instructor's mistake reported as the instructor's (exit status 2, no
student points lost over it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minigrad as mg
from minigrad.testing import record_reference
from minigrad.testing.grade import main

ROOT = Path(__file__).resolve().parent.parent

SOLUTION = '''
def double(x):
    return 2 * x
'''

CHECKS = '''
from pathlib import Path
from minigrad.testing import check_against_reference
from minigrad.testing.grading import Grader, Partial, device

GRADER = Grader("double", timeout=20)
SUBMISSION = "double.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION
REFERENCES = Path(__file__).resolve().parent / "references"


@GRADER.test("double: values", points=2)
def values(sub):
    check_against_reference(sub.double, REFERENCES / "double.npz", device=device())


@GRADER.test("double: half credit for trying", points=1)
def trying(sub):
    return None if sub.double(1.0) == 2.0 else Partial(0.5, "keep going")
'''


@pytest.fixture()
def assignment(tmp_path: Path) -> Path:
    """A tiny assignment: grader/checks.py, grader/references/double.npz, solution/."""
    (tmp_path / "solution").mkdir()
    (tmp_path / "solution" / "double.py").write_text(SOLUTION)
    grader = tmp_path / "grader"
    grader.mkdir()
    (grader / "checks.py").write_text(textwrap.dedent(CHECKS))
    (grader / "references").mkdir()
    x = mg.tensor([1.0, -2.0, 3.5], dtype=mg.float64, requires_grad=True)
    record_reference(lambda x: 2 * x, [x], grader / "references" / "double.npz")
    return tmp_path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict]:
    out = Path(args[args.index("--json") + 1])
    code = main(args)
    printed = capsys.readouterr()
    return code, printed.out + printed.err, json.loads(out.read_text())


def test_self_check_and_a_wrong_submission(assignment: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    checks = str(assignment / "grader" / "checks.py")
    results = str(tmp_path / "results.json")
    code, text, data = run(["--checks", checks, "--self-check", "--json", results], capsys)
    assert code == 0 and data["score"] == data["max_score"] == 3, text
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / "double.py").write_text("def double(x):\n    return x + x + 1\n")
    code, text, data = run(["--checks", checks, "--submission", str(tmp_path / "student"),
                            "--json", results], capsys)
    assert code == 0 and data["score"] == 0.5 and data["max_score"] == 3
    assert [t["status"] for t in data["tests"]] == ["failed", "failed"]
    assert "values are not close" in data["tests"][0]["output"]
    assert data["tests"][1]["output"] == "keep going"
    assert data["extra_data"]["minigrad_version"] == mg.__version__
    # --self-check fails (exit 1) when the solution is wrong
    (assignment / "solution" / "double.py").write_text("def double(x):\n    return x * 3\n")
    code, text, data = run(["--checks", checks, "--self-check", "--json", results], capsys)
    assert code == 1 and "self-check failed: the solution earns" in text


def test_missing_submission_scores_zero_and_writes_results(
        assignment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text, data = run(["--checks", str(assignment / "grader" / "checks.py"),
                            "--submission", str(tmp_path / "nowhere"),
                            "--json", str(tmp_path / "r.json")], capsys)
    assert code == 0 and data["score"] == 0
    assert all("no submission file at" in t["output"] and "expected double.py" in t["output"]
               for t in data["tests"])


BROKEN = {
    "bad signature": (lambda c: c.replace("def trying(sub):", "def trying(sub, device):"),
                      "'double: half credit for trying' (", "takes exactly one argument"),
    "does not import": (lambda c: c + "\nraise RuntimeError('oops')\n",
                        "does not import (line ", "RuntimeError: oops"),
    "syntax error": (lambda c: c + "\ndef broken(:\n", "does not import", "SyntaxError"),
    "no SUBMISSION": (lambda c: c.replace('SUBMISSION = "double.py"',
                                          'SUBMISSION = None\nX = "double.py"')
                      .replace("/ SUBMISSION", "/ X"), "must define SUBMISSION", "None"),
    "missing reference": (lambda c: c.replace('"double.npz"', '"triple.npz"'),
                          "test 'double: values'", "no reference file at"),
    "wrong return type": (lambda c: c.replace("return None if", "return 'yes' if"),
                          "must return None, a Partial or a number", "got str"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_instructor_files_are_the_instructors_error(
        case: str, assignment: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    edit, *words = BROKEN[case]
    checks = assignment / "grader" / "checks.py"
    checks.write_text(edit(checks.read_text()))
    code, text, data = run(["--checks", str(checks), "--self-check",
                            "--json", str(tmp_path / "r.json")], capsys)
    assert code == 2, text
    assert "THE GRADER IS BROKEN" in text and "error: the grader is broken" in text
    problems = "\n".join(data["extra_data"]["grader_problems"])
    for w in words:
        assert w in problems, problems
    assert "misconfigured (your instructor's mistake, not yours" in data["output"]
    assert all("not graded" in t["output"] for t in data["tests"]
               if t["status"] == "failed")


def test_corrupt_reference_file_is_found_before_grading(
        assignment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = assignment / "grader" / "references" / "double.npz"
    ref.write_bytes(ref.read_bytes()[:100])  # truncated
    code, text, data = run(["--checks", str(assignment / "grader" / "checks.py"),
                            "--self-check", "--json", str(tmp_path / "r.json")], capsys)
    assert code == 2
    assert "is a damaged minigrad reference file" in data["extra_data"][
        "grader_problems"][0]
    assert [t["output"] for t in data["tests"]] == [data["tests"][0]["output"]] * 2


def test_results_json_is_written_atomically(assignment: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results.json"
    out.write_text("old")
    run(["--checks", str(assignment / "grader" / "checks.py"), "--self-check", "--json",
         str(out)], capsys)
    assert json.loads(out.read_text())["score"] == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".results")] == []


def test_usage_errors_name_the_argument(capsys: pytest.CaptureFixture[str]) -> None:
    for args, words in [(["--assignment", "gru"], "--submission"),
                        (["--assignment", "gru", "--self-check", "--timeout", "-1"],
                         "--timeout must be a positive"),
                        (["--assignment", "gru", "--self-check", "--device", "tpu"],
                         "--device must be cpu or cuda")]:
        with pytest.raises(SystemExit) as info:
            main(args)
        assert info.value.code == 2 and words in capsys.readouterr().err


def test_unknown_assignment_lists_the_shipped_ones(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, text, data = run(["--assignment", "nope", "--self-check", "--json",
                            str(tmp_path / "r.json")], capsys)
    assert code == 2 and "no assignment named 'nope'" in text and "gru" in text


def test_command_line_from_any_folder(tmp_path: Path) -> None:
    """python -m minigrad.testing.grade --assignment gru, run from an unrelated folder."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "minigrad.testing.grade", "--assignment", "gru",
                           "--self-check", "--only", "Part 1", "--json", "out.json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Total: 6 / 6" in proc.stdout and "RuntimeWarning" not in proc.stderr
    assert json.loads((tmp_path / "out.json").read_text())["score"] == 6


def test_registration_refuses_the_instructors_mistakes() -> None:
    from minigrad.testing.grading import Grader

    grader = Grader("demo")
    with pytest.raises(TypeError, match=r"graded test 'two args' \(.*line \d+\): a graded test "
                                        r"takes exactly one argument"):
        @grader.test("two args", points=1)
        def two(sub, device):  # noqa: ANN001
            pass
    for points in (0, -1, True, float("nan"), "3"):
        with pytest.raises(ValueError, match="points must be a positive number"):
            grader.test("x", points=points)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Grader\(timeout\) must be a positive number"):
        Grader("demo", timeout=0)
    assert grader.problems() == ["grader 'demo' has no tests: register some with @GRADER.test"]


def test_expected_values_loaded_at_import_are_refused(
        assignment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks = assignment / "grader" / "checks.py"
    checks.write_text(checks.read_text() + "\nfrom minigrad.testing import load_reference\n"
                      "EXPECTED = load_reference(REFERENCES / 'double.npz')\n")
    code, text, data = run(["--checks", str(checks), "--self-check",
                            "--json", str(tmp_path / "r.json")], capsys)
    assert code == 2 and "holds the expected values of a reference file at import (EXPECTED)" in (
        data["extra_data"]["grader_problems"][0])
