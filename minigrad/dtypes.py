"""Data types and PyTorch's type-promotion rules.

minigrad's dtypes *are* NumPy dtype objects (``mg.float32 is np.dtype("float32")``), so they
pass straight to NumPy and CuPy. What differs from NumPy is promotion, which follows PyTorch:

- the default floating dtype is float32;
- Python scalars never upcast a tensor (``x32 * 0.5`` stays float32; an integer tensor times a
  Python float becomes the default float dtype);
- an integer tensor combined with a float tensor takes the float tensor's dtype
  (NumPy would give float64);
- a 0-d tensor only decides the result when it is of a higher *category*
  (bool < integer < floating) than every dimensioned operand.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import backend

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
bool_ = np.dtype("bool")

_default_float = float32

_BY_NAME = {
    "float32": float32, "float": float32, "float64": float64, "double": float64,
    "float16": float16, "half": float16, "int64": int64, "long": int64, "int32": int32,
    "int": int32, "int8": int8, "uint8": uint8, "bool": bool_,
}


def to_dtype(dtype: Any) -> np.dtype:
    """Resolve ``mg.float32``, ``np.float64``, ``"float32"``, ``float``, ... to a dtype."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, str):
        name = dtype.removeprefix("torch.").removeprefix("minigrad.")
        if name in _BY_NAME:
            return _BY_NAME[name]
        raise TypeError(f"unknown dtype {dtype!r}: expected one of {sorted(_BY_NAME)}")
    if dtype is float:
        return _default_float
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use mg.float32, mg.float64, mg.int64 "
                        "or mg.bool") from None


def get_default_dtype() -> np.dtype:
    """The floating dtype of new tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Set the floating dtype of new tensors made from Python floats (float32 by default)."""
    global _default_float
    d = to_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"the default dtype must be floating point, got {d}")
    _default_float = d


def is_floating(dtype: np.dtype) -> bool:
    """True for a floating-point dtype (float16/32/64)."""
    return dtype.kind == "f"


def _category(dtype: np.dtype) -> int:
    return 0 if dtype.kind == "b" else (2 if dtype.kind == "f" else 1)


def result_type(a: Any, b: Any) -> np.dtype:
    """PyTorch's promotion of two array operands ``a`` and ``b`` (anything with dtype, ndim)."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ca, cb = _category(da), _category(db)
    if ca != cb:  # the higher category wins outright, whatever the dims
        return da if ca > cb else db
    if (a.ndim == 0) != (b.ndim == 0):  # same category: a 0-d operand defers to the other
        return db if a.ndim == 0 else da
    return np.promote_types(da, db)


def scalar_result_type(dtype: np.dtype, scalar: Any) -> np.dtype:
    """The dtype of ``tensor op scalar`` for a Python scalar (scalars never upcast)."""
    if isinstance(scalar, bool) or dtype.kind == "f":
        return dtype
    if isinstance(scalar, float):
        return _default_float
    if isinstance(scalar, int) and dtype.kind == "b":
        return int64
    return dtype


def promote(a: Any, b: Any) -> np.dtype:
    """The dtype of ``a op b``: ``a`` an array, ``b`` an array or a Python number."""
    if hasattr(b, "dtype"):
        return result_type(a, b)
    return scalar_result_type(a.dtype, b)


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype a sum accumulates in: as PyTorch, bool and integer sums give int64."""
    return int64 if dtype.kind in "bui" else dtype


def to_array(data: Any, dtype: Any = None, device: Any = None) -> Any:
    """``data`` as a backend array of the right dtype on the right device (a copy).

    Python floats become the default float dtype (float32), Python ints int64, as PyTorch.
    """
    dev = backend.device(device) if device is not None else None
    dt = None if dtype is None else to_dtype(dtype)
    if hasattr(data, "_node"):  # a Tensor
        data = data.data
    if backend.is_array(data):
        source = data
        if dev is not None and backend.device_of(data) != dev:
            data = backend.to_device(data, dev)
        if dt is not None and data.dtype != dt:
            data = data.astype(dt)
        if data is source:
            data = data.copy()  # mg.tensor copies, as torch.tensor does (from_numpy shares)
        return data
    if dt is None:
        try:
            arr = np.asarray(data)
        except ValueError as e:
            raise ValueError(f"cannot make a tensor from {type(data).__name__} data: {e}. "
                             "Nested lists must be rectangular.") from None
        if arr.dtype.kind == "f":
            arr = arr.astype(_default_float)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(int64)
        elif arr.dtype.kind not in "b":
            raise TypeError(f"cannot make a tensor from data of type {arr.dtype} "
                            f"({type(data).__name__}); expected numbers, bools or arrays")
    else:
        arr = np.asarray(data, dtype=dt)
    return backend.to_device(arr, dev or backend.get_default_device())


def parse_to(args: tuple, kwargs: dict) -> tuple:
    """The ``(device, dtype)`` asked for by ``x.to(...)`` or ``module.to(...)`` (None: keep).

    Accepts PyTorch's forms: ``to("cuda")``, ``to(mg.float64)``, ``to("cuda", mg.float64)``,
    ``to(other_tensor)`` (its device and dtype), and ``device=``/``dtype=`` keywords.
    """
    kwargs = dict(kwargs)
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}; expected a device, "
                        "a dtype, a tensor, device= or dtype=")
    for a in args:
        if hasattr(a, "_node"):  # a Tensor: match its device and dtype
            device, dtype = backend.device_of(a.data), a.data.dtype
        elif isinstance(a, backend.Device) or (isinstance(a, str) and a.split(":")[0].strip()
                                                in ("cpu", "cuda")):
            device = a
        else:
            dtype = a
    return (None if device is None else backend.device(device),
            None if dtype is None else to_dtype(dtype))
