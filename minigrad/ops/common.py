"""The handful of helpers backward rules use besides arithmetic operators.

Backward rules are written with ``+ - * / @``, array methods that Tensors share
(``.sum(axis=..., keepdims=...)``, ``.reshape``) and these helpers, never with raw ``np.``
calls, so the same rule can later run on Tensors (for gradients of gradients).
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.autograd.graph import TensorBase as Tensor
from minigrad.autograd.graph import make

xp_of = backend.get_array_module


def shape_of(x: Any) -> tuple | None:
    """The shape of an array operand; None for a Python number (which gets no gradient)."""
    return getattr(x, "shape", None)


def unbroadcast(g: Any, shape: tuple | None) -> Any:
    """Sum ``g`` over the dimensions that broadcasting added or stretched, back to ``shape``.

    If ``z = x + y`` broadcast ``x`` of shape (3, 1) to (2, 3, 4), then dL/dx is dL/dz summed
    over axis 0 (added) and axis 2 (stretched from 1).
    """
    if shape is None:
        return None
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes)
    return g.reshape(shape)


def expand_reduced(g: Any, shape: tuple, axis: tuple | None, keepdims: bool) -> Any:
    """Undo a reduction's shape: put back the reduced axes (size 1) and broadcast to ``shape``."""
    if not keepdims and axis is not None and len(shape) != g.ndim:
        g = g.reshape(reduced_shape(shape, axis))
    elif axis is None and not keepdims:
        g = g.reshape((1,) * len(shape))
    return broadcast_to(g, shape)


def reduced_shape(shape: tuple, axis: tuple | None) -> tuple:
    """``shape`` with the reduced axes kept as size 1 (what ``keepdims=True`` gives)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def normalize_axis(axis: Any, ndim: int, name: str = "dim") -> tuple | None:
    """PyTorch-style ``dim`` (None, int, negative int or tuple) as a sorted tuple of axes."""
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, int):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {a!r}")
        n = max(ndim, 1)
        if not -n <= a < n:
            raise IndexError(f"{name} {a} is out of range for a tensor with {ndim} "
                             f"dimension(s) (expected in [{-n}, {n - 1}])")
        out.append(a % n)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} {axis} repeats an axis")
    return tuple(sorted(out))


def broadcast_to(g: Any, shape: tuple) -> Any:
    if isinstance(g, Tensor):
        return g.expand(*shape)
    return xp_of(g).broadcast_to(g, shape)


def permute(g: Any, axes: tuple) -> Any:
    return g.permute(*axes) if isinstance(g, Tensor) else g.transpose(axes)


def swap_last(g: Any) -> Any:
    """Swap the last two axes (the matrix transpose of a batch of matrices)."""
    return g.transpose(-2, -1) if isinstance(g, Tensor) else g.swapaxes(-1, -2)


def where(cond: Any, a: Any, b: Any) -> Any:
    if isinstance(a, Tensor) or isinstance(b, Tensor):  # Tensor.where(condition, other)
        like = a if isinstance(a, Tensor) else b
        if not isinstance(a, Tensor):
            a = make(xp_of(like.data).asarray(a, dtype=like.data.dtype))
        return a.where(cond, b)
    cond = cond.data if isinstance(cond, Tensor) else cond
    return xp_of(cond).where(cond, a, b)


def sign(x: Any) -> Any:
    return x.sign() if isinstance(x, Tensor) else xp_of(x).sign(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else xp_of(x).log(x)


def cast(g: Any, dtype: Any) -> Any:
    return g.to(dtype) if isinstance(g, Tensor) else g.astype(dtype)


def as_array(y: Any) -> Any:
    """NumPy turns 0-d results into NumPy scalars; tensors always hold arrays."""
    return backend.ensure_array(y)

