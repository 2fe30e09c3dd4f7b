"""The graded tests of the softplus assignment (the instructor guide's worked example)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np

import minigrad as mg
from minigrad.testing import Partial, check_against_reference, check_gradients
from minigrad.testing.grading import Grader, device

GRADER = Grader("softplus assignment", timeout=30)
SUBMISSION = "softplus.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION
REFERENCE = Path(__file__).resolve().parent / "references" / "softplus.npz"


@GRADER.test("forward matches the reference (|x| up to 700)", points=2)
def forward(sub: ModuleType) -> None:
    check_against_reference(sub.softplus, REFERENCE, device=device(), check_grads=False)


@GRADER.test("backward matches the reference", points=2)
def backward(sub: ModuleType) -> Partial | None:
    report = check_against_reference(sub.softplus, REFERENCE, device=device(),
                                     raise_exception=False)
    fraction = report.fraction("gradient")
    return None if fraction == 1 else Partial(fraction, report.summary("gradient"))


@GRADER.test("backward agrees with finite differences", points=1)
def finite_differences(sub: ModuleType) -> None:
    x = mg.tensor(np.random.default_rng(1).standard_normal((3, 4)), dtype=mg.float64,
                  device=device(), requires_grad=True)
    check_gradients(sub.softplus, [x], raise_exception=True)
