"""A strict fake of CuPy, backed by NumPy, for testing the device code path without a GPU.

Enabled by ``MINIGRAD_FAKE_CUDA=1``. Its arrays behave like CuPy's where it matters for
catching bugs:

- ``np.asarray(a)``, ``float(a)`` of a non-scalar, and mixing with a NumPy array in one ufunc
  or NumPy function raise ``TypeError``, as CuPy does; reaching the host needs ``a.get()``.
- reductions return 0-d device arrays, never NumPy scalars.
- ``a.device.id`` is 0, so the array reports device ``cuda:0``.

It is a test double only: it is as fast as NumPy plus a thin wrapper, and never touches a GPU.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any

import numpy as np

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")


def _unwrap(x: Any) -> Any:
    if type(x) is FakeCudaArray:
        return x._a
    if isinstance(x, np.ndarray):
        raise TypeError(f"Unsupported type {type(x)} mixed with a (fake) CUDA array: "
                        "move it to the device first")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    return x


def _wrap(x: Any) -> Any:
    if type(x) is np.ndarray:
        return FakeCudaArray(x)
    if isinstance(x, np.generic):
        return FakeCudaArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class _DeviceId:
    id = 0

    def __repr__(self) -> str:
        return "<CUDA Device 0 (fake)>"


class FakeCudaArray:
    """An array that lives on the fake device; wraps a private NumPy array ``_a``."""

    __slots__ = ("_a",)
    device = _DeviceId()

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    # -- the strictness that makes this a useful double
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(_IMPLICIT)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args = [_unwrap(x) for x in inputs]
        outs = kwargs.get("out")
        if outs is None:
            return _wrap(getattr(ufunc, method)(*args, **kwargs))
        kwargs["out"] = tuple(_unwrap(o) for o in outs)
        getattr(ufunc, method)(*args, **kwargs)
        return outs[0] if len(outs) == 1 else outs

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if "out" in kwargs and kwargs["out"] is not None:
            out = kwargs["out"]
            kwargs = dict(kwargs, out=_unwrap(out))
            func(*_unwrap(args), **kwargs)
            return out
        return _wrap(func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))

    def get(self) -> np.ndarray:
        """Explicit copy to the host, as ``cupy.ndarray.get``."""
        return self._a.copy()

    def __float__(self) -> float:
        if self._a.size != 1:
            raise TypeError("only size-1 arrays can be converted to Python scalars")
        return float(self._a.reshape(())[()])

    def __int__(self) -> int:
        if self._a.size != 1:
            raise TypeError("only size-1 arrays can be converted to Python scalars")
        return int(self._a.reshape(())[()])

    def __index__(self) -> int:
        return self._a.__index__()

    def __bool__(self) -> bool:
        return bool(self._a)

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self) -> Any:
        return (FakeCudaArray(np.asarray(r)) for r in self._a)

    def __repr__(self) -> str:
        return repr(self._a).replace("array(", "fake_cuda_array(", 1)

    def __getitem__(self, idx: Any) -> Any:
        return _wrap(self._a[_unwrap(idx)])

    def __setitem__(self, idx: Any, value: Any) -> None:
        self._a[_unwrap(idx)] = _unwrap(value)

    # -- plain attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: FakeCudaArray(self._a.T))
    base = property(lambda self: None if self._a.base is None else FakeCudaArray(self._a.base))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # no __array_interface__ & co: that would be implicit
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args: Any, **kwargs: Any) -> Any:
            kw = {k: _unwrap(v) for k, v in kwargs.items()}
            return _wrap(attr(*_unwrap(args), **kw))

        return method


def _binary(ufunc: Any) -> Any:
    return lambda self, other: ufunc(self, other)


def _reflected(ufunc: Any) -> Any:
    return lambda self, other: ufunc(other, self)


def _inplace(ufunc: Any) -> Any:
    def op(self: FakeCudaArray, other: Any) -> FakeCudaArray:
        ufunc(self._a, _unwrap(other), out=self._a)
        return self
    return op


for _name, _uf in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                   ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                   ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                   ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor)]:
    setattr(FakeCudaArray, f"__{_name}__", _binary(_uf))
    setattr(FakeCudaArray, f"__r{_name}__", _reflected(_uf))
    if _name != "matmul":
        setattr(FakeCudaArray, f"__i{_name}__", _inplace(_uf))
for _name, _uf in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                   ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(FakeCudaArray, f"__{_name}__", _binary(_uf))
FakeCudaArray.__neg__ = lambda self: np.negative(self)  # type: ignore[attr-defined]
FakeCudaArray.__pos__ = lambda self: self  # type: ignore[attr-defined]
FakeCudaArray.__abs__ = lambda self: np.absolute(self)  # type: ignore[attr-defined]
FakeCudaArray.__invert__ = lambda self: np.invert(self)  # type: ignore[attr-defined]
FakeCudaArray.__hash__ = None  # type: ignore[assignment]


class _FakeGenerator:
    """``cupy.random.Generator`` look-alike: draws on the host, returns device arrays."""

    def __init__(self, seed: int | None) -> None:
        self._g = np.random.default_rng(seed)

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self._g, name)
        return lambda *a, **k: _wrap(fn(*_unwrap(a), **{n: _unwrap(v) for n, v in k.items()}))


def _creator(fn: Any) -> Any:
    return lambda *a, **k: _wrap(np.asarray(fn(*a, **k)))


def _asarray(x: Any, dtype: Any = None) -> FakeCudaArray:
    if type(x) is FakeCudaArray:
        return x if dtype is None or x.dtype == dtype else FakeCudaArray(x._a.astype(dtype))
    return FakeCudaArray(np.array(x, dtype=dtype))  # a host -> device copy


def _array(x: Any, dtype: Any = None, copy: bool = True) -> FakeCudaArray:
    if type(x) is FakeCudaArray:
        return FakeCudaArray(np.array(x._a, dtype=dtype, copy=copy))
    return FakeCudaArray(np.array(x, dtype=dtype))


def _scatter_add(target: FakeCudaArray, index: Any, values: Any) -> None:
    np.add.at(target._a, _unwrap(index), _unwrap(values))


class _Module(SimpleNamespace):
    """Namespace standing in for the ``cupy`` module."""

    def __getattr__(self, name: str) -> Any:
        # ufuncs and array functions dispatch through __array_ufunc__/__array_function__
        return getattr(np, name)


module = _Module(
    ndarray=FakeCudaArray,
    asarray=_asarray,
    array=_array,
    ascontiguousarray=_asarray,
    asnumpy=lambda x: x.get() if type(x) is FakeCudaArray else np.asarray(x),
    scatter_add=_scatter_add,
    fuse=lambda *a, **k: (a[0] if a and callable(a[0]) else (lambda f: f)),
    random=SimpleNamespace(default_rng=_FakeGenerator),
    cuda=SimpleNamespace(Device=lambda i=0: contextlib.nullcontext(),
                         runtime=SimpleNamespace(getDeviceCount=lambda: 1)),
    **{name: _creator(getattr(np, name)) for name in
       ("zeros", "ones", "empty", "full", "arange", "eye", "linspace")},
)
