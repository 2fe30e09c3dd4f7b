"""Ops that move values around without arithmetic. ``g`` is dL/dy.

Each backward puts the gradient back where the values came from: reshape it back, permute it
back, sum it over repeated reads (expand, indexing with repeated indices), cut it into pieces
(cat, stack), or glue pieces together (split).
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.autograd.function import Op
from minigrad.ops.common import as_array, concat, permute, unbroadcast, xp_of


class Reshape(Op):
    """y = x with a new shape (a view when possible);  dL/dx = g reshaped to x's shape."""

    create_graph_ok = True
    is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple) -> Any:
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.reshape(ctx.shape), None


class Permute(Op):
    """y = x with axes reordered by ``axes``;  dL/dx = g with the inverse order."""

    create_graph_ok = True
    is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, axes: tuple) -> Any:
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return permute(g, tuple(inverse)), None


class Expand(Op):
    """y = x broadcast to ``shape`` (a read-only view);  dL/dx = g summed over the copies."""

    create_graph_ok = True
    is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, shape: tuple) -> Any:
        ctx.shape = x.shape
        return xp_of(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return unbroadcast(g, ctx.shape), None


class GetItem(Op):
    """y = x[index];  dL/dx = zeros with g added at the indexed places (see IndexScatter).

    With integer-array indices an element can be read several times (``x[[0, 0]]``); its
    gradient is then the sum of the reads' gradients, so backward scatter-adds.
    """

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any) -> Any:
        ctx.shape, ctx.index = x.shape, index
        ctx.kind = _index_kind(index)
        ctx.is_view = ctx.kind == "basic"
        return as_array(x[index])

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        if isinstance(g, Tensor):
            return IndexScatter.apply(g, ctx.shape, ctx.index, ctx.kind), None
        return IndexScatter.forward(None, g, ctx.shape, ctx.index, ctx.kind), None


class IndexScatter(Op):
    """y = zeros(shape) with g added at ``index``: GetItem's backward, as an op of its own.

    It is the adjoint of indexing, so its backward is indexing again: dL/dg = G[index].
    """

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, g: Any, shape: tuple, index: Any, kind: str) -> Any:
        if ctx is not None:
            ctx.index = index
        out = xp_of(g).zeros(shape, g.dtype)
        if kind == "integer arrays":  # repeated indices must accumulate
            backend.scatter_add(out, index, g)
        else:
            out[index] = g
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g[ctx.index], None, None, None


class SetItem(Op):
    """y = x with y[index] = v, written into x's memory;  dL/dx = g with 0 at index,
    dL/dv = g[index] summed back to v's shape."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any, index: Any, v: Any) -> Any:
        x[index] = v
        ctx.index, ctx.vshape = index, getattr(v, "shape", None)
        return x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        index = ctx.index
        gv = None if ctx.vshape is None else unbroadcast(as_array(g[index]), ctx.vshape)
        gx = g.clone() if isinstance(g, Tensor) else g.copy()
        gx[index] = 0
        return gx, None, gv


class Split(Op):
    """(y_1, ..., y_k) = x cut along ``axis`` at ``sizes``;  dL/dx = the g_i joined again."""

    create_graph_ok = True
    is_view = True

    @staticmethod
    def forward(ctx: Any, x: Any, sizes: tuple, axis: int) -> Any:
        ctx.x_like, ctx.axis, ctx.sizes = (x.shape, x.dtype, xp_of(x)), axis, sizes
        pieces, start = [], 0
        lead = (slice(None),) * axis
        for n in sizes:
            pieces.append(x[lead + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    @staticmethod
    def backward(ctx: Any, *gs: Any) -> Any:
        shape, dtype, xp = ctx.x_like
        axis = ctx.axis
        parts = []
        for g, n in zip(gs, ctx.sizes):
            if g is None:
                g = xp.zeros(shape[:axis] + (n,) + shape[axis + 1:], dtype)
            parts.append(g)
        return concat(parts, axis), None, None


class Cat(Op):
    """y = x_1, ..., x_k joined along ``axis``;  dL/dx_i = the slice of g that x_i filled."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, axis: int, *xs: Any) -> Any:
        ctx.axis, ctx.sizes = axis, [x.shape[axis] for x in xs]
        return xp_of(xs[0]).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        lead, start, grads = (slice(None),) * ctx.axis, 0, [None]
        for n in ctx.sizes:
            grads.append(g[lead + (slice(start, start + n),)])
            start += n
        return tuple(grads)


class Stack(Op):
    """y = x_1, ..., x_k stacked along a new ``axis``;  dL/dx_i = g indexed at i on that axis."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, axis: int, *xs: Any) -> Any:
        ctx.axis, ctx.n = axis, len(xs)
        return xp_of(xs[0]).stack(xs, axis=axis)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        lead = (slice(None),) * ctx.axis
        return (None,) + tuple(g[lead + (i,)] for i in range(ctx.n))


class ToDevice(Op):
    """y = x copied to another device;  dL/dx = g copied back."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any, device: Any) -> Any:
        ctx.source = backend.device_of(x)
        return backend.to_device(x, device)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        if isinstance(g, Tensor):
            return g.to(ctx.source), None
        return backend.to_device(g, ctx.source), None


def _index_kind(index: Any) -> str:
    """"basic" (ints, slices: a view), "masks" (boolean arrays) or "integer arrays"."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [i for i in items if hasattr(i, "dtype") and getattr(i, "ndim", 0) > 0]
    if not arrays:
        return "basic"
    return "masks" if all(a.dtype.kind == "b" for a in arrays) else "integer arrays"


from minigrad.tensor import Tensor  # noqa: E402  (tensor.py imports the ops)
