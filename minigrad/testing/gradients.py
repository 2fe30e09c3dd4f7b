"""``check_gradients``: is a backward right? Finite differences, input by input, element by element.

:func:`minigrad.autograd.gradcheck` answers yes or no (raising at the worst element). This
helper is for graders and students: it checks *every* input that requires grad and returns a
:class:`GradientReport` that says, for each one, whether it passed and, if not, which element
disagrees most, with both values.

What is compared: for a fixed random upstream gradient ``u_k`` per output, the scalar
``L(x) = sum_k sum(out_k * u_k)``. Backward gives dL/dx in one pass; central differences
``(L(x + eps e_j) - L(x - eps e_j)) / (2 eps)`` give it element by element (two forward calls
per input element, so keep inputs small). Inputs are checked in float64: floating inputs that
require grad are copied to float64 first, whatever their dtype.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from minigrad import backend
from minigrad.autograd.grad_mode import no_grad
from minigrad.autograd.gradcheck import GradcheckError
from minigrad.creation import tensor as make_tensor
from minigrad.tensor import Tensor
from minigrad.testing.reference import vjp


@dataclass
class InputGradient:
    """How the gradient of one input compares with finite differences."""

    name: str  # "input 0" or "input 'x'"
    shape: tuple[int, ...]
    passed: bool
    message: str = ""
    worst_index: tuple[int, ...] | None = None  # the element that disagrees most
    analytical: float | None = None  # backward's value there
    numerical: float | None = None  # finite differences' value there
    max_abs_error: float = 0.0
    analytical_grad: np.ndarray | None = field(default=None, repr=False)
    numerical_grad: np.ndarray | None = field(default=None, repr=False)


@dataclass
class GradientReport:
    """The result of :func:`check_gradients`: one :class:`InputGradient` per checked input."""

    inputs: list[InputGradient] = field(default_factory=list)
    error: str | None = None  # set when nothing could be compared (e.g. backward raised)

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.inputs)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def failures(self) -> list[InputGradient]:
        return [r for r in self.inputs if not r.passed]

    def fraction(self) -> float:
        """The share of inputs whose gradient passed (0 if nothing could be compared)."""
        if self.error is not None or not self.inputs:
            return 0.0
        return sum(r.passed for r in self.inputs) / len(self.inputs)

    def summary(self) -> str:
        if self.error is not None:
            return f"gradient check failed: {self.error}"
        if self.passed:
            return (f"gradients of all {len(self.inputs)} input(s) match finite differences")
        lines = [f"gradient check failed for {len(self.failures)} of {len(self.inputs)} "
                 "input(s):"]
        lines += [f"- {r.name}: {r.message}" for r in self.failures]
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.passed:
            raise GradcheckError(self.summary())

    def __repr__(self) -> str:
        return f"GradientReport({self.summary()!r})"


def check_gradients(fn: Callable[..., Any], inputs: Sequence[Any] | Mapping[str, Any], *,
                    eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, seed: int = 0,
                    raise_exception: bool = False) -> GradientReport:
    """Compare ``fn``'s backward with finite differences for every input that requires grad.

    Args:
        fn: a function of Tensors returning a Tensor or a tuple/list/dict of Tensors.
        inputs: a list (``fn(*inputs)``) or dict (``fn(**inputs)``, inputs named by key) of
            Tensors, arrays or numbers; Tensors with ``requires_grad=True`` are checked (as
            float64 copies: the originals are not changed).
        eps: the finite-difference step.
        atol, rtol: an element passes when ``|backward - numerical| <= atol + rtol *
            |numerical|``.
        seed: seeds the random upstream gradients.
        raise_exception: raise :class:`minigrad.autograd.GradcheckError` with the summary
            when a check fails (default: just return the report).

    Returns:
        A :class:`GradientReport`; it is truthy when everything passed, and ``str(report)``
        names each failing input, its worst element, and both values.

    Example::

        >>> import minigrad as mg
        >>> from minigrad.testing import check_gradients
        >>> x = mg.randn(3, requires_grad=True)
        >>> check_gradients(lambda x: (x * x).sum(), [x]).passed
        True
    """
    keyword = isinstance(inputs, Mapping)
    names = [str(k) for k in inputs] if keyword else [str(i) for i in range(len(inputs))]
    values = list(inputs.values()) if keyword else list(inputs)
    args: list[Any] = []
    checked: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, Tensor) and v.requires_grad:
            v = make_tensor(backend.to_host(v.data), dtype=np.float64, device=v.device,
                            requires_grad=True)
            checked.append(i)
        args.append(v)
    label = {i: (f"input {names[i]!r}" if keyword else f"input {i}") for i in checked}
    report = GradientReport()
    if not checked:
        report.error = "no input requires grad: create them with requires_grad=True"
        return _done(report, raise_exception)

    def call() -> dict[str, Any]:
        out = fn(**dict(zip(names, args))) if keyword else fn(*args)
        if isinstance(out, Mapping):
            return {str(k): v for k, v in out.items()}
        if isinstance(out, (list, tuple)):
            return {str(k): v for k, v in enumerate(out)}
        return {"output": out}

    outs = {k: o for k, o in call().items() if isinstance(o, Tensor) and o.dtype.kind == "f"}
    rng = np.random.default_rng(seed)
    upstream = {k: rng.standard_normal(o.shape) for k, o in outs.items()}
    diff_outs = [k for k, o in outs.items() if o.requires_grad]
    if not diff_outs:
        report.error = ("no output requires grad: the result does not depend on the inputs "
                        "through the graph (was it computed with .data, .numpy(), NumPy, "
                        "detach() or under mg.no_grad()?)")
        return _done(report, raise_exception)
    try:
        grads = vjp([outs[k] for k in diff_outs],
                    [make_tensor(upstream[k], dtype=outs[k].dtype, device=outs[k].device)
                     for k in diff_outs], [args[i] for i in checked])
    except Exception as e:  # the backward under test failed: that is the finding
        report.error = f"backward raised {type(e).__name__}: {e}"
        return _done(report, raise_exception)

    def loss() -> float:
        with no_grad():
            res = call()
        return float(sum(np.sum(backend.to_host(res[k].data).astype(np.float64) * upstream[k])
                         for k in upstream))

    for i, g in zip(checked, grads):
        x = args[i]
        flat = x.data.reshape(-1)  # a view: writing to it perturbs the input in place
        numerical = np.zeros(x.data.size)
        for j in range(x.data.size):
            orig = float(flat[j])
            flat[j] = orig + eps
            plus = loss()
            flat[j] = orig - eps
            minus = loss()
            flat[j] = orig
            numerical[j] = (plus - minus) / (2 * eps)
        numerical = numerical.reshape(x.shape)
        report.inputs.append(_compare(label[i], g, numerical, atol, rtol))
    return _done(report, raise_exception)


def _compare(name: str, g: Tensor | None, numerical: np.ndarray, atol: float,
             rtol: float) -> InputGradient:
    shape = tuple(numerical.shape)
    if g is None:
        if np.all(np.abs(numerical) <= atol):
            return InputGradient(name, shape, True, numerical_grad=numerical)
        idx = np.unravel_index(int(np.argmax(np.abs(numerical))), shape)
        return InputGradient(
            name, shape, False,
            f"backward gives no gradient (None), but the output depends on it: finite "
            f"differences give {numerical[idx]:.6g} at element {_idx(idx)}. Is it detached "
            "or used through .data / .numpy() / NumPy?", _idx(idx), None,
            float(numerical[idx]), float(np.abs(numerical).max()), None, numerical)
    analytical = backend.to_host(g.data).astype(np.float64)
    if analytical.shape != numerical.shape:
        return InputGradient(name, shape, False, f"backward gives a gradient of shape "
                             f"{analytical.shape} for an input of shape {shape}")
    err = np.abs(analytical - numerical)
    excess = np.where(np.isnan(err), np.inf, err - (atol + rtol * np.abs(numerical)))
    if excess.size == 0 or excess.max() <= 0:
        return InputGradient(name, shape, True, max_abs_error=float(err.max(initial=0.0)),
                             analytical_grad=analytical, numerical_grad=numerical)
    idx = np.unravel_index(int(np.argmax(excess)), shape)
    n_bad = int((excess > 0).sum())
    msg = (f"{n_bad} of {err.size} element(s) disagree; worst at element {_idx(idx)}: "
           f"backward gives {analytical[idx]:.8g}, finite differences give "
           f"{numerical[idx]:.8g} (atol={atol:g}, rtol={rtol:g})")
    scale = _scale(analytical, numerical)
    if scale is not None and np.allclose(analytical, scale * numerical, rtol=rtol, atol=atol):
        msg += (f"; backward is {scale:.4g} times the right gradient everywhere (a wrong sign "
                "or a missing or extra constant factor?)")
    elif analytical.ndim == 2 and analytical.shape[0] == analytical.shape[1] and np.allclose(
            analytical, numerical.T, rtol=rtol, atol=atol):
        msg += "; backward gives the transpose of the right gradient"
    return InputGradient(name, shape, False, msg, _idx(idx), float(analytical[idx]),
                         float(numerical[idx]), float(np.nanmax(err, initial=0.0)),
                         analytical, numerical)


def _scale(analytical: np.ndarray, numerical: np.ndarray) -> float | None:
    """The c with analytical ~= c * numerical (least squares), or None if there is none."""
    norm = float(np.sum(numerical * numerical))
    if norm == 0 or not np.all(np.isfinite(analytical)):
        return None
    c = float(np.sum(analytical * numerical)) / norm
    return None if abs(c - 1) < 1e-3 or abs(c) < 1e-3 else c


def _idx(index: tuple) -> tuple[int, ...]:
    return tuple(int(i) for i in index)


def _done(report: GradientReport, raise_exception: bool) -> GradientReport:
    if raise_exception:
        report.raise_if_failed()
    return report


__all__ = ["GradientReport", "InputGradient", "check_gradients"]
