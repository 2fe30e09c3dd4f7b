"""An assignment's ``checks.py``: found (shipped with minigrad or anywhere), imported and
validated before anything is graded, so that an instructor's mistake is reported as theirs.

Both the grader's command line (:mod:`minigrad.testing.grade`) and the processes that run each
test (:mod:`minigrad.testing.sandbox`) load checks through here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import minigrad as mg
from minigrad.testing.grading import Grader, InstructorError
from minigrad.testing.reference import Reference


@dataclass
class Checks:
    """An assignment's ``checks.py``, imported and validated."""

    path: Path
    module: ModuleType
    grader: Grader
    submission: str  # the file name the student hands in
    solution: Path | None

    @property
    def references(self) -> Path:
        """The ``references/`` folder next to ``checks.py``."""
        return self.path.parent / "references"


def assignments_dir() -> Path:
    """The ``assignments`` folder shipped with minigrad (a checkout's, or the wheel's)."""
    return Path(mg.__file__).resolve().parent.parent / "assignments"


def find_assignment(name: str) -> Path:
    """The ``checks.py`` of the shipped assignment ``name``."""
    checks = assignments_dir() / name / "grader" / "checks.py"
    if not checks.is_file():
        known = sorted(p.parent.parent.name for p in assignments_dir().glob("*/grader/checks.py"))
        raise InstructorError(f"no assignment named {name!r} in {assignments_dir()}; the "
                              f"shipped ones are: {', '.join(known) or 'none'}")
    return checks


def load_checks(path: str | os.PathLike[str]) -> Checks:
    """Import and validate a ``checks.py``; raise :class:`InstructorError` for any problem."""
    shown = os.fspath(path)
    file = Path(shown).resolve()
    if not file.is_file():
        raise InstructorError(f"no checks file at {shown!r}")
    name = f"_minigrad_checks_{abs(hash(str(file)))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise InstructorError(f"cannot import {shown!r} (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except BaseException as e:  # noqa: BLE001 - whatever it is, it is the instructor's
        sys.modules.pop(name, None)
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == str(file)]
        where = f" (line {frames[-1].lineno})" if frames else ""
        raise InstructorError(f"{shown} does not import{where}: {type(e).__name__}: "
                              f"{e}") from e
    grader = getattr(module, "GRADER", None)
    if not isinstance(grader, Grader):
        raise InstructorError(f"{shown} must define GRADER = Grader(title) at module level "
                              f"(found {type(grader).__name__})")
    submission = getattr(module, "SUBMISSION", None)
    if (not isinstance(submission, str) or not submission.endswith(".py")
            or os.path.basename(submission) != submission):
        raise InstructorError(f"{shown} must define SUBMISSION, the file name students hand in "
                              f"(e.g. SUBMISSION = \"gru.py\"); found {submission!r}")
    solution = getattr(module, "SOLUTION", None)
    problems = grader.problems()
    for key, value in vars(module).items():
        if isinstance(value, Reference) and (value.outputs or value.grads):
            problems.append(f"{shown} holds the expected values of a reference file at import "
                            f"({key}): every test process would have them in memory while the "
                            "student's code runs; load them inside the tests (see "
                            "check_against_reference, or load_reference(expected=False))")
    if problems:
        raise InstructorError("\n".join(problems))
    return Checks(file, module, grader, submission,
                  Path(solution) if solution is not None else None)
