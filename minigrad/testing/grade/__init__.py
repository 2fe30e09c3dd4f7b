"""Grade a submission against an assignment's ``checks.py``: ``python -m minigrad.testing.grade``.

::

    python -m minigrad.testing.grade --checks assignments/gru/grader/checks.py \\
        --submission path/to/gru.py --json results.json
    python -m minigrad.testing.grade --assignment gru --submission submission/   # shipped ones
    python -m minigrad.testing.grade --checks grader/checks.py --self-check

A ``checks.py`` defines, at module level:

- ``GRADER``: a :class:`~minigrad.testing.grading.Grader` with its tests, each registered with
  ``@GRADER.test(name, points=N)`` and taking one argument (the student's module);
- ``SUBMISSION``: the file name the student hands in (``"gru.py"``); a folder submission is
  searched for it;
- ``SOLUTION``: the path of the reference solution (``--self-check`` grades it).

Before any student code runs, the checks are validated (``checks.py`` imports, the names
above exist, every test takes one argument, every ``references/*.npz`` next to it loads);
a problem there, or a reference file a test cannot find, is the instructor's: it is printed
as such, the exit status is 2, and no student is told they lost points over it. Each test then
runs in its own process (:mod:`minigrad.testing.sandbox`).

Exit status: 0 when grading ran (whatever the score), 1 when ``--self-check`` found the
solution short of full marks, 2 for a usage error or a broken grader. With ``--json``, the
Gradescope ``results.json`` is always written (atomically), even when grading could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

import minigrad as mg
from minigrad.testing.checks import Checks, assignments_dir, find_assignment, load_checks
from minigrad.testing.grading import (
    GradeReport,
    InstructorError,
    TestResult,
    _load_message,
)
from minigrad.testing.reference import ReferenceFileError, load_reference
from minigrad.testing.sandbox import DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_MB, run_in_child

BROKEN_TEST = ("not graded: the grader failed on this test (your instructor's mistake, not "
               "yours; they have been told)")


def check_references(checks: Checks) -> list[str]:
    """A problem per reference file next to ``checks.py`` that does not load."""
    problems = []
    for f in sorted(checks.references.glob("*.npz")):
        try:
            load_reference(f)
        except ReferenceFileError as e:
            problems.append(str(e))
    return problems


def grade(checks: Checks, submission: str | os.PathLike[str], *, only: str | None = None,
          timeout: float | None = None, device: str = "cpu",
          memory_mb: float | None = DEFAULT_MEMORY_MB,
          max_output: int = DEFAULT_MAX_OUTPUT) -> GradeReport:
    """Grade ``submission`` (a file, or a folder holding ``checks.submission``), each test in
    its own process. The grader's own failures land in the report's ``problems``."""
    start = time.perf_counter()
    report = GradeReport(checks.grader.title, extra={"minigrad_version": mg.__version__,
                                                     "device": device})
    report.problems = check_references(checks)
    path = Path(os.fspath(submission))
    file = path / checks.submission if path.is_dir() else path
    missing = None if file.is_file() else _load_message(FileNotFoundError(
        f"no submission file at {os.fspath(submission)!r} (expected {checks.submission})"))
    limit = checks.grader.timeout if timeout is None else timeout
    for index, name, points in checks.grader.selected(only):
        if missing or report.problems:
            report.tests.append(TestResult(name, 0.0, points, missing or BROKEN_TEST))
            continue
        verdict = run_in_child(str(checks.path), str(file), checks.submission, index,
                               timeout=limit, device=device, memory_mb=memory_mb,
                               max_output=max_output)
        if verdict.instructor_error:
            report.problems.append(f"test {name!r}: {verdict.instructor_error}")
            report.tests.append(TestResult(name, 0.0, points, BROKEN_TEST))
        else:
            report.tests.append(TestResult(name, verdict.fraction * points, points,
                                           verdict.message))
    report.execution_time = time.perf_counter() - start
    return report


def _broken_report(title: str, problem: str) -> GradeReport:
    return GradeReport(title, problems=[problem])  # no tests could even be listed


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit status (see the module's docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.testing.grade",
        description="Grade a submission against an assignment's checks.py, each test in its "
                    "own process, and write Gradescope's results.json.")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--checks", metavar="CHECKS.py", help="the assignment's grader/checks.py")
    which.add_argument("--assignment", metavar="NAME",
                       help="a shipped assignment by name (e.g. gru), from any folder")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--submission", metavar="FILE_OR_DIR",
                      help="the student's file, or a folder that contains it")
    what.add_argument("--self-check", action="store_true",
                      help="grade the checks' SOLUTION; exit 1 unless it earns full marks")
    parser.add_argument("--json", metavar="OUT", help="write Gradescope's results.json here")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--only", metavar="TEXT", help="run only tests whose name contains TEXT")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="seconds allowed per test (default: the grader's)")
    parser.add_argument("--memory-mb", type=float, default=DEFAULT_MEMORY_MB,
                        help=f"memory a test may allocate, MB (default {DEFAULT_MEMORY_MB}; "
                             "0: no limit)")
    parser.add_argument("--quiet", action="store_true", help="print only the total")
    args = parser.parse_args(argv)
    if args.timeout is not None and not args.timeout > 0:
        parser.error(f"--timeout must be a positive number of seconds, got {args.timeout:g}")
    if args.memory_mb < 0:
        parser.error(f"--memory-mb must be 0 (no limit) or positive, got {args.memory_mb:g}")
    if args.device not in ("cpu", "cuda"):
        parser.error(f"--device must be cpu or cuda, got {args.device!r}")
    if args.device == "cuda" and not mg.cuda.is_available():
        parser.error("--device cuda: no CUDA device here (no CuPy or no GPU)")

    title = args.assignment or args.checks
    try:
        checks = load_checks(find_assignment(args.assignment) if args.assignment
                             else args.checks)
        title = checks.grader.title
        if args.self_check:
            if checks.solution is None or not checks.solution.is_file():
                raise InstructorError(f"--self-check: {checks.path} has no SOLUTION file "
                                      f"(SOLUTION = {checks.solution!s})")
            submission: str | os.PathLike[str] = checks.solution
        else:
            submission = args.submission
        report = grade(checks, submission, only=args.only, timeout=args.timeout,
                       device=args.device, memory_mb=args.memory_mb or None)
    except InstructorError as e:
        report = _broken_report(title, str(e))
    except BaseException as e:  # noqa: BLE001 - results.json must be written whatever happens
        report = _broken_report(title, f"the grader crashed: {type(e).__name__}: {e}\n"
                                       + traceback.format_exc())
    if args.json:
        report.write_json(args.json)
    print(f"Total: {report.score:g} / {report.max_score:g}" if args.quiet and report.ok
          else report.text())
    if not report.ok:
        print("error: the grader is broken; fix the assignment's files (see above)",
              file=sys.stderr)
        return 2
    if args.self_check and report.score < report.max_score:
        print(f"self-check failed: the solution earns {report.score:g} of "
              f"{report.max_score:g} points", file=sys.stderr)
        return 1
    return 0


__all__ = ["Checks", "assignments_dir", "check_references", "find_assignment", "grade",
           "load_checks", "main"]
