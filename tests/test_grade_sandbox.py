"""A submission cannot take the grader down: exit(), sys.exit(), os._exit, infinite loops (even
inside ``except Exception: pass``), huge allocations and floods of prints each fail that test
only, with a message; the other tests are still graded. And the code under test never has the
expected values in memory."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import load_reference, record_reference
from minigrad.testing.grade import grade, load_checks

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process limits")

CHECKS = '''
from pathlib import Path
from minigrad.testing.grading import Grader

GRADER = Grader("misbehaviour", timeout=1.5)
SUBMISSION = "sub.py"
SOLUTION = Path(__file__).parent / "sub.py"

for name in {names!r}:
    def test(sub, name=name):
        assert getattr(sub, name)() == 42, "wrong answer"
    GRADER.test(name, points=1)(test)
'''

SUBMISSION = '''
import os, sys, time
import numpy as np

def good():
    return 42

def calls_exit():
    exit()

def calls_sys_exit():
    sys.exit(3)

def calls_os_exit():
    os._exit(0)

def loops_forever():
    while True:
        pass

def swallows_the_timeout():
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            pass

def allocates_too_much():
    return np.ones(2**28).sum()  # 2 GiB

def prints_forever():
    while True:
        print("spam " * 20)
'''

NAMES = ["good", "calls_exit", "calls_sys_exit", "calls_os_exit", "loops_forever",
         "swallows_the_timeout", "allocates_too_much", "prints_forever"]


def write(folder: Path, checks: str, submission: str) -> Path:
    (folder / "checks.py").write_text(textwrap.dedent(checks))
    (folder / "sub.py").write_text(textwrap.dedent(submission))
    return folder / "checks.py"


def test_each_misbehaviour_fails_its_test_only(tmp_path: Path) -> None:
    checks = load_checks(write(tmp_path, CHECKS.format(names=NAMES), SUBMISSION))
    report = grade(checks, tmp_path, memory_mb=300, max_output=20_000)
    got = {t.name: t for t in report.tests}
    assert report.ok and list(got) == NAMES
    assert got["good"].passed and report.score == 1
    expected = {
        "calls_exit": "your code ended the program (exit(",
        "calls_sys_exit": "your code ended the program (exit(3) or sys.exit)",
        "calls_os_exit": "ended (exit code 0) before the test finished: did your code call "
                         "os._exit()",
        "loops_forever": "took longer than 1.5 s and was stopped",
        "swallows_the_timeout": "took longer than 1.5 s and was stopped",
        "allocates_too_much": "ran out of memory (sub.py, line ",
        "prints_forever": "printed more than 20,000 characters and was stopped",
    }
    for name, words in expected.items():
        assert got[name].score == 0 and words in got[name].message, (name, got[name].message)
    assert "spam spam" in got["prints_forever"].message  # the start of what was printed
    assert len(got["prints_forever"].message) < 3000
    assert report.execution_time < 15


def test_misbehaving_at_import_fails_every_test(tmp_path: Path) -> None:
    checks = load_checks(write(tmp_path, CHECKS.format(names=["good", "calls_exit"]),
                               SUBMISSION + "\nprint('hello')\nos._exit(7)\n"))
    report = grade(checks, tmp_path / "sub.py")
    assert report.ok and report.score == 0
    for t in report.tests:
        assert "ended (exit code 7) before the test finished" in t.message
        assert "your code printed:\nhello" in t.message


def test_expected_values_are_not_in_memory_while_the_submission_runs(tmp_path: Path) -> None:
    """A submission that searches every live array for the answer does not find it."""
    x = mg.tensor(np.linspace(0.1, 0.9, 7), dtype=mg.float64, requires_grad=True)
    (tmp_path / "references").mkdir()
    record_reference(lambda x: x * 3.25, [x], tmp_path / "references" / "triple.npz")
    want = np.linspace(0.1, 0.9, 7) * 3.25
    np.save(tmp_path / "want.npy", want)
    snoop = '''
        import gc
        import numpy as np
        from pathlib import Path

        def found():
            want = np.load(Path(__file__).parent / "want.npy")
            hits, seen, frontier = [], set(), gc.get_objects()
            for _ in range(3):  # arrays are not tracked themselves: look inside containers
                inside = []
                for o in gc.get_referents(*frontier):
                    if id(o) in seen:
                        continue
                    seen.add(id(o))
                    if isinstance(o, np.ndarray):
                        if o is not want and o.shape == want.shape and np.allclose(o, want):
                            hits.append(o)
                    elif isinstance(o, (dict, list, tuple)):
                        inside.append(o)
                frontier = inside
            return hits

        def triple(x):
            assert not found(), "found the expected output in memory"
            return x * 3.25
    '''
    checks = '''
        from pathlib import Path
        from minigrad.testing import check_against_reference
        from minigrad.testing.grading import Grader

        GRADER = Grader("snoop")
        SUBMISSION = "sub.py"
        SOLUTION = None

        @GRADER.test("triple", points=1)
        def triple(sub):
            check_against_reference(sub.triple, Path(__file__).parent / "references" /
                                    "triple.npz")
    '''
    report = grade(load_checks(write(tmp_path, checks, snoop)), tmp_path)
    assert report.ok and report.score == 1, report.text()
    # the control: with the reference loaded in the same process, the same search finds it
    (tmp_path / "references").mkdir(exist_ok=True)
    sys.path.insert(0, str(tmp_path))
    try:
        import sub  # type: ignore[import-not-found]

        loaded = load_reference(tmp_path / "references" / "triple.npz")
        assert sub.found() and loaded.outputs
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("sub", None)


def test_grading_from_a_script_does_not_rerun_it(tmp_path: Path) -> None:
    """The test processes must not re-run the caller's main script (multiprocessing's habit),
    whether it is a file without a ``__main__`` guard or ``python -c``."""
    import os
    import subprocess

    root = Path(__file__).resolve().parent.parent
    script = ("from minigrad.testing.grade import grade, load_checks\n"
              f"c = load_checks({str(root / 'assignments/tiny/grader/checks.py')!r})\n"
              "r = grade(c, c.solution)\n"
              "print('graded', r.score, r.max_score)\n")
    (tmp_path / "grade_all.py").write_text(script)
    env = dict(os.environ, PYTHONPATH=str(root))
    for cmd in ([sys.executable, "grade_all.py"], [sys.executable, "-c", script]):
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == ["graded 5.0 5.0"], proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr


def test_processes_the_submission_starts_are_killed_too(tmp_path: Path) -> None:
    import os
    import time

    pid_file = tmp_path / "child.pid"
    submission = f'''
        import os, time

        def good():
            if os.fork() == 0:  # a process that would outlive the test
                with open({str(pid_file)!r}, "w") as f:
                    f.write(str(os.getpid()))
                time.sleep(120)
                os._exit(0)
            while True:
                pass
    '''
    checks = load_checks(write(tmp_path, CHECKS.format(names=["good"]), submission))
    report = grade(checks, tmp_path)
    assert "took longer than 1.5 s" in report.tests[0].message
    pid = int(pid_file.read_text())
    for _ in range(50):  # killed, and reaped (or a zombie, in a container without init)
        try:
            with open(f"/proc/{pid}/status") as f:
                if "State:\tZ" in f.read():
                    break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, 9)
        raise AssertionError(f"process {pid}, started by the submission, is still running")
