"""``assert_close``: compare tensors, arrays and numbers, with a message a student can act on.

The rule is NumPy's and PyTorch's: ``|actual - expected| <= atol + rtol * |expected|``,
elementwise, with default tolerances that depend on the dtype (those of
``torch.testing.assert_close``). What fails is reported in the order a student should fix it:
the structure (a missing output), then the shape, the dtype and the device, and only then the
values: how many elements are off, the worst one with both values and its index, and the
largest absolute and relative differences.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor

#: dtype -> (rtol, atol), as ``torch.testing.assert_close``; other dtypes compare exactly.
DEFAULT_TOLERANCES: dict[np.dtype, tuple[float, float]] = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}


def default_tolerances(*dtypes: Any) -> tuple[float, float]:
    """The (rtol, atol) for comparing values of these dtypes: the loosest among them."""
    pairs = [DEFAULT_TOLERANCES.get(np.dtype(d), (0.0, 0.0)) for d in dtypes if d is not None]
    if not pairs:
        return 0.0, 0.0
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


class _Value:
    """One side of a comparison, on the host: values, and dtype/device where it has them."""

    __slots__ = ("array", "dtype", "device", "kind")

    def __init__(self, x: Any) -> None:
        if isinstance(x, Tensor):
            self.array = backend.to_host(x.data)
            self.dtype, self.device, self.kind = x.dtype, str(x.device), "tensor"
        elif isinstance(x, np.ndarray):  # host values: compared whatever the other's device
            self.array, self.dtype, self.device, self.kind = x, x.dtype, None, "array"
        elif backend.is_array(x):
            self.array = backend.to_host(x)
            self.dtype, self.device, self.kind = x.dtype, str(backend.device_of(x)), "array"
        elif isinstance(x, np.generic):
            self.array = np.asarray(x)
            self.dtype, self.device, self.kind = x.dtype, None, "array"
        elif isinstance(x, (bool, int, float, complex)) or _is_nested_numbers(x):
            # Python numbers (and lists of them) take the other side's dtype
            self.array = np.asarray(x)
            self.dtype, self.device, self.kind = None, None, "number"
        else:
            raise TypeError(f"assert_close compares Tensors, NumPy/CuPy arrays and numbers "
                            f"(or lists, tuples and dicts of them), got {type(x).__name__}")


def _is_nested_numbers(x: Any) -> bool:
    if isinstance(x, (list, tuple)):
        return len(x) > 0 and all(_is_nested_numbers(v) for v in x)
    return isinstance(x, (bool, int, float, complex, np.generic))


def _is_container(x: Any) -> bool:
    return isinstance(x, Mapping) or (isinstance(x, (list, tuple))
                                      and not _is_nested_numbers(x))


def assert_close(actual: Any, expected: Any, rtol: float | None = None,
                 atol: float | None = None, *, equal_nan: bool = False,
                 check_dtype: bool = True, check_device: bool = True,
                 name: str | None = None) -> None:
    """Assert that ``actual`` and ``expected`` are close, elementwise.

    ``actual`` and ``expected`` may be Tensors (of any device), NumPy or CuPy arrays, Python or
    NumPy numbers, nested lists of numbers, or lists/tuples/dicts of all of these (compared
    item by item). Values match when ``|actual - expected| <= atol + rtol * |expected|``;
    integer and bool values must be equal. Infinities match only the same infinity, and NaN
    matches nothing (not even NaN, unless ``equal_nan``), whatever the tolerances.

    Args:
        rtol, atol: tolerances. By default they depend on the dtype, as in
            ``torch.testing.assert_close``: float32 ``rtol=1.3e-6, atol=1e-5``, float64
            ``1e-7, 1e-7``, float16 ``1e-3, 1e-5``; integers and bools exactly. Give one
            and the other keeps its default.
        equal_nan: count NaN == NaN as a match.
        check_dtype: shapes always must match; dtypes too unless False. A Python number or
            list takes the other side's dtype.
        check_device: when both sides have a device (Tensors, CuPy arrays), they must agree.
            A NumPy array as ``expected`` means "these values", whatever the device.
        name: what is compared, used to start the message (``"gradient of input 'x'"``).

    Raises:
        AssertionError: naming the first problem: structure, shape, dtype, device, or
            values (number of mismatches, worst element with index and both values, largest
            absolute and relative differences).

    Example::

        >>> import minigrad as mg
        >>> from minigrad.testing import assert_close
        >>> assert_close(mg.tensor([1.0, 2.0]) * 3, [3.0, 6.0])
    """
    for arg, value in (("rtol", rtol), ("atol", atol)):
        # a negative or NaN tolerance would fail every comparison, an infinite one pass any
        if value is not None and (isinstance(value, bool) or not isinstance(value, Real)
                                  or not 0 <= value < float("inf")):
            raise ValueError(f"assert_close: {arg} must be a finite number >= 0, got {value!r}")
    _compare(actual, expected, None if rtol is None else float(rtol),
             None if atol is None else float(atol), equal_nan, check_dtype, check_device,
             name or "")


def _compare(actual: Any, expected: Any, rtol: float | None, atol: float | None,
             equal_nan: bool, check_dtype: bool, check_device: bool, where: str) -> None:
    if _is_container(actual) or _is_container(expected):
        _compare_containers(actual, expected, rtol, atol, equal_nan, check_dtype,
                            check_device, where)
        return
    a, e = _Value(actual), _Value(expected)
    msg = _mismatch(a, e, rtol, atol, equal_nan, check_dtype, check_device)
    if msg is not None:
        raise AssertionError(f"{where}: {msg}" if where else msg)


def _compare_containers(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                        equal_nan: bool, check_dtype: bool, check_device: bool,
                        where: str) -> None:
    label = where or "value"
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            raise AssertionError(f"{label}: expected a dict with keys {list(expected)}, got "
                                 f"{type(actual).__name__}")
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            raise AssertionError(f"{label}: keys differ: missing {missing}, unexpected {extra}")
        for k in expected:
            _compare(actual[k], expected[k], rtol, atol, equal_nan, check_dtype, check_device,
                     f"{where}[{k!r}]")
        return
    if not isinstance(expected, (list, tuple)) or not isinstance(actual, (list, tuple)):
        raise AssertionError(f"{label}: expected {_describe(expected)}, got "
                             f"{_describe(actual)}")
    if len(actual) != len(expected):
        raise AssertionError(f"{label}: expected {len(expected)} items, got {len(actual)}")
    for i, (x, y) in enumerate(zip(actual, expected)):
        _compare(x, y, rtol, atol, equal_nan, check_dtype, check_device, f"{where}[{i}]")


def _describe(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)} items"
    if isinstance(x, Tensor) or backend.is_array(x):
        return f"a {'tensor' if isinstance(x, Tensor) else 'array'} of shape {tuple(x.shape)}"
    return type(x).__name__


def _mismatch(a: _Value, e: _Value, rtol: float | None, atol: float | None, equal_nan: bool,
              check_dtype: bool, check_device: bool) -> str | None:
    """None if the two sides match, else what is wrong, most fundamental problem first."""
    if a.array.shape != e.array.shape:
        return (f"shape mismatch: actual has shape {a.array.shape}, expected "
                f"{e.array.shape}{_shape_hint(a.array.shape, e.array.shape)}")
    if check_dtype and a.dtype is not None and e.dtype is not None and a.dtype != e.dtype:
        return (f"dtype mismatch: actual is {a.dtype}, expected {e.dtype}"
                f"{_dtype_hint(a.dtype, e.dtype)}")
    if check_device and a.device is not None and e.device is not None and a.device != e.device:
        return (f"device mismatch: actual is on {a.device}, expected on {e.device} (move it "
                f"with .to('{e.device}'))")
    dtype = a.dtype if a.dtype is not None else e.dtype
    dtype = np.result_type(a.array, e.array) if dtype is None else dtype
    default = default_tolerances(a.dtype, e.dtype) if (a.dtype, e.dtype) != (None, None) else (
        default_tolerances(dtype))
    rtol = default[0] if rtol is None else rtol
    atol = default[1] if atol is None else atol
    return _value_mismatch(a.array, e.array, rtol, atol, equal_nan, np.dtype(dtype))


def _shape_hint(actual: tuple, expected: tuple) -> str:
    if actual == expected[::-1] and len(actual) > 1:
        return " (the same dimensions in reverse order: a missing or extra transpose?)"
    if [d for d in actual if d != 1] == [d for d in expected if d != 1]:
        return (" (they differ only in dimensions of size 1: a missing or extra "
                "squeeze/unsqueeze, or keepdim?)")
    if int(np.prod(actual)) == int(np.prod(expected)):
        return " (the same number of elements: a reshape, view or permute in the wrong order?)"
    try:
        if np.broadcast_shapes(actual, expected) == actual:
            return (" (expected broadcasts to actual's shape: did broadcasting expand a "
                    "result that should have been summed or kept smaller?)")
    except ValueError:
        pass
    return ""


def _dtype_hint(actual: np.dtype, expected: np.dtype) -> str:
    if actual.kind == "f" and expected.kind == "f":
        return (f" (floating types differ: convert with .to(mg.{expected}), or find where "
                f"{actual} came in, e.g. a NumPy array or a tensor created with another dtype)")
    if expected.kind == "f":
        return f" (an integer or bool result where a {expected} one was expected)"
    return ""


def _value_mismatch(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
                    equal_nan: bool, dtype: np.dtype) -> str | None:
    if expected.size == 0:
        return None
    exact = dtype.kind in "biuU" or (rtol == 0 and atol == 0)
    if dtype.kind in "bU":
        bad = actual != expected
        err = bad.astype(np.float64)
    else:
        work = np.complex128 if dtype.kind == "c" else np.float64
        a, e = actual.astype(work), expected.astype(work)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs(a - e)
            ok = (a == e) | (err <= atol + rtol * np.abs(e))
            # an infinity matches only the same infinity: rtol * |inf| = inf would otherwise
            # let any finite value (and the opposite infinity) pass
            ok &= ~(np.isinf(a) | np.isinf(e)) | (a == e)
        if equal_nan:
            ok |= np.isnan(a) & np.isnan(e)
        bad = ~ok
    if not bad.any():
        return None
    n_bad, n = int(bad.sum()), bad.size
    tol_text = "exact match" if exact else f"rtol={rtol:g}, atol={atol:g}"
    lines = [f"values are not close ({dtype}, {tol_text})",
             f"mismatched elements: {n_bad} / {n} ({100.0 * n_bad / n:.1f}%)"]
    if dtype.kind in "bU":
        idx = _first(bad)
        lines.append(f"first mismatch at index {idx}: actual {_fmt(actual[idx])}, expected "
                     f"{_fmt(expected[idx])}")
        return "\n  ".join(lines)
    a_nan, e_nan = np.isnan(a), np.isnan(e)
    # the worst element: the one that exceeds its tolerance the most (NaN and inf first)
    with np.errstate(invalid="ignore", over="ignore"):
        excess = np.where(np.isnan(err), np.inf, err - (atol + rtol * np.abs(e)))
    excess = np.where(bad, excess, -np.inf)
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape)
    lines.append(f"worst element at index {_idx(worst)}: actual {_fmt(actual[worst])}, "
                 f"expected {_fmt(expected[worst])}")
    finite = ~np.isnan(err)
    if finite.any():
        abs_err = np.where(finite, err, -np.inf)
        i_abs = np.unravel_index(int(np.argmax(abs_err)), err.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(np.abs(e) > 0, err / np.abs(e), np.where(err == 0, 0.0, np.inf))
        rel = np.where(finite, rel, -np.inf)
        i_rel = np.unravel_index(int(np.argmax(rel)), rel.shape)
        lines.append(f"greatest absolute difference: {float(err[i_abs]):.3g} at index "
                     f"{_idx(i_abs)}")
        lines.append(f"greatest relative difference: {float(rel[i_rel]):.3g} at index "
                     f"{_idx(i_rel)}")
    for side, nan in (("actual", a_nan), ("expected", e_nan)):
        if nan.any() and not (equal_nan and np.array_equal(a_nan, e_nan)):
            lines.append(f"{side} has {int(nan.sum())} NaN value(s), the first at index "
                         f"{_first(nan)}")
    return "\n  ".join(lines)


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return _idx(tuple(np.argwhere(mask)[0])) if mask.ndim else ()


def _idx(index: tuple) -> tuple[int, ...]:
    return tuple(int(i) for i in index)


def _fmt(v: Any) -> str:
    v = np.asarray(v).reshape(()).item()
    return f"{v:.10g}" if isinstance(v, float) else repr(v)


__all__ = ["DEFAULT_TOLERANCES", "assert_close", "default_tolerances"]
