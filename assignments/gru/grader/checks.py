"""The graded tests of the GRU assignment, with their points.

Grade a submission with ``python -m minigrad.testing.grade --assignment gru --submission
gru.py``. Each test compares the submission with reference files recorded from PyTorch
2.13.0 (``references/*.npz``, see ``make_references.py``) or checks a property the statement
asks for. Tests are independent: one broken part costs only the points of the tests that use it.
"""

from __future__ import annotations

import contextlib
import math
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
from minigrad.testing.grading import Grader, device

REFERENCES = Path(__file__).resolve().parent / "references"
IN, H = 4, 5  # the sizes of the gru_cell references
GRADER = Grader("GRU assignment", timeout=60.0)
SUBMISSION = "gru.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION


def ref(name: str) -> Path:
    return REFERENCES / f"{name}.npz"


def _all_or_nothing(report: Any, kind: str | None = None) -> None:
    if report.fraction(kind) < 1:
        raise AssertionError(report.summary(kind))


def _partial(report: Any, kind: str | None = None) -> Partial | None:
    fraction = report.fraction(kind)
    return None if fraction == 1 else Partial(fraction, report.summary(kind))


def _randn(*shape: int, seed: int) -> mg.Tensor:
    values = np.random.default_rng(seed).standard_normal(shape)
    return mg.tensor(values, dtype=mg.float64, device=device(), requires_grad=True)


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
def tanh_forward(sub: ModuleType) -> None:
    report = check_against_reference(sub.tanh, ref("tanh"), device=device(), check_grads=False,
                                     raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 1: Tanh.forward computes tanh itself (no Tensor.tanh)", points=1)
def tanh_own_forward(sub: ModuleType) -> None:
    x = mg.tensor([-2.0, 0.5, 3.0], device=device())
    with _forbid_builtin_tanh():
        y = sub.tanh(x)
    assert_close(y, np.tanh([-2.0, 0.5, 3.0]).astype(np.float32), name="tanh(x)")


@GRADER.test("Part 1: Tanh.backward matches PyTorch's gradient", points=2)
def tanh_backward(sub: ModuleType) -> None:
    report = check_against_reference(sub.tanh, ref("tanh"), device=device(),
                                     raise_exception=False)
    _all_or_nothing(report, "gradient")


@GRADER.test("Part 1: Tanh.backward agrees with finite differences", points=1)
def tanh_finite_differences(sub: ModuleType) -> None:
    x = _randn(3, 4, seed=1)
    check_gradients(sub.tanh, [x], raise_exception=True)


# ----------------------------------------------------------------------------- part 2


@GRADER.test("Part 2: gru_cell output matches torch.nn.GRUCell", points=3)
def gru_cell_output(sub: ModuleType) -> None:
    report = check_against_reference(sub.gru_cell, ref("gru_cell"), device=device(),
                                     check_grads=False, raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 2: gru_cell gradients match PyTorch (x, h, weights, biases)", points=4)
def gru_cell_gradients(sub: ModuleType) -> Partial | None:
    report = check_against_reference(sub.gru_cell, ref("gru_cell"), device=device(),
                                     raise_exception=False)
    return _partial(report, "gradient")


@GRADER.test("Part 2: gru_cell without biases (bias_ih = bias_hh = None)", points=1)
def gru_cell_nobias(sub: ModuleType) -> None:
    report = check_against_reference(sub.gru_cell, ref("gru_cell_nobias"), device=device(),
                                     raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 2: gru_cell uses your Tanh", points=1)
def gru_cell_uses_tanh(sub: ModuleType) -> None:
    original = sub.Tanh.__dict__["forward"]
    calls: list[int] = []

    def counting(ctx: Any, *args: Any) -> Any:
        calls.append(1)
        return original.__func__(ctx, *args)

    sub.Tanh.forward = staticmethod(counting)
    try:
        check_against_reference(sub.gru_cell, ref("gru_cell"), device=device(),
                                check_grads=False, raise_exception=False)
    finally:
        sub.Tanh.forward = original
    assert calls, ("gru_cell never calls your Tanh: compute the candidate state n with "
                   "tanh(...) from part 1")


@GRADER.test("Part 2: gru_cell gradients agree with finite differences", points=2)
def gru_cell_finite_differences(sub: ModuleType) -> Partial | None:
    inputs = {"x": _randn(2, 3, seed=2), "h": _randn(2, 2, seed=3),
              "weight_ih": _randn(6, 3, seed=4),
              "weight_hh": _randn(6, 2, seed=5),
              "bias_ih": _randn(6, seed=6),
              "bias_hh": _randn(6, seed=7)}
    report = check_gradients(sub.gru_cell, inputs)
    if report.error is not None:
        raise AssertionError(report.summary())
    return None if report.passed else Partial(report.fraction(), report.summary())


# ----------------------------------------------------------------------------- part 3


@GRADER.test("Part 3: gru_sequence outputs match torch.nn.GRU", points=2)
def gru_sequence_outputs(sub: ModuleType) -> None:
    report = check_against_reference(sub.gru_sequence, ref("gru_sequence"), device=device(),
                                     check_grads=False, raise_exception=False)
    _all_or_nothing(report)


@GRADER.test("Part 3: gru_sequence gradients (backpropagation through time)", points=3)
def gru_sequence_gradients(sub: ModuleType) -> Partial | None:
    report = check_against_reference(sub.gru_sequence, ref("gru_sequence"), device=device(),
                                     raise_exception=False)
    return _partial(report, "gradient")


# ----------------------------------------------------------------------------- part 4

PARAMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@GRADER.test("Part 4: GRUCell parameters (names, order, shapes, initialisation)", points=2)
def gru_cell_module_parameters(sub: ModuleType) -> None:
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
def gru_cell_module_matches(sub: ModuleType) -> Partial | None:
    given = load_reference(ref("gru_cell"), expected=False)  # no expected values yet
    cell = sub.GRUCell(IN, H)
    cell.load_state_dict({k: given.inputs[k] for k in PARAMS})
    cell.to(device())
    x = mg.tensor(given.inputs["x"], dtype=mg.float32, device=device())
    h = mg.tensor(given.inputs["h"], dtype=mg.float32, device=device())
    out = cell(x, h)
    out.backward(mg.tensor(given.grad_outputs["output"], dtype=mg.float32, device=device()))
    ref_ = load_reference(ref("gru_cell"))  # the student's code has run: now compare
    problems = []
    # float32 parameters against float64 reference values: float32 rounding, loosely
    tol = {"rtol": 1e-4, "atol": 1e-5}
    try:
        assert_close(out, ref_.outputs["output"].astype(np.float32), name="output", **tol)
    except AssertionError as e:
        problems.append(str(e))
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
def gru_cell_module_default_state(sub: ModuleType) -> None:
    mg.manual_seed(0)
    cell = sub.GRUCell(IN, H).to(device())
    x = mg.randn(3, IN, device=device())
    out = cell(x)
    assert out.shape == (3, H), f"cell(x) has shape {out.shape}, expected {(3, H)}"
    assert out.device == mg.device(device()), f"cell(x) is on {out.device}, expected {device()}"
    assert_close(out, cell(x, mg.zeros(3, H, device=device())), name="cell(x) vs cell(x, 0)")
