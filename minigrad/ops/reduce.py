"""Reductions over ``axis`` (a sorted tuple of axes, or None for all). ``g`` is dL/dy."""

from __future__ import annotations

from typing import Any, NamedTuple

from minigrad.autograd.graph import Op
from minigrad.dtypes import sum_dtype
from minigrad.ops.common import as_array, expand_reduced, normalize_axis, reduced_shape, xp_of


def _count(shape: tuple, axis: tuple | None) -> int:
    n = 1
    for i, s in enumerate(shape):
        if axis is None or i in axis:
            n *= s
    return n


class Sum(Op):
    """y = sum of x over ``axis``;  dL/dx = g broadcast back over the summed axes."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return as_array(x.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return expand_reduced(g, ctx.shape, ctx.axis, ctx.keepdims), None, None


class Mean(Op):
    """y = (1/n) sum of x over ``axis``;  dL/dx = g / n broadcast back."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdims: bool) -> Any:
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return as_array(x.mean(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        n = _count(ctx.shape, ctx.axis)
        # n = 0 only when x is empty, and then so is the gradient: max() avoids a g / 0 warning
        return expand_reduced(g / max(n, 1), ctx.shape, ctx.axis, ctx.keepdims), None, None


class Var(Op):
    """y = sum (x - mean)^2 / (n - correction);  dL/dx = g * 2 (x - mean) / (n - correction)."""

    create_graph_ok = True
    save_inputs = (0,)

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, correction: int, keepdims: bool) -> Any:
        d = x - x.mean(axis=axis, keepdims=True)
        dof = _count(x.shape, axis) - correction
        ctx.dof, ctx.axis, ctx.keepdims = dof, axis, keepdims
        return as_array((d * d).sum(axis=axis, keepdims=keepdims) / max(dof, 0))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,), axis = ctx.saved_tensors, ctx.axis
        d = x - x.mean(axis=axis, keepdims=True)  # recomputed: cheaper to keep x than x - mean
        gx = expand_reduced(g, x.shape, axis, ctx.keepdims) * (2 * d) / max(ctx.dof, 0)
        return gx, None, None, None


class AMax(Op):
    """y = max of x over ``axis``;  dL/dx = g split evenly among the elements equal to y.

    ``name`` is "max" or "min". Splitting among ties is what PyTorch does for ``x.max()`` and
    ``amax``; ``x.max(dim)`` (which returns indices) sends it to the index instead: see MaxDim.
    """

    create_graph_ok = True
    save_inputs = (0,)
    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: tuple | None, keepdims: bool, name: str) -> Any:
        if x.size == 0:
            raise RuntimeError(f"{name}(): cannot reduce an empty tensor of shape {x.shape}; "
                               "there is no identity for max/min")
        ctx.axis, ctx.keepdims = axis, keepdims
        return as_array(getattr(x, name)(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x, y), axis, keep = ctx.saved_tensors, ctx.axis, ctx.keepdims
        y = expand_reduced(y, x.shape, axis, keep)
        # a NaN maximum equals nothing, not even itself: the NaNs are the "ties" (PyTorch);
        # v != v tests for NaN on arrays and, under create_graph, on Tensors alike
        hit = (x == y) | ((x != x) & (y != y))
        count = hit.sum(axis=axis, keepdims=True, dtype=g.dtype)
        return expand_reduced(g, x.shape, axis, keep) * hit / count, None, None, None


class MaxDim(Op):
    """(values, indices) = max of x along one ``axis``;  dL/dx = g at the index, 0 elsewhere."""

    create_graph_ok = True
    non_differentiable_outputs = (1,)

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int, keepdims: bool, name: str) -> Any:
        if x.shape and x.shape[axis] == 0:
            raise RuntimeError(f"{name}(): cannot reduce over dimension {axis} of size 0 "
                               f"(shape {x.shape})")
        xp = xp_of(x)
        idx = as_array(getattr(x, "arg" + name)(axis=axis, keepdims=True))
        values = xp.take_along_axis(x, idx, axis=axis) if x.ndim else x.copy()
        ctx.shape, ctx.axis, ctx.keepdims, ctx.idx = x.shape, axis, keepdims, idx
        if not keepdims and x.ndim:
            values, idx = values.squeeze(axis), idx.squeeze(axis)
        return values, idx.astype("int64")

    @staticmethod
    def backward(ctx: Any, g: Any, g_idx: Any) -> Any:
        shape, axis, idx = ctx.shape, ctx.axis, ctx.idx
        if not shape:
            return g, None, None, None
        positions = xp_of(idx).arange(shape[axis]).reshape(
            reduced_shape(shape, tuple(i for i in range(len(shape)) if i != axis)))
        g = g if ctx.keepdims else g.reshape(reduced_shape(shape, (axis,)))
        return g * (positions == idx), None, None, None


