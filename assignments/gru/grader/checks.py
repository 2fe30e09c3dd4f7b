"""The graded tests of the GRU assignment, with their points.

Each test compares the submission with reference files recorded from PyTorch 2.13.0
(``references/*.npz``, see ``make_references.py``) or checks a property the statement asks
for. Tests are independent: one broken part costs only the points of the tests that use it.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import numpy as np

import minigrad as mg
from minigrad.testing import (
    Partial,
    assert_close,
    check_against_reference,
    check_gradients,
    load_reference,
)
from minigrad.testing.grading import Grader, GradeReport, load_submission

REFERENCES = Path(__file__).resolve().parent / "references"
IN, H = 4, 5  # the sizes of the gru_cell references
GRADER = Grader("GRU assignment", timeout=60.0)


def ref(name: str) -> Path:
    return REFERENCES / f"{name}.npz"


def _all_or_nothing(report: Any, kind: str | None = None) -> None:
    if report.fraction(kind) < 1:
        raise AssertionError(report.summary(kind))


def _partial(report: Any, kind: str | None = None) -> Partial | None:
    fraction = report.fraction(kind)
    return None if fraction == 1 else Partial(fraction, report.summary(kind))


def _randn(*shape: int, device: str, seed: int) -> mg.Tensor:
    values = np.random.default_rng(seed).standard_normal(shape)
    return mg.tensor(values, dtype=mg.float64, device=device, requires_grad=True)


@contextlib.contextmanager
def _forbid_builtin_tanh() -> Iterator[None]:
    """Make Tensor.tanh and F.tanh fail loudly while the block runs."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Tanh.forward used minigrad's built-in tanh (Tensor.tanh or "
                             "F.tanh): part 1 asks you to compute tanh yourself, e.g. from exp")

    saved = (mg.Tensor.tanh, mg.nn.functional.tanh)
    mg.Tensor.tanh, mg.nn.functional.tanh = refuse, refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        mg.Tensor.tanh, mg.nn.functional.tanh = saved  # type: ignore[method-assign]


# ----------------------------------------------------------------------------- part 1


