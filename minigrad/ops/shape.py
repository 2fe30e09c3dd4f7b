"""Ops that move values around without arithmetic. ``g`` is dL/dy.

Each backward puts the gradient back where the values came from: reshape it back, permute it
back, sum it over repeated reads (expand, indexing with repeated indices), cut it into pieces
(cat, stack), or glue pieces together (split).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from minigrad import backend
from minigrad.autograd.graph import Op, make
from minigrad.autograd.graph import TensorBase as Tensor
from minigrad.ops.common import as_array, normalize_axis, unbroadcast, xp_of
from minigrad.ops.common import permute as permute_grad


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
        return permute_grad(g, tuple(inverse)), None


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
        if any(isinstance(p, Tensor) for p in parts):  # create_graph: join them with Cat
            return Cat.apply(axis, *(p if isinstance(p, Tensor) else make(p) for p in parts)), \
                None, None
        return xp_of(parts[0]).concatenate(parts, axis=axis), None, None


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



# ----------------------------------------------------------------------------------------
# The Tensor methods' side of these ops: argument parsing and validation, so that each
# method of Tensor is one call. ``x`` is a Tensor.

def one_axis(dim: int, ndim: int) -> int:
    """One PyTorch ``dim`` (negative counts from the end) as an axis index, checked."""
    return normalize_axis(dim, ndim)[0]


def shape_arg(shape: tuple) -> tuple:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def reshape(x: Any, shape: tuple) -> Any:
    """``x`` in ``shape`` (-1 infers one dimension); ``x`` itself if the shape is unchanged."""
    if shape == x.data.shape:
        return x
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    size = x.data.size
    if shape.count(-1) > 1 or (size != known if -1 not in shape else
                               (known == 0 or size % known)):
        raise RuntimeError(f"shape {shape} is invalid for a tensor of shape {x.data.shape} "
                           f"({size} elements)")
    return Reshape.apply(x, shape)


def flatten(x: Any, start_dim: int, end_dim: int) -> Any:
    """Dimensions ``start_dim`` to ``end_dim`` merged into one."""
    shape = x.data.shape
    if not shape:
        return reshape(x, (1,))
    s, e = one_axis(start_dim, len(shape)), one_axis(end_dim, len(shape))
    if s > e:
        raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = -1 if 0 not in shape else int(np.prod(shape[s:e + 1]))
    return reshape(x, shape[:s] + (merged,) + shape[e + 1:])


def unsqueeze(x: Any, dim: int) -> Any:
    """A new dimension of size 1 inserted at ``dim``."""
    shape = x.data.shape
    n = len(shape) + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for a result with {n} "
                         f"dimensions (expected in [{-n}, {n - 1}])")
    d = dim % n
    return reshape(x, shape[:d] + (1,) + shape[d:])


def squeeze(x: Any, dim: Any) -> Any:
    """Dimensions of size 1 removed (only those in ``dim`` if given)."""
    shape = x.data.shape
    if dim is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        axes = tuple(a for a in normalize_axis(dim, len(shape)) if shape and shape[a] == 1)
    return reshape(x, tuple(s for i, s in enumerate(shape) if i not in axes))


def permute(x: Any, dims: tuple) -> Any:
    """Dimensions reordered: output dimension i is input dimension ``dims[i]``."""
    ndim = x.data.ndim
    axes = tuple(one_axis(d, ndim) for d in dims)
    if sorted(axes) != list(range(ndim)):
        raise RuntimeError(f"permute: dims {dims} are not a permutation of the {ndim} "
                           f"dimensions of a tensor of shape {x.data.shape}")
    return Permute.apply(x, axes)


def transpose(x: Any, dim0: int, dim1: int) -> Any:
    """Dimensions ``dim0`` and ``dim1`` swapped."""
    ndim = x.data.ndim
    if ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    a, b = one_axis(dim0, ndim), one_axis(dim1, ndim)
    axes = list(range(ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return Permute.apply(x, tuple(axes))


def expand(x: Any, sizes: tuple) -> Any:
    """``x`` broadcast to ``sizes`` without copying (-1 keeps a size)."""
    have = x.data.shape
    if len(sizes) < len(have):
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least "
                           f"the number of dimensions ({len(have)}) of shape {have}")
    lead = len(sizes) - len(have)
    shape = tuple(have[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(have):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(f"expand: shape {have} cannot be expanded to {sizes}: "
                               f"dimension {i} has size {s}, which is not 1")
    if shape == have:
        return x
    return Expand.apply(x, shape)


def split(x: Any, split_size: int | Sequence[int], dim: int) -> tuple:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given sizes."""
    ax = one_axis(dim, x.data.ndim)
    n = x.data.shape[ax]
    if isinstance(split_size, int):
        if split_size <= 0:
            raise ValueError(f"split: split_size must be positive, got {split_size}")
        sizes = tuple(min(split_size, n - i) for i in range(0, n, split_size)) or (0,)
    else:
        sizes = tuple(int(s) for s in split_size)
        if sum(sizes) != n:
            raise RuntimeError(f"split: sizes {list(sizes)} add up to {sum(sizes)}, but "
                               f"dimension {dim} has size {n}")
    return Split.apply(x, sizes, ax)


def chunk(x: Any, chunks: int, dim: int) -> tuple:
    """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.data.shape[one_axis(dim, x.data.ndim)]
    size = -(-n // chunks) if n else 1
    return split(x, max(size, 1), dim)


def unbind(x: Any, dim: int) -> tuple:
    """The slices along ``dim``, with that dimension removed."""
    ax = one_axis(dim, x.data.ndim)
    return tuple(squeeze(p, ax) for p in split(x, 1, ax))


def getitem(x: Any, index: Any) -> Any:
    """``x[index]``: Tensor and list indices become arrays on x's device, bounds checked."""
    return GetItem.apply(x, index_arg(index, x))


def index_arg(index: Any, t: Any) -> Any:
    """Turn Tensor and list indices into arrays on ``t``'s device; check bounds kindly."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    device = backend.device_of(t.data)
    for i in items:
        if isinstance(i, Tensor):
            if i.data.dtype.kind == "f":
                raise IndexError("tensors used as indices must be integer or boolean, got "
                                 f"{i.data.dtype}")
            i = int(i.item()) if i.data.ndim == 0 and i.data.dtype.kind in "iu" else i.data
            if not isinstance(i, int) and type(i) is not type(t.data):
                raise IndexError(f"index tensor is on {backend.device_of(i)} but the indexed "
                                 f"tensor is on {device}")
        elif isinstance(i, (list, np.ndarray)):
            i = backend.to_device(i, device)
            if i.dtype.kind == "f" and i.size:
                raise IndexError("arrays used as indices must be integer or boolean")
            if i.size == 0:
                i = i.astype(np.int64)
        out.append(i)
    _check_bounds(out, t.data.shape)
    return tuple(out) if isinstance(index, tuple) else out[0]


def _check_bounds(items: list, shape: tuple) -> None:
    dim = 0
    for i in items:
        if i is None:
            continue
        if i is Ellipsis:
            dim = len(shape) - sum(1 for j in items[items.index(i) + 1:]
                                   if j is not None and j is not Ellipsis and
                                   not (hasattr(j, "dtype") and j.dtype.kind == "b"))
            continue
        if isinstance(i, int) and not isinstance(i, bool):
            if dim >= len(shape):
                raise IndexError(f"too many indices for a tensor of shape {shape}")
            if not -shape[dim] <= i < shape[dim]:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size "
                                 f"{shape[dim]} (tensor shape {shape})")
        dim += getattr(i, "ndim", 1) if hasattr(i, "dtype") and i.dtype.kind == "b" else 1


def setitem_args(x: Any, index: Any, value: Any) -> tuple:
    """``x[index] = value``: the parsed index, and a value on x's device (checked)."""
    if isinstance(value, Tensor) and type(value.data) is not type(x.data):
        raise RuntimeError(f"setitem: value is on {backend.device_of(value.data)} but the "
                           f"tensor is on {backend.device_of(x.data)}")
    return index_arg(index, x), value


def cat(ts: list, dim: int) -> Any:
    """Join tensors (of one dtype) along an existing dimension ``dim``."""
    first = ts[0].data.shape
    ax = one_axis(dim, len(first))
    for i, t in enumerate(ts[1:], 1):
        shape = t.data.shape
        if len(shape) != len(first) or any(a != b for k, (a, b) in enumerate(zip(shape, first))
                                           if k != ax):
            raise RuntimeError(f"cat: tensor {i} has shape {shape}, which does not match "
                               f"tensor 0's shape {first} outside dimension {dim}")
    return Cat.apply(ax, *ts)


def stack(ts: list, dim: int) -> Any:
    """Join same-shaped tensors (of one dtype) along a new dimension ``dim``."""
    first = ts[0].data.shape
    for i, t in enumerate(ts[1:], 1):
        if t.data.shape != first:
            raise RuntimeError(f"stack expects tensors of equal shape, but tensor 0 has shape "
                               f"{first} and tensor {i} has shape {t.data.shape}")
    n = len(first) + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: dim {dim} out of range for a result with {n} dimensions")
    return Stack.apply(dim % n, *ts)
