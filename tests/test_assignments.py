"""Every assignment under assignments/ (found through its grader/checks.py): the solution
earns full marks (``--self-check``), the template earns none with one message per test, and
the committed template is what the solution gives. Then the GRU assignment's specifics: partial
credit for a buggy submission, a broken file reported, not raised, the command line."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad as mg
from minigrad.testing import load_reference, load_submission
from minigrad.testing.grade import grade, load_checks

ROOT = Path(__file__).resolve().parent.parent
CHECKS = sorted(ROOT.glob("assignments/*/grader/checks.py"))
GRU = ROOT / "assignments" / "gru"
SOLUTION = GRU / "solution" / "gru.py"
TEMPLATE = GRU / "template" / "gru.py"


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))


def name_of(checks: Path) -> str:
    return checks.parent.parent.name


def test_every_assignment_is_found() -> None:
    assert "gru" in [name_of(c) for c in CHECKS]


@pytest.mark.parametrize("path", CHECKS, ids=name_of)
def test_solution_gets_full_marks(path: Path) -> None:
    checks = load_checks(path)
    assert checks.solution is not None and checks.solution.is_file(), checks.solution
    report = grade(checks, checks.solution)
    failed = [f"{t.name}: {t.message}" for t in report.tests if not t.passed]
    assert report.ok, report.problems
    assert not failed, "\n".join(failed)
    assert report.score == report.max_score == checks.grader.max_score > 0


@pytest.mark.parametrize("path", CHECKS, ids=name_of)
def test_template_gets_no_marks_with_a_message_per_test(path: Path) -> None:
    checks = load_checks(path)
    template = path.parent.parent / "template" / checks.submission
    report = grade(checks, template)
    assert report.ok, report.problems
    assert report.score == 0 and [t.name for t in report.tests] == checks.grader.names
    for t in report.tests:
        assert t.message.strip(), f"{t.name}: no message"


def test_gru_solution_gets_full_marks_on_each_device(device: str) -> None:
    checks = load_checks(GRU / "grader" / "checks.py")
    report = grade(checks, SOLUTION, device=device)
    failed = [f"{t.name}: {t.message}" for t in report.tests if not t.passed]
    assert not failed, "\n".join(failed)
    assert report.score == report.max_score > 20


def test_gru_template_messages_point_at_the_stub() -> None:
    report = grade(load_checks(GRU / "grader" / "checks.py"), TEMPLATE)
    for t in report.tests:
        assert t.message.startswith("not implemented yet (gru.py, line "), t.message
        assert "`raise NotImplementedError()`" in t.message


def test_buggy_submission_gets_partial_credit(tmp_path: Path) -> None:
    """A wrong Tanh.backward (factor 2 missing): forward tests pass, gradient tests fail."""
    source = SOLUTION.read_text()
    buggy = source.replace("return grad * (1 - y * y)", "return grad * (1 - y)")
    assert buggy != source
    (tmp_path / "gru.py").write_text(buggy)
    report = grade(load_checks(GRU / "grader" / "checks.py"), tmp_path)
    results = {t.name: t for t in report.tests}
    assert 0 < report.score < report.max_score
    assert results["Part 1: Tanh.forward matches torch.tanh (|x| up to 800)"].passed
    assert results["Part 2: gru_cell output matches torch.nn.GRUCell"].passed
    back = results["Part 1: Tanh.backward matches PyTorch's gradient"]
    assert back.score == 0 and "gradient of input 0: values are not close" in back.message
    grads = results["Part 2: gru_cell gradients match PyTorch (x, h, weights, biases)"]
    assert grads.score == 0 and "gradient of input 'weight_ih'" in grads.message


def test_broken_file_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "gru.py").write_text("import minigrad as mg\ndef gru_cell(:\n")
    report = grade(load_checks(GRU / "grader" / "checks.py"), tmp_path, only="Part 1")
    assert report.score == 0 and len(report.tests) == 4
    assert all(t.message.startswith("could not import the submission: SyntaxError")
               for t in report.tests)


def test_command_line_writes_a_gradescope_report(tmp_path: Path) -> None:
    """The assignment's own entry point, python -m assignments.gru.grader, still works."""
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "assignments.gru.grader", "--submission", str(TEMPLATE),
         "--json", str(out), "--only", "Part 1"],
        cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Total: 0 / 6" in proc.stdout
    data = json.loads(out.read_text())
    assert data["score"] == 0 and data["max_score"] == 6
    assert len(data["tests"]) == 4
    for t in data["tests"]:
        assert set(t) >= {"name", "score", "max_score", "status", "message", "output"}
        assert t["status"] == "failed" and t["message"]


def test_template_and_solution_have_the_same_interface() -> None:
    template, solution = load_submission(TEMPLATE), load_submission(SOLUTION)
    assert not isinstance(template, BaseException) and not isinstance(solution, BaseException)
    for name in ("Tanh", "tanh", "gru_cell", "gru_sequence", "GRUCell"):
        a, b = getattr(template, name), getattr(solution, name)
        if inspect.isclass(a):
            for method in ("forward", "backward", "__init__"):
                if method in vars(a):
                    assert inspect.signature(getattr(a, method)) == inspect.signature(
                        getattr(b, method)), f"{name}.{method}"
        else:
            assert inspect.signature(a) == inspect.signature(b), name


def test_references_come_from_pytorch_and_are_small() -> None:
    files = sorted((GRU / "grader" / "references").glob("*.npz"))
    assert [f.stem for f in files] == ["gru_cell", "gru_cell_nobias", "gru_sequence", "tanh"]
    for f in files:
        assert f.stat().st_size < 20_000
        assert load_reference(f).meta["producer"] == "torch 2.13.0+cpu"


def test_student_tests_pass_on_the_solution(tmp_path: Path) -> None:
    """template/test_gru.py (which uses the pytest plugin) passes once gru.py is solved."""
    shutil.copy(GRU / "template" / "test_gru.py", tmp_path / "test_gru.py")
    shutil.copy(SOLUTION, tmp_path / "gru.py")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_gru.py"], cwd=tmp_path, env=env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout


@pytest.mark.parametrize("seed", [0, 1])
def test_solution_cell_matches_minigrad_gru_cell(seed: int) -> None:
    """The solution agrees with mg.nn.GRUCell given the same weights."""
    sol = load_submission(SOLUTION)
    mg.manual_seed(seed)
    ours = sol.GRUCell(3, 4)
    ref = mg.nn.GRUCell(3, 4)
    ref.load_state_dict(ours.state_dict())
    x = mg.randn(2, 3)
    from minigrad.testing import assert_close

    assert_close(ours(x), ref(x), rtol=1e-5, atol=1e-6)