class ArgMax(Op):
    """Index of the largest (``name="argmax"``) or smallest element; no gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int | None, keepdims: bool, name: str) -> Any:
        if axis is None:
            r = getattr(x.reshape(-1), name)()
            return as_array(r).reshape((1,) * x.ndim if keepdims else ()).astype("int64")
        return as_array(getattr(x, name)(axis=axis, keepdims=keepdims)).astype("int64")


# ----------------------------------------------------------------------------------------
# The Tensor methods' side of these ops: ``dim``/``axis`` aliases, dtype rules, validation.

def dim_args(dim: Any, axis: Any, keepdim: bool, keepdims: bool | None) -> tuple:
    """Accept NumPy's ``axis``/``keepdims`` as aliases of PyTorch's ``dim``/``keepdim``."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or axis, not both")
        dim = axis
    return dim, keepdim if keepdims is None else keepdims


def sum(x: Any, dim: Any, keepdim: bool, dtype: Any) -> Any:  # noqa: A001 - Tensor.sum
    """Sum over ``dim``; integer and bool sums accumulate in int64, as PyTorch."""
    ndim = x.data.ndim
    x = x if dtype is None else x.to(dtype)
    acc = sum_dtype(x.data.dtype)
    x = x if acc == x.data.dtype else x.to(acc)
    return Sum.apply(x, normalize_axis(dim, ndim), keepdim)


def mean(x: Any, dim: Any, keepdim: bool, dtype: Any) -> Any:
    """Mean over ``dim``; a floating dtype is required (or given as ``dtype``)."""
    ndim = x.data.ndim
    x = x if dtype is None else x.to(dtype)
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"mean(): expected a floating point tensor, got {x.data.dtype}; "
                           "use x.float().mean() or mean(dtype=mg.float32)")
    return Mean.apply(x, normalize_axis(dim, ndim), keepdim)


def var(x: Any, dim: Any, unbiased: bool | None, keepdim: bool, correction: int | None) -> Any:
    """Variance; ``correction=1`` (Bessel's, the default) divides by n - 1, as PyTorch."""
    if correction is None:
        correction = 0 if unbiased is False else 1
    return Var.apply(x, normalize_axis(dim, x.data.ndim), correction, keepdim)


def max_min(x: Any, dim: Any, keepdim: bool, name: str) -> Any:
    """``x.max()``, ``x.max(dim)`` (values and indices) or a tuple ``dim``; "min" likewise."""
    ndim = x.data.ndim
    if isinstance(dim, int):
        values, indices = MaxDim.apply(x, normalize_axis(dim, ndim)[0] if ndim else 0,
                                       keepdim, name)
        return MaxResult(values, indices)
    return AMax.apply(x, normalize_axis(dim, ndim), keepdim, name)


def amax(x: Any, dim: Any, keepdim: bool, name: str) -> Any:
    """Largest (``name="max"``) or smallest values over ``dim``; ties share the gradient."""
    return AMax.apply(x, normalize_axis(dim, x.data.ndim), keepdim, name)


def argmax(x: Any, dim: int | None, keepdim: bool, name: str) -> Any:
    """Index of the largest (``name="argmax"``) or smallest value, over ``dim`` or all."""
    ax = None if dim is None else normalize_axis(dim, x.data.ndim)[0]
    return ArgMax.apply(x, ax, keepdim, name)


class MaxResult(NamedTuple):
    """What ``x.max(dim)`` returns, as PyTorch: the values and their indices."""

    values: Any
    indices: Any


class AllAny(Op):
    """True if every (``name="all"``) or any (``"any"``) element is true; no gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: Any, name: str) -> Any:
        return as_array(getattr(x, name)())
