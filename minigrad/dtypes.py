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
