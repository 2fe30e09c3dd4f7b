"""Making tensors: from data (``mg.tensor``) and from factories (``zeros``, ``randn``, ...)."""

from __future__ import annotations

import operator
from typing import Any, Sequence

import numpy as np

from minigrad import backend, dtypes
from minigrad.ops import shape as shape_ops
from minigrad.tensor import Tensor, _iterable_of_tensors, _make


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False,
           device: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (number, nested list, NumPy/CuPy array, Tensor).

    >>> mg.tensor([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return _make(array)


def _factory(fill: Any, shape: Sequence[Any], dtype: Any, device: Any,
             requires_grad: bool) -> Tensor:
    shape = _shape(shape)
    dt = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    dev = backend.device(device)
    data = fill(dev.xp, shape, dt) if dev.type == "cpu" else _on(dev, fill, shape, dt)
    t = _make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _on(dev: backend.Device, fill: Any, shape: tuple, dt: Any) -> Any:
    cp = dev.xp
    with cp.cuda.Device(dev.index):
        return fill(cp, shape, dt)


def _size(n: Any) -> int:
    """One dimension: an int (Python's or NumPy's); 2.5 and True are refused, not rounded."""
    if isinstance(n, bool):
        raise TypeError(f"{n!r} is not a size")
    return operator.index(n)


def _shape(shape: Sequence[Any]) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    try:
        out = tuple(_size(s) for s in shape)
    except TypeError:
        raise TypeError(f"a shape must be integers, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise ValueError(f"negative dimension in shape {out}")
    return out


def zeros(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``mg.zeros(2, 3)`` or ``mg.zeros((2, 3))``."""
    return _factory(lambda xp, s, d: xp.zeros(s, d), shape, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _factory(lambda xp, s, d: xp.ones(s, d), shape, dtype, device, requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (fill it before reading)."""
    return _factory(lambda xp, s, d: xp.empty(s, d), shape, dtype, device, requires_grad)


def full(shape: Sequence[int] | int, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as PyTorch)."""
    if dtype is None:
        dtype = (dtypes.bool_ if isinstance(fill_value, bool) else dtypes.int64
                 if isinstance(fill_value, int) else None)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _factory(lambda xp, s, d: xp.full(s, fill_value, d), shape, dtype, device,
                    requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Samples from the standard normal distribution (repeatable after ``mg.manual_seed``)."""
    dev = backend.device(device)

    def fill(xp: Any, s: tuple, d: Any) -> Any:
        return backend.generator(dev).standard_normal(s).astype(d)

    return _factory(fill, shape, dtype, dev, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Samples from the uniform distribution on [0, 1)."""
    dev = backend.device(device)

    def fill(xp: Any, s: tuple, d: Any) -> Any:
        return backend.generator(dev).random(s).astype(d)

    return _factory(fill, shape, dtype, dev, requires_grad)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), dtype: Any = None,
            device: Any = None) -> Tensor:
    """Random integers in [low, high) (int64 by default)."""
    if high is None:
        low, high = 0, low
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in (low, high)):  # ints only, as PyTorch
        raise TypeError(f"randint: low and high must be ints, got low={low!r}, high={high!r}")
    if not low < high:  # as PyTorch; NumPy's message would not name the arguments
        raise ValueError(f"randint: low must be less than high (values are drawn from "
                         f"[low, high)), got low={low}, high={high}")
    dev = backend.device(device)

    def fill(xp: Any, s: tuple, d: Any) -> Any:
        return backend.generator(dev).integers(low, high, s).astype(d)

    return _factory(fill, tuple(size), dtype or dtypes.int64, dev, False)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """``[start, start + step, ...)`` up to ``end``; int64 when all arguments are ints."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError(f"arange: step must be nonzero, got {step!r}")
    if (end - start) * step < 0:  # PyTorch refuses a range that the step walks away from
        raise ValueError(f"arange: the step {step!r} goes away from end ({start!r} to {end!r}): "
                         "use a step of the other sign, or swap start and end")
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    dev = backend.device(device)
    t = _make(backend.to_device(np.arange(start, end, step, dtype=dtypes.to_dtype(dtype)), dev))
    return t.requires_grad_(True) if requires_grad else t


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The n x m identity matrix."""
    return _factory(lambda xp, s, d: xp.eye(s[0], s[1], dtype=d), (n, n if m is None else m),
                    dtype, device, requires_grad)


def _like(fn: Any, t: Tensor, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    return fn(*t.shape, dtype=dtype or t.dtype, device=device or t.device,
              requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape (and dtype and device unless given)."""
    return _like(zeros, t, dtype, device, requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape (and dtype and device unless given)."""
    return _like(ones, t, dtype, device, requires_grad)


def randn_like(t: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Standard normal samples with ``t``'s shape."""
    return _like(randn, t, dtype, device, requires_grad)


def full_like(t: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``t``'s shape."""
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim``."""
    return shape_ops.cat(_promote_all(_iterable_of_tensors(tensors, "cat")), dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    return shape_ops.stack(_promote_all(_iterable_of_tensors(tensors, "stack")), dim)


def _promote_all(ts: list[Tensor]) -> list[Tensor]:
    dt = ts[0].dtype
    for t in ts[1:]:
        if t.dtype != dt:
            dt = dtypes.result_type(_Meta(dt), t.data)
    return [t if t.dtype == dt else t.to(dt) for t in ts]


class _Meta:
    ndim = 1

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype
