"""The Tensor: an n-dimensional array on a device, plus what autograd needs to know about it.

The fields and the graph (``data``, ``requires_grad``, ``grad``, the node that made it) are
defined by ``TensorBase`` in :mod:`minigrad.autograd.graph`; this file gives Tensor its
methods. Each method is one call: to an op of :mod:`minigrad.ops` (or one of the helpers
next to it, which parse and check the arguments), to :mod:`minigrad.dtypes` for type
promotion, or to the autograd layer (backward, hooks, in-place changes). So the derivatives,
the validation and the rules each live in one place.

Layers, bottom to top: backend and dtypes, the autograd core (``graph.py``, ``engine.py``),
the ops, this file, then nn, optim, data, serialization, testing. The ops create Tensors
through the core; the core learns the Tensor class at the end of this file
(``use_tensor_class``), the one place where the upper layer plugs into the lower.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np

from minigrad import backend, dtypes
from minigrad.autograd import engine, hooks
from minigrad.autograd.graph import TensorBase, make, use_tensor_class
from minigrad.autograd.versions import bump_version, inplace
from minigrad.ops import elementwise as _ew
from minigrad.ops import linalg as _linalg
from minigrad.ops import reduce as _reduce
from minigrad.ops import shape as _shape
from minigrad.ops.reduce import MaxResult

__all__ = ["MaxResult", "Tensor", "bump_version", "where"]

_ndarray = np.ndarray
_make = make  # the name the rest of the package uses: wrap an array as a Tensor


class Tensor(TensorBase):
    """A multi-dimensional array that can record the operations applied to it.

    Create tensors with :func:`minigrad.tensor` (``mg.tensor([1.0, 2.0], requires_grad=True)``)
    or the factories (``mg.zeros``, ``mg.randn``, ...). ``Tensor(data, dtype=None,
    requires_grad=False, device=None)`` copies ``data``, as ``mg.tensor``.
    """

    __slots__ = ()
    __hash__ = TensorBase.__hash__  # defining __eq__ below would otherwise remove it

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple (as ``torch.Size``)."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The data type: ``mg.float32``, ``mg.float64``, ``mg.int64`` or ``mg.bool``."""
        return self.data.dtype

    @property
    def device(self) -> backend.Device:
        """The device the data lives on: ``device(type='cpu')`` or ``cuda:N``."""
        return backend.device_of(self.data)

    @property
    def T(self) -> Tensor:
        """The tensor with its dimensions reversed (the transpose of a matrix)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        """The matrix transpose of the last two dimensions."""
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of dimension ``dim``."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """The number of dimensions (as ``ndim``)."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = np.array2string(backend.to_host(self.data), separator=", ", prefix="tensor(",
                               precision=4)
        extra = []
        if self.device.type != "cpu":
            extra.append(f"device='{self.device}'")
        if self.dtype != dtypes.float32 and self.dtype != dtypes.int64 or self.data.size == 0:
            extra.append(f"dtype={self.dtype}")
        if self._node is not None:
            extra.append(f"grad_fn=<{type(self._node).__name__}Backward>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extra)})"

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is "
                               "ambiguous; use .any() or .all()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    # ------------------------------------------------------------------ conversion
    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to Python "
                             f"scalars, this one has shape {self.shape}")
        return self.data.reshape(()).item() if type(self.data) is _ndarray else (
            backend.to_host(self.data).reshape(()).item())

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied off the GPU if needed; shares memory on CPU)."""
        if self.requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use "
                               "tensor.detach().numpy()")
        return backend.to_host(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """``np.asarray(t)`` for CPU tensors (plotting, NumPy code), as PyTorch allows."""
        if self.device.type != "cpu":
            raise TypeError(f"can't convert a tensor on {self.device} to NumPy implicitly; "
                            "use .cpu() or .numpy(), which copy it to the host")
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        """Zero-copy export (DLPack) to NumPy, CuPy or PyTorch: ``np.from_dlpack(t)``."""
        if self.requires_grad:
            raise RuntimeError("can't export a tensor that requires grad through DLPack; use "
                               "tensor.detach()")
        return self.data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple:
        """The DLPack (device type, index) of the data."""
        return self.data.__dlpack_device__()

    def tolist(self) -> Any:
        """The values as (nested) Python lists of numbers."""
        return backend.to_host(self.data).tolist()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``x.to("cuda")``, ``x.to(mg.float64)``, ``x.to(device, dtype)`` (differentiable)."""
        return _ew.convert(self, *dtypes.parse_to(args, kwargs))

    def cpu(self) -> Tensor:
        """A copy on the CPU (or self if already there); gradients flow back."""
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Tensor:
        """A copy on the GPU ``device`` (default ``cuda:0``); gradients flow back."""
        return self.to(f"cuda:{device}" if isinstance(device, int) else (device or "cuda"))

    def float(self) -> Tensor:
        """Converted to float32 (differentiable)."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """Converted to float64 (differentiable)."""
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        """Converted to int64."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        """Converted to int32."""
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        """Converted to bool."""
        return self.to(dtypes.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        """Converted to ``other``'s dtype."""
        return self.to(other.dtype)

    def clone(self) -> Tensor:
        """A copy with its own memory; dL/dx = dL/dy."""
        return _ew.Clone.apply(self)

    def contiguous(self) -> Tensor:
        """Self: minigrad's ops accept any memory layout."""
        return self

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad; add it to ``leaf.grad``.

        ``gradient`` is dL/d(self) and is needed unless self has one element. The graph is
        freed afterwards unless ``retain_graph=True``. ``create_graph=True`` records the
        backward pass itself, so the gradients can be differentiated again.
        """
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        return hooks.register_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        hooks.retain_grad(self)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        """``self + other``, broadcasting; dL/da = g, dL/db = g summed to each shape."""
        if other.__class__ is Tensor and other.data.dtype is self.data.dtype:
            return _ew.Add.apply(self, other)  # the common case: no type promotion to do
        return _binary(_ew.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(_ew.Add, self, other, reflected=True)

    def __sub__(self, other: Any) -> Tensor:
        """``self - other``, broadcasting."""
        if other.__class__ is Tensor and other.data.dtype is self.data.dtype:
            return _ew.Sub.apply(self, other)
        return _binary(_ew.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(_ew.Sub, self, other, reflected=True)

    def __mul__(self, other: Any) -> Tensor:
        """``self * other``, broadcasting; dL/da = g * b, dL/db = g * a."""
        if other.__class__ is Tensor and other.data.dtype is self.data.dtype:
            return _ew.Mul.apply(self, other)
        return _binary(_ew.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(_ew.Mul, self, other, reflected=True)

    def __truediv__(self, other: Any) -> Tensor:
        """``self / other`` (true division: integers give the default float dtype)."""
        if self.dtype.kind != "f" and not (isinstance(other, Tensor) and other.dtype.kind == "f"):
            return _binary(_ew.Div, self.to(dtypes.get_default_dtype()), other)
        return _binary(_ew.Div, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        me = self if self.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
        return _binary(_ew.Div, me, other, reflected=True)

    def __pow__(self, other: Any) -> Tensor:
        """``self ** other``; dL/da = g * b * a^(b-1), dL/db = g * y * ln a."""
        return _binary(_ew.Pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _binary(_ew.Pow, self, other, reflected=True)

    def __matmul__(self, other: Any) -> Tensor:
        """``self @ other``: matrix product, batched and broadcasting as ``np.matmul``."""
        if other.__class__ is Tensor and other.data.dtype is self.data.dtype:
            return _linalg.MatMul.apply(self, other)
        return _binary(_linalg.MatMul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(_linalg.MatMul, self, other, reflected=True)

    def __neg__(self) -> Tensor:
        """``-self``."""
        return _ew.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.Abs.apply(self)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        """Elementwise ``==`` (a bool tensor, no gradient)."""
        return _compare(self, other, "__eq__")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        """Elementwise ``!=`` (a bool tensor, no gradient)."""
        return _compare(self, other, "__ne__")

    def __lt__(self, other: Any) -> Tensor:
        """Elementwise ``<`` (a bool tensor, no gradient)."""
        return _compare(self, other, "__lt__")

    def __le__(self, other: Any) -> Tensor:
        """Elementwise ``<=`` (a bool tensor, no gradient)."""
        return _compare(self, other, "__le__")

    def __gt__(self, other: Any) -> Tensor:
        """Elementwise ``>`` (a bool tensor, no gradient)."""
        return _compare(self, other, "__gt__")

    def __ge__(self, other: Any) -> Tensor:
        """Elementwise ``>=`` (a bool tensor, no gradient)."""
        return _compare(self, other, "__ge__")

    def __and__(self, other: Any) -> Tensor:
        return _compare(self, other, "__and__")

    def __or__(self, other: Any) -> Tensor:
        return _compare(self, other, "__or__")

    def __invert__(self) -> Tensor:
        return _ew.Invert.apply(self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    matmul = __matmul__
    neg = __neg__
    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__

    # ------------------------------------------------------------------ elementwise
    def exp(self) -> Tensor:
        """y = e^x;  dL/dx = g * y."""
        return _ew.Exp.apply(self)

    def log(self) -> Tensor:
        """y = ln x;  dL/dx = g / x."""
        return _ew.Log.apply(self)

    def sqrt(self) -> Tensor:
        """y = sqrt(x);  dL/dx = g / (2 y)."""
        return _ew.Sqrt.apply(self)

    def abs(self) -> Tensor:
        """y = |x|;  dL/dx = g * sign(x)."""
        return _ew.Abs.apply(self)

    def tanh(self) -> Tensor:
        """y = tanh x;  dL/dx = g * (1 - y^2)."""
        return _ew.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        """y = 1 / (1 + e^-x);  dL/dx = g * y * (1 - y)."""
        return _ew.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        """y = max(x, 0);  dL/dx = g where x > 0."""
        return _ew.Relu.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """y = min(max(x, min), max);  dL/dx = g where min <= x <= max."""
        return _ew.Clamp.apply(self, min, max)

    clip = clamp

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element (no gradient)."""
        return _ew.Sign.apply(self)

    def square(self) -> Tensor:
        """y = x * x."""
        return _ew.Mul.apply(self, self)

    def rsqrt(self) -> Tensor:
        """y = 1 / sqrt(x)."""
        return 1.0 / self.sqrt()

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` is true, else ``other``: ``mg.where(cond, self, other)``."""
        return where(condition, self, other)

    def maximum(self, other: Tensor) -> Tensor:
        """Elementwise maximum of two tensors."""
        return where(self >= other, self, other)

    def minimum(self, other: Tensor) -> Tensor:
        """Elementwise minimum of two tensors."""
        return where(self <= other, self, other)

    # ------------------------------------------------------------------ reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None, dtype: Any = None) -> Tensor:
        """Sum over ``dim`` (all dims if None); ``keepdim`` keeps them as size 1."""
        return _reduce.sum(self, *_reduce.dim_args(dim, axis, keepdim, keepdims), dtype)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None, dtype: Any = None) -> Tensor:
        """Mean over ``dim`` (all dims if None)."""
        return _reduce.mean(self, *_reduce.dim_args(dim, axis, keepdim, keepdims), dtype)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """Variance; ``correction=1`` (Bessel's, the default) divides by n - 1, as PyTorch."""
        dim, keepdim = _reduce.dim_args(dim, axis, keepdim, keepdims)
        return _reduce.var(self, dim, unbiased, keepdim, correction)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """Standard deviation: the square root of :meth:`var`."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """``x.max()`` is the largest value; ``x.max(dim)`` returns ``(values, indices)``.

        The gradient of ``x.max()`` (and of a tuple ``dim``) is split evenly among ties; that of
        ``x.max(dim)`` goes to the returned index, as in PyTorch.
        """
        if isinstance(dim, Tensor):  # the mg.maximum-style call x.max(other)
            return self.maximum(dim)
        return _reduce.max_min(self, *_reduce.dim_args(dim, axis, keepdim, keepdims), "max")

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Smallest value(s); see :meth:`max`."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return _reduce.max_min(self, *_reduce.dim_args(dim, axis, keepdim, keepdims), "min")

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Largest values over ``dim`` (an int or a tuple); the gradient is split among ties."""
        return _reduce.amax(self, dim, keepdim, "max")

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Smallest values over ``dim``; the gradient is split among ties."""
        return _reduce.amax(self, dim, keepdim, "min")

    def argmax(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None) -> Tensor:
        """Index of the largest value (over ``dim``, or of the flattened tensor); no gradient."""
        return _reduce.argmax(self, axis if dim is None else dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None) -> Tensor:
        """Index of the smallest value; no gradient."""
        return _reduce.argmax(self, axis if dim is None else dim, keepdim, "argmin")

    def all(self) -> Tensor:
        """True if every element is true (no gradient)."""
        return _reduce.AllAny.apply(self, "all")

    def any(self) -> Tensor:
        """True if any element is true (no gradient)."""
        return _reduce.AllAny.apply(self, "any")

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (-1 infers one dimension); a view when possible."""
        return _shape.reshape(self, _shape.shape_arg(shape))

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return _shape.reshape(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return _shape.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dimensions ``start_dim`` to ``end_dim`` merged into one."""
        return _shape.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dimensions ``dim0`` and ``dim1`` swapped."""
        return _shape.transpose(self, dim0, dim1)

    def permute(self, *dims: Any) -> Tensor:
        """Dimensions reordered: output dimension i is input dimension ``dims[i]``."""
        return _shape.permute(self, _shape.shape_arg(dims))

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dimension of size 1 inserted at ``dim``."""
        return _shape.unsqueeze(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        """Dimensions of size 1 removed (only ``dim`` if given)."""
        return _shape.squeeze(self, dim)

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes`` without copying (-1 keeps a size); gradients are summed back."""
        return _shape.expand(self, _shape.shape_arg(sizes))

    def expand_as(self, other: Tensor) -> Tensor:
        """Broadcast to ``other``'s shape."""
        return _shape.expand(self, other.shape)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given
        sizes if ``split_size`` is a list."""
        return _shape.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as PyTorch."""
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, as a tuple, with that dimension removed."""
        return _shape.unbind(self, dim)

    def __getitem__(self, index: Any) -> Tensor:
        return _shape.getitem(self, index)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # ------------------------------------------------------------------ in place
    def __setitem__(self, index: Any, value: Any) -> None:
        inplace(self, _shape.SetItem, *_shape.setitem_args(self, index, value))

    def __iadd__(self, other: Any) -> Tensor:
        return inplace(self, _ew.Add, other)

    def __isub__(self, other: Any) -> Tensor:
        return inplace(self, _ew.Sub, other)

    def __imul__(self, other: Any) -> Tensor:
        return inplace(self, _ew.Mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return inplace(self, _ew.Div, other)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """In place: self += alpha * other."""
        return inplace(self, _ew.Add, other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """In place: self -= alpha * other."""
        return inplace(self, _ew.Sub, other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        """In place: self *= other."""
        return inplace(self, _ew.Mul, other)

    def div_(self, other: Any) -> Tensor:
        """In place: self /= other."""
        return inplace(self, _ew.Div, other)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """In place: clamp to [min, max]."""
        return inplace(self, _ew.Clamp, min, max)

    def zero_(self) -> Tensor:
        """In place: fill with zeros."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """In place: fill with ``value``."""
        return inplace(self, _shape.SetItem, Ellipsis, value)

    def copy_(self, src: Any) -> Tensor:
        """In place: copy ``src``'s values (broadcast to this shape) into this tensor."""
        return inplace(self, _shape.SetItem, Ellipsis, _ew.convert(
            src if isinstance(src, Tensor) else Tensor(src, dtype=self.dtype),
            self.device, None))

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """In place: fill with samples from U(a, b)."""
        return self.copy_(_make(backend.generator(self.device).uniform(a, b, self.shape)
                                .astype(self.dtype)))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """In place: fill with samples from N(mean, std^2)."""
        return self.copy_(_make((backend.generator(self.device).standard_normal(self.shape)
                                 * std + mean).astype(self.dtype)))


# ---------------------------------------------------------------------- helpers

def _binary(op: Any, a: Tensor, b: Any, reflected: bool = False) -> Tensor:
    """Apply a binary op with PyTorch's type promotion (NumPy's differs for mixed kinds)."""
    if isinstance(b, np.generic) and isinstance(b, (int, float)):
        b = b.item()  # a NumPy float scalar counts as a Python number, as in PyTorch
    if not isinstance(b, (Tensor, int, float)):
        b = Tensor(b, device=a.device)
    a, b = _promoted(a, b)
    return op.apply(b, a) if reflected else op.apply(a, b)


def _promoted(a: Tensor, b: Any) -> tuple:
    """``a`` and ``b`` (a Tensor, or a Python number) converted to the dtype of ``a op b``."""
    if isinstance(b, Tensor):
        if a.data.dtype is b.data.dtype:
            return a, b
        dt = dtypes.promote(a.data, b.data)
        return _ew.convert(a, None, dt), _ew.convert(b, None, dt)
    return _ew.convert(a, None, dtypes.promote(a.data, b)), b


def _compare(a: Tensor, b: Any, name: str) -> Tensor:
    if isinstance(b, Tensor):
        return _ew.Compare.apply(a, b, name)
    if isinstance(b, (int, float)):
        return _ew.Compare.apply(a, b, name)
    return _ew.Compare.apply(a, Tensor(b, device=a.device), name)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcasting all three)."""
    cond = condition if isinstance(condition, Tensor) else Tensor(condition)
    a = input if isinstance(input, (Tensor, int, float)) else Tensor(input, device=cond.device)
    b = other if isinstance(other, (Tensor, int, float)) else Tensor(other, device=cond.device)
    if isinstance(a, Tensor):
        a, b = _promoted(a, b)
    elif isinstance(b, Tensor):
        b, a = _promoted(b, a)
    return _ew.Where.apply(cond.bool() if cond.dtype.kind != "b" else cond, a, b)


def _iterable_of_tensors(ts: Iterable[Any], who: str) -> list[Tensor]:
    ts = list(ts)
    if not ts:
        raise ValueError(f"{who}: expected a non-empty sequence of tensors")
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: element {i} is a {type(t).__name__}, expected a Tensor")
    return ts


# The one place where this layer plugs into the core: from now on, ops create Tensors.
use_tensor_class(Tensor)