@GRADER.test("Part 1: Tanh.forward matches torch.tanh (|x| up to 800)", points=2)
def tanh_forward(sub: ModuleType, device: str) -> None:
    report = check_against_reference(sub.tanh, ref("tanh"), device=device, check_grads=False,
                                     raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 1: Tanh.forward computes tanh itself (no Tensor.tanh)", points=1)
def tanh_own_forward(sub: ModuleType, device: str) -> None:
    x = mg.tensor([-2.0, 0.5, 3.0], device=device)
    with _forbid_builtin_tanh():
        y = sub.tanh(x)
    assert_close(y, np.tanh([-2.0, 0.5, 3.0]).astype(np.float32), name="tanh(x)")


@GRADER.test("Part 1: Tanh.backward matches PyTorch's gradient", points=2)
def tanh_backward(sub: ModuleType, device: str) -> None:
    report = check_against_reference(sub.tanh, ref("tanh"), device=device,
                                     raise_exception=False)
    _all_or_nothing(report, "gradient")


@GRADER.test("Part 1: Tanh.backward agrees with finite differences", points=1)
def tanh_finite_differences(sub: ModuleType, device: str) -> None:
    x = _randn(3, 4, device=device, seed=1)
    check_gradients(sub.tanh, [x], raise_exception=True)


# ----------------------------------------------------------------------------- part 2


@GRADER.test("Part 2: gru_cell output matches torch.nn.GRUCell", points=3)
def gru_cell_output(sub: ModuleType, device: str) -> None:
    report = check_against_reference(sub.gru_cell, ref("gru_cell"), device=device,
                                     check_grads=False, raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 2: gru_cell gradients match PyTorch (x, h, weights, biases)", points=4)
def gru_cell_gradients(sub: ModuleType, device: str) -> Partial | None:
    report = check_against_reference(sub.gru_cell, ref("gru_cell"), device=device,
                                     raise_exception=False)
    return _partial(report, "gradient")


@GRADER.test("Part 2: gru_cell without biases (bias_ih = bias_hh = None)", points=1)
def gru_cell_nobias(sub: ModuleType, device: str) -> None:
    report = check_against_reference(sub.gru_cell, ref("gru_cell_nobias"), device=device,
                                     raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 2: gru_cell uses your Tanh", points=1)
def gru_cell_uses_tanh(sub: ModuleType, device: str) -> None:
    original = sub.Tanh.__dict__["forward"]
    calls: list[int] = []

    def counting(ctx: Any, *args: Any) -> Any:
        calls.append(1)
        return original.__func__(ctx, *args)

    sub.Tanh.forward = staticmethod(counting)
    try:
        check_against_reference(sub.gru_cell, ref("gru_cell"), device=device,
                                check_grads=False, raise_exception=False)
    finally:
        sub.Tanh.forward = original
    assert calls, ("gru_cell never calls your Tanh: compute the candidate state n with "
                   "tanh(...) from part 1")


@GRADER.test("Part 2: gru_cell gradients agree with finite differences", points=2)
def gru_cell_finite_differences(sub: ModuleType, device: str) -> Partial | None:
    inputs = {"x": _randn(2, 3, device=device, seed=2), "h": _randn(2, 2, device=device, seed=3),
              "weight_ih": _randn(6, 3, device=device, seed=4),
              "weight_hh": _randn(6, 2, device=device, seed=5),
              "bias_ih": _randn(6, device=device, seed=6),
              "bias_hh": _randn(6, device=device, seed=7)}
    report = check_gradients(sub.gru_cell, inputs)
    if report.error is not None:
        raise AssertionError(report.summary())
    return None if report.passed else Partial(report.fraction(), report.summary())


# ----------------------------------------------------------------------------- part 3


@GRADER.test("Part 3: gru_sequence outputs match torch.nn.GRU", points=2)
def gru_sequence_outputs(sub: ModuleType, device: str) -> None:
    report = check_against_reference(sub.gru_sequence, ref("gru_sequence"), device=device,
                                     check_grads=False, raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 3: gru_sequence gradients (backpropagation through time)", points=3)
def gru_sequence_gradients(sub: ModuleType, device: str) -> Partial | None:
    report = check_against_reference(sub.gru_sequence, ref("gru_sequence"), device=device,
                                     raise_exception=False)
    return _partial(report, "gradient")


# ----------------------------------------------------------------------------- part 4

PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@GRADER.test("Part 4: GRUCell parameters (names, order, shapes, initialisation)", points=2)
def gru_cell_module_parameters(sub: ModuleType, device: str) -> None:
    mg.manual_seed(0)
    cell = sub.GRUCell(IN, H)
    named = list(cell.named_parameters())
    names = [n for n, _ in named]
    assert names == list(PARAMS), (f"parameters should be {list(PARAMS)} in this order, "
                                   f"got {names}")
    shapes = {"weight_ih": (3 * H, IN), "weight_hh": (3 * H, H), "bias_ih": (3 * H,),
              "bias_hh": (3 * H,)}
    k = 1 / math.sqrt(H)
    for n, p in named:
        assert isinstance(p, mg.nn.Parameter), f"{n} should be an mg.nn.Parameter"
        assert p.shape == shapes[n], f"{n} has shape {p.shape}, expected {shapes[n]}"
        values = p.detach().numpy()
        assert np.all(np.abs(values) <= k + 1e-7), (
            f"{n} should be drawn from U(-1/sqrt(H), 1/sqrt(H)) = U({-k:.4f}, {k:.4f}); "
            f"its values range from {values.min():.4f} to {values.max():.4f}")
        assert values.std() > k / 4, (f"{n} looks constant or too narrow (std "
                                      f"{values.std():.4f}); draw it from U(-{k:.4f}, {k:.4f})")
    names = [n for n, _ in sub.GRUCell(IN, H, bias=False).named_parameters()]
    assert names == ["weight_ih", "weight_hh"], (
        f"GRUCell(bias=False) should have only weight_ih and weight_hh, got {names}")


@GRADER.test("Part 4: GRUCell loads PyTorch weights and matches torch.nn.GRUCell", points=2)
def gru_cell_module_matches(sub: ModuleType, device: str) -> Partial | None:
    ref_ = load_reference(ref("gru_cell"))
    cell = sub.GRUCell(IN, H)
    cell.load_state_dict({k: ref_.inputs[k] for k in PARAMS})
    cell.to(device)
    x = mg.tensor(ref_.inputs["x"], dtype=mg.float32, device=device)
    h = mg.tensor(ref_.inputs["h"], dtype=mg.float32, device=device)
    out = cell(x, h)
    problems = []
    # float32 parameters against float64 reference values: float32 rounding, loosely
    tol = {"rtol": 1e-4, "atol": 1e-5}
    try:
        assert_close(out, ref_.outputs["output"].astype(np.float32), name="output", **tol)
    except AssertionError as e:
        problems.append(str(e))
    out.backward(mg.tensor(ref_.grad_outputs["output"], dtype=mg.float32, device=device))
    for k in PARAMS:
        p = getattr(cell, k)
        try:
            assert p.grad is not None, f"{k}.grad is None after backward"
            assert_close(p.grad, ref_.grads[k].astype(np.float32), name=f"{k}.grad", **tol)
        except AssertionError as e:
            problems.append(str(e))
    if problems:
        return Partial(1 - len(problems) / (1 + len(PARAMS)), "\n".join(problems))
    return None


@GRADER.test("Part 4: GRUCell starts from zeros when h is None", points=1)
def gru_cell_module_default_state(sub: ModuleType, device: str) -> None:
    mg.manual_seed(0)
    cell = sub.GRUCell(IN, H).to(device)
    x = mg.randn(3, IN, device=device)
    out = cell(x)
    assert out.shape == (3, H), f"cell(x) has shape {out.shape}, expected {(3, H)}"
    assert out.device == mg.device(device), f"cell(x) is on {out.device}, expected {device}"
    assert_close(out, cell(x, mg.zeros(3, H, device=device)), name="cell(x) vs cell(x, 0)")


# ----------------------------------------------------------------------------- running


def grade(submission: str | os.PathLike[str], device: str = "cpu", only: str | None = None,
          timeout: float | None = None) -> GradeReport:
    """Grade the file ``submission`` (a gru.py, or a folder holding one) on ``device``."""
    module = load_submission(submission, module="gru.py")
    extra = {"minigrad_version": mg.__version__, "device": device}
    return GRADER.run(module, only=only, timeout=timeout, extra=extra, device=device)
