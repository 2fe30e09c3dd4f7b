"""The Tensor: an n-dimensional array on a device, plus what autograd needs to know about it.

Every method here is one call to an op in :mod:`minigrad.ops` (or to a composition of ops), so
the derivatives live in one place. A Tensor holds:

- ``data``: the backend array (``numpy.ndarray`` or ``cupy.ndarray``);
- ``requires_grad`` and ``grad`` (a Tensor, filled by ``backward`` for leaves);
- ``_node`` and ``_idx``: the op that produced it and which of its outputs it is
  (``_node is None`` for a leaf);
- ``_version``: a counter, shared with its views, moved on by every in-place change.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Iterable, NamedTuple, Sequence

import numpy as np

from minigrad import backend, dtypes

_ndarray = np.ndarray
_new = object.__new__

# The in-place clock: it ticks at every in-place change, and a tensor's version counter holds
# the time of its own last change. A value saved for backward at time T is stale if its counter
# is later than T; backward skips all checks when the clock has not moved since.
CLOCK = [0]


def bump_version(t: Tensor) -> None:
    CLOCK[0] += 1
    t._version[0] = CLOCK[0]


def _make(data: Any, node: Any = None, idx: int = 0) -> Tensor:
    """Wrap a backend array as a Tensor; the output of an op when ``node`` is given."""
    if type(data) is not _ndarray and isinstance(data, np.generic):
        data = np.asarray(data)
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = node is not None
    t._node = node
    t._idx = idx
    t._version = [0]
    t._hooks = None
    return t


class MaxResult(NamedTuple):
    """What ``x.max(dim)`` returns, as PyTorch: the values and their indices."""

    values: Tensor
    indices: Tensor


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    Create tensors with :func:`minigrad.tensor` (``mg.tensor([1.0, 2.0], requires_grad=True)``)
    or the factories (``mg.zeros``, ``mg.randn``, ...).
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "_idx", "_version", "_hooks",
                 "_base", "__weakref__")
    __hash__ = object.__hash__  # identity, so tensors can be dict keys despite elementwise ==
    __array_ufunc__ = None  # so that `ndarray * tensor` defers to Tensor.__rmul__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False,
                 device: Any = None) -> None:
        from minigrad.creation import _to_array

        self.data = _to_array(data, dtype, device)
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._idx = 0
        self._version = [0]
        self._hooks = None
        if requires_grad:
            self.requires_grad_(True)

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
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters)."""
        return self._node is None

    @property
    def grad_fn(self) -> Any:
        """The op that produced this tensor (None for leaves)."""
        return self._node

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

    def detach(self) -> Tensor:
        """The same values (shared memory and version counter), cut out of the graph."""
        t = _make(self.data)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor out of the graph in place (it becomes a leaf without grad)."""
        self._node, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking on (or off) for this leaf tensor, in place."""
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, this one "
                               f"is {self.dtype}; convert it first, e.g. x.float()")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors; use "
                               "detach() for a non-leaf")
        self.requires_grad = requires_grad
        return self

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``x.to("cuda")``, ``x.to(mg.float64)``, ``x.to(device, dtype)`` (differentiable)."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, (backend.Device, str)) and not _is_dtype_name(a):
                device = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                dtype = a
        out = self
        if device is not None:
            dev = backend.device(device)
            if dev != self.device:
                out = _shape.ToDevice.apply(out, dev)
        if dtype is not None:
            dt = dtypes.to_dtype(dtype)
            if dt != out.dtype:
                out = _ew.Cast.apply(out, dt)
        return out

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
        from minigrad.autograd import engine

        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = {}
            hooks = self._hooks
        else:
            node = self._node
            if node._pre_hooks is None:
                node._pre_hooks = {}
                node._plain = False
            hooks = node._pre_hooks.setdefault(self._idx, {})
        key = object()
        hooks[key] = hook
        return _HookHandle(hooks, key)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        if self._node is None:
            return
        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                t.grad = g.detach().clone() if t.grad is None else t.grad + g

        self.register_hook(keep)

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
        return _make(~self.data)

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
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        return _ew.Clamp.apply(self, min, max)

    clip = clamp

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element (no gradient)."""
        return _make(backend.get_array_module(self.data).sign(self.data))

    def square(self) -> Tensor:
        """y = x * x."""
        return _ew.Mul.apply(self, self)

    def rsqrt(self) -> Tensor:
        """y = 1 / sqrt(x)."""
        return 1.0 / self.sqrt()

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
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind in "bu" or (x.dtype.kind == "i" and x.dtype != dtypes.int64):
            x = x.to(dtypes.int64)  # as PyTorch: integer sums accumulate in int64
        dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
        return _reduce.Sum.apply(x, _axes(dim, self.ndim), keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None, dtype: Any = None) -> Tensor:
        """Mean over ``dim`` (all dims if None)."""
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind != "f":
            raise RuntimeError(f"mean(): expected a floating point tensor, got {x.dtype}; "
                               "use x.float().mean() or mean(dtype=mg.float32)")
        dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
        return _reduce.Mean.apply(x, _axes(dim, self.ndim), keepdim)

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """Variance; ``correction=1`` (Bessel's, the default) divides by n - 1, as PyTorch."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
        return _reduce.Var.apply(self, _axes(dim, self.ndim), correction, keepdim)

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
        return _max_min(self, dim, keepdim, axis, keepdims, "max")

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """Smallest value(s); see :meth:`max`."""
        return _max_min(self, dim, keepdim, axis, keepdims, "min")

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Largest values over ``dim`` (an int or a tuple); the gradient is split among ties."""
        return _reduce.AMax.apply(self, _axes(dim, self.ndim), keepdim, "max")

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Smallest values over ``dim``; the gradient is split among ties."""
        return _reduce.AMax.apply(self, _axes(dim, self.ndim), keepdim, "min")

    def argmax(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None) -> Tensor:
        """Index of the largest value (over ``dim``, or of the flattened tensor); no gradient."""
        dim = axis if dim is None else dim
        ax = None if dim is None else _axes(dim, self.ndim)[0]
        return _reduce.ArgMax.apply(self, ax, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None) -> Tensor:
        """Index of the smallest value; no gradient."""
        dim = axis if dim is None else dim
        ax = None if dim is None else _axes(dim, self.ndim)[0]
        return _reduce.ArgMax.apply(self, ax, keepdim, "argmin")

    def all(self) -> Tensor:
        """True if every element is true (no gradient)."""
        return _make(backend.ensure_array(self.data.all()))

    def any(self) -> Tensor:
        """True if any element is true (no gradient)."""
        return _make(backend.ensure_array(self.data.any()))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (-1 infers one dimension); a view when possible."""
        shape = _shape_arg(shape)
        if shape == self.shape:
            return self
        known = 1
        for n in shape:
            known *= n if n != -1 else 1
        size = self.data.size
        if shape.count(-1) > 1 or (size != known if -1 not in shape else
                                   (known == 0 or size % known)):
            raise RuntimeError(f"shape {shape} is invalid for a tensor of shape {self.shape} "
                               f"({size} elements)")
        return _shape.Reshape.apply(self, shape)

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dimensions ``start_dim`` to ``end_dim`` merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _axes(start_dim, self.ndim)[0], _axes(end_dim, self.ndim)[0]
        if s > e:
            raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape
        return self.reshape(*shape[:s], -1 if 0 not in shape else int(np.prod(shape[s:e + 1])),
                            *shape[e + 1:])

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dimensions ``dim0`` and ``dim1`` swapped."""
        if self.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
            return self
        a, b = _axes(dim0, self.ndim)[0], _axes(dim1, self.ndim)[0]
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return _shape.Permute.apply(self, tuple(axes))

    def permute(self, *dims: Any) -> Tensor:
        """Dimensions reordered: output dimension i is input dimension ``dims[i]``."""
        dims = _shape_arg(dims)
        axes = tuple(_axes(d, self.ndim)[0] for d in dims)
        if sorted(axes) != list(range(self.ndim)):
            raise RuntimeError(f"permute: dims {dims} are not a permutation of the "
                               f"{self.ndim} dimensions of a tensor of shape {self.shape}")
        return _shape.Permute.apply(self, axes)

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dimension of size 1 inserted at ``dim``."""
        n = self.ndim + 1
        if not -n <= dim < n:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a result with {n} "
                             f"dimensions (expected in [{-n}, {n - 1}])")
        d = dim % n
        return self.reshape(*self.shape[:d], 1, *self.shape[d:])

    def squeeze(self, dim: Any = None) -> Tensor:
        """Dimensions of size 1 removed (only ``dim`` if given)."""
        if dim is None:
            axes = tuple(i for i, s in enumerate(self.shape) if s == 1)
        else:
            axes = tuple(a for a in _axes(dim, self.ndim) if self.ndim and self.shape[a] == 1)
        return self.reshape(*(s for i, s in enumerate(self.shape) if i not in axes))

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes`` without copying (-1 keeps a size); gradients are summed back."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least "
                               f"the number of dimensions ({self.ndim}) of shape {self.shape}")
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        for i, s in enumerate(self.shape):
            if s != 1 and s != shape[lead + i]:
                raise RuntimeError(f"expand: shape {self.shape} cannot be expanded to "
                                   f"{sizes}: dimension {i} has size {s}, which is not 1")
        if shape == self.shape:
            return self
        return _shape.Expand.apply(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """Broadcast to ``other``'s shape."""
        return self.expand(*other.shape)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given
        sizes if ``split_size`` is a list."""
        ax = _axes(dim, self.ndim)[0]
        n = self.shape[ax]
        if isinstance(split_size, int):
            if split_size <= 0:
                raise ValueError(f"split: split_size must be positive, got {split_size}")
            sizes = tuple(min(split_size, n - i) for i in range(0, n, split_size)) or (0,)
        else:
            sizes = tuple(int(s) for s in split_size)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sizes {list(sizes)} add up to {sum(sizes)}, but "
                                   f"dimension {dim} has size {n}")
        return _shape.Split.apply(self, sizes, ax)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as PyTorch."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[_axes(dim, self.ndim)[0]]
        size = -(-n // chunks) if n else 1
        return self.split(max(size, 1), dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, as a tuple, with that dimension removed."""
        ax = _axes(dim, self.ndim)[0]
        return tuple(p.squeeze(ax) for p in self.split(1, ax))

    def __getitem__(self, index: Any) -> Tensor:
        return _shape.GetItem.apply(self, _index_arg(index, self))

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # ------------------------------------------------------------------ in place
    def __setitem__(self, index: Any, value: Any) -> None:
        index = _index_arg(index, self)
        if isinstance(value, Tensor) and value.device != self.device:
            raise RuntimeError(f"setitem: value is on {value.device} but the tensor is on "
                               f"{self.device}")
        _inplace(self, _shape.SetItem, index, value)

    def __iadd__(self, other: Any) -> Tensor:
        return _inplace(self, _ew.Add, other)

    def __isub__(self, other: Any) -> Tensor:
        return _inplace(self, _ew.Sub, other)

    def __imul__(self, other: Any) -> Tensor:
        return _inplace(self, _ew.Mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return _inplace(self, _ew.Div, other)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """In place: self += alpha * other."""
        return _inplace(self, _ew.Add, other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """In place: self -= alpha * other."""
        return _inplace(self, _ew.Sub, other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Tensor:
        """In place: self *= other."""
        return _inplace(self, _ew.Mul, other)

    def div_(self, other: Any) -> Tensor:
        """In place: self /= other."""
        return _inplace(self, _ew.Div, other)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """In place: clamp to [min, max]."""
        return _inplace(self, _ew.Clamp, min, max)

    def zero_(self) -> Tensor:
        """In place: fill with zeros."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """In place: fill with ``value``."""
        return _inplace(self, _shape.SetItem, Ellipsis, value)

    def copy_(self, src: Any) -> Tensor:
        """In place: copy ``src``'s values (broadcast to this shape) into this tensor."""
        src = src if isinstance(src, Tensor) else Tensor(src, dtype=self.dtype, device=self.device)
        if src.device != self.device:
            src = src.to(self.device)
        return _inplace(self, _shape.SetItem, Ellipsis, src)

    def uniform_(self, a: float = 0.0, b: float = 1.0) -> Tensor:
        """In place: fill with samples from U(a, b)."""
        rng = backend.generator(self.device)
        return self.copy_(_make(rng.uniform(a, b, self.shape).astype(self.dtype)))

    def normal_(self, mean: float = 0.0, std: float = 1.0) -> Tensor:
        """In place: fill with samples from N(mean, std^2)."""
        rng = backend.generator(self.device)
        return self.copy_(_make((rng.standard_normal(self.shape) * std + mean)
                                .astype(self.dtype)))


class _HookHandle:
    def __init__(self, hooks: dict, key: object) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


# ---------------------------------------------------------------------- helpers

def _binary(op: Any, a: Tensor, b: Any, reflected: bool = False) -> Tensor:
    """Apply a binary op with PyTorch's type promotion (NumPy's differs for mixed kinds)."""
    if isinstance(b, Tensor):
        if a.data.dtype is not b.data.dtype:
            dt = dtypes.result_type(a.data, b.data)
            a = a if a.dtype == dt else a.to(dt)
            b = b if b.dtype == dt else b.to(dt)
    elif isinstance(b, (int, float)):  # Python numbers (and bool) never upcast a tensor
        if type(b) is not float and type(b) is not int and isinstance(b, np.generic):
            b = b.item()  # a NumPy scalar counts as a Python number, as in PyTorch
        if a.data.dtype.kind != "f" and not isinstance(b, bool) and isinstance(b, float):
            a = a.to(dtypes.get_default_dtype())
    else:
        b = Tensor(b, device=a.device)
        return _binary(op, a, b, reflected)
    return op.apply(b, a) if reflected else op.apply(a, b)


def _compare(a: Tensor, b: Any, name: str) -> Tensor:
    if isinstance(b, Tensor):
        return _ew.Compare.apply(a, b, name)
    if isinstance(b, (int, float)):
        return _ew.Compare.apply(a, b, name)
    return _ew.Compare.apply(a, Tensor(b, device=a.device), name)


def _inplace(t: Tensor, op: Any, *args: Any) -> Tensor:
    """Change ``t`` in place: ``t.data`` is overwritten and its version counter bumped.

    When autograd must see the change (``t`` or an argument requires grad), the op is recorded
    with the *old* value of ``t`` as its input and ``t`` becomes the op's output, as PyTorch
    does. What was saved for backward from the old value is then stale, and the version check
    raises if a backward still needs it.
    """
    graph = state.grad_enabled and (t.requires_grad or any(
        isinstance(a, Tensor) and a.requires_grad for a in args))
    if not graph:
        xs = [a.data if isinstance(a, Tensor) else a for a in args]
        if op is _shape.SetItem:
            t.data[xs[0]] = xs[1]
        else:
            result = op.forward(_new(op), t.data, *xs)
            _write(t, result)
        bump_version(t)
        return t
    if t._node is None and t.requires_grad:
        raise RuntimeError(
            "a leaf tensor that requires grad is being changed in place; that would make its "
            "gradient wrong. Change it inside `with mg.no_grad():` (as optimizers do) or change "
            "a copy: x = x.clone()")
    if getattr(t, "_base", None) is not None:
        raise RuntimeError(
            "in-place change of a view of another tensor, while recording for autograd, is not "
            "supported: the base tensor's gradient would be wrong. Build the result out of place "
            "(mg.cat, mg.stack, mg.where) or change a clone.")
    # the old value keeps t's place in the graph; copied only if the op's backward reads it
    old = _make(t.data.copy() if 0 in op.save_inputs else t.data)
    old._node, old._idx, old.requires_grad = t._node, t._idx, t.requires_grad
    result = op.apply(old, *args)
    if result.data is not t.data:
        _write(t, result.data)
    bump_version(t)
    t._node, t._idx, t.requires_grad = result._node, result._idx, True
    return t


def _write(t: Tensor, value: Any) -> None:
    try:
        t.data[...] = value
    except (ValueError, TypeError) as e:
        raise RuntimeError(f"in-place operation on a tensor of shape {t.shape} and dtype "
                           f"{t.dtype} failed: {e}. The result must keep the tensor's shape "
                           "(no broadcasting to a larger shape) and dtype.") from None


def _is_dtype_name(s: Any) -> bool:
    if not isinstance(s, str):
        return False
    try:
        dtypes.to_dtype(s)
        return True
    except TypeError:
        return False


def _dim_args(dim: Any, axis: Any, keepdim: bool, keepdims: bool | None) -> tuple:
    """Accept NumPy's ``axis``/``keepdims`` as aliases of PyTorch's ``dim``/``keepdim``."""
    if axis is not None:
        if dim is not None:
            raise TypeError("give dim or axis, not both")
        dim = axis
    return dim, keepdim if keepdims is None else keepdims


def _axes(dim: Any, ndim: int) -> Any:
    from minigrad.ops.common import normalize_axis

    return normalize_axis(dim, ndim)


def _shape_arg(shape: tuple) -> tuple:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _max_min(x: Tensor, dim: Any, keepdim: bool, axis: Any, keepdims: Any, name: str) -> Any:
    if isinstance(dim, Tensor):  # mg.maximum-style call: x.max(other)
        return x.maximum(dim) if name == "max" else x.minimum(dim)
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if isinstance(dim, int):
        values, indices = _reduce.MaxDim.apply(x, _axes(dim, x.ndim)[0] if x.ndim else 0,
                                               keepdim, name)
        return MaxResult(values, indices)
    return _reduce.AMax.apply(x, _axes(dim, x.ndim), keepdim, name)


def _index_arg(index: Any, t: Tensor) -> Any:
    """Turn Tensor and list indices into arrays on ``t``'s device; check bounds kindly."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    xp = None
    for i in items:
        if isinstance(i, Tensor):
            if i.dtype.kind == "f":
                raise IndexError("tensors used as indices must be integer or boolean, got "
                                 f"{i.dtype}")
            i = int(i.item()) if i.ndim == 0 and i.dtype.kind in "iu" else i.data
            if not isinstance(i, int) and type(i) is not type(t.data):
                raise IndexError(f"index tensor is on {backend.device_of(i)} but the indexed "
                                 f"tensor is on {t.device}")
        elif isinstance(i, (list, np.ndarray)):
            xp = xp or backend.get_array_module(t.data)
            i = backend.to_device(i, t.device)
            if i.dtype.kind == "f" and i.size:
                raise IndexError("arrays used as indices must be integer or boolean")
            if i.size == 0:
                i = i.astype(np.int64)
        out.append(i)
    _check_bounds(out, t.shape)
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


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcasting all three)."""
    cond = condition if isinstance(condition, Tensor) else Tensor(condition)
    a = input if isinstance(input, (Tensor, int, float)) else Tensor(input, device=cond.device)
    b = other if isinstance(other, (Tensor, int, float)) else Tensor(other, device=cond.device)
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype is not b.dtype:
        dt = dtypes.result_type(a.data, b.data)
        a, b = a.to(dt), b.to(dt)
    elif isinstance(a, Tensor) and not isinstance(b, Tensor) and a.dtype.kind != "f":
        a = a.to(dtypes.scalar_result_type(a.dtype, b))
    elif isinstance(b, Tensor) and not isinstance(a, Tensor) and b.dtype.kind != "f":
        b = b.to(dtypes.scalar_result_type(b.dtype, a))
    return _ew.Where.apply(cond.bool() if cond.dtype.kind != "b" else cond, a, b)


def _iterable_of_tensors(ts: Iterable[Any], who: str) -> list[Tensor]:
    ts = list(ts)
    if not ts:
        raise ValueError(f"{who}: expected a non-empty sequence of tensors")
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: element {i} is a {type(t).__name__}, expected a Tensor")
    return ts


# The autograd package and the ops import Tensor from here, so they come after the class.
from minigrad.autograd.grad_mode import state  # noqa: E402
from minigrad.ops import elementwise as _ew  # noqa: E402
from minigrad.ops import linalg as _linalg  # noqa: E402
from minigrad.ops import reduce as _reduce  # noqa: E402
from minigrad.ops import shape as _shape  # noqa: E402
