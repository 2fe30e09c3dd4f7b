"""``mg.testing``: checks for graders, students and minigrad's own tests.

- :func:`assert_close`: tensors/arrays/numbers close, with a message that shows shapes, dtypes,
  devices, the number of mismatches and the worst element with both values.
- :func:`record_reference` / :func:`write_reference` / :func:`check_against_reference`: save
  a function's inputs, outputs and gradients to a small ``.npz`` (no pickle), and check
  another implementation against it, on any device; :func:`save_references` /
  :func:`load_references` keep many named references in one file (a bundle).
- :func:`check_gradients`: backward vs finite differences, input by input, as a report.
- :mod:`minigrad.testing.grading`: graded tests with partial credit and a Gradescope-style
  JSON report; ``python -m minigrad.testing.grade`` grades a submission against an
  assignment's ``checks.py``, each test in its own process (:mod:`minigrad.testing.sandbox`);
  ``python -m minigrad.testing.template`` writes a student template from a marked solution.
- :mod:`minigrad.testing.pytest_plugin`: ``device``, ``seed`` and ``rng`` fixtures (opt in
  with ``pytest_plugins = ["minigrad.testing.pytest_plugin"]``; it needs pytest, this package
  does not).
"""

from minigrad.testing.compare import DEFAULT_TOLERANCES, assert_close, default_tolerances
from minigrad.testing.gradients import GradientReport, InputGradient, check_gradients
from minigrad.testing.grading import Grader, GradeReport, Partial, load_submission
from minigrad.testing.reference import (
    Check,
    Reference,
    ReferenceFileError,
    ReferenceMismatch,
    ReferenceReport,
    check_against_reference,
    load_reference,
    load_references,
    make_inputs,
    record_reference,
    save_references,
    write_reference,
)

__all__ = [
    "DEFAULT_TOLERANCES", "Check", "GradeReport", "Grader", "GradientReport", "InputGradient",
    "Partial", "Reference", "ReferenceFileError", "ReferenceMismatch", "ReferenceReport",
    "assert_close", "check_against_reference", "check_gradients", "default_tolerances",
    "load_reference", "load_references", "load_submission", "make_inputs", "record_reference",
    "save_references", "write_reference",
]
