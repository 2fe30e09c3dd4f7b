"""Exchanging tensors and weights with NumPy, CuPy and PyTorch.

- Zero-copy tensors through DLPack: :func:`from_dlpack` accepts anything that implements
  ``__dlpack__`` (NumPy >= 1.22 arrays, CuPy arrays, PyTorch tensors, JAX arrays, minigrad
  Tensors) and returns a Tensor sharing its memory, on the same device; :func:`to_dlpack`
  exports a Tensor as a DLPack capsule, which ``torch.from_dlpack``, ``np.from_dlpack`` and
  ``cupy.from_dlpack`` accept. Shared memory means shared changes: an in-place update made by
  the other library is seen here (without bumping minigrad's version counters, so do not
  change values that a graph saved for backward).
- State dicts as safetensors files: :func:`save_safetensors` / :func:`load_safetensors`, so
  weights trained with PyTorch load by name into the same minigrad model (and back). Needs the
  optional ``safetensors`` package: ``pip install 'minigrad-rnn[safetensors]'``.

Example (PyTorch -> minigrad)::

    # in PyTorch
    from safetensors.torch import save_file
    save_file(torch_model.state_dict(), "model.safetensors")
    # in minigrad
    model.load_state_dict(mg.interop.load_safetensors("model.safetensors"))
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor, _make
from minigrad.utils.files import atomic_write, describe_format, sniff

# DLPack device types (dlpack.h, DLDeviceType)
KDL_CPU = 1
KDL_CUDA = 2
KDL_CUDA_HOST = 3
KDL_CUDA_MANAGED = 13
SAFETENSORS_HINT = ("saving and loading safetensors files needs the safetensors package: "
                    "`pip install 'minigrad-rnn[safetensors]'` (or `pip install safetensors`)")


# --------------------------------------------------------------------------- DLPack


def _exportable(t: Tensor) -> Any:
    """The array behind ``t``, after checking it can be exported."""
    if not isinstance(t, Tensor):
        raise TypeError(f"expected a minigrad Tensor, got {type(t).__name__}")
    if t.requires_grad:
        raise RuntimeError("can't export a tensor that requires grad through DLPack (the other "
                           "library would not see the graph); use tensor.detach()")
    data = t.data
    if not hasattr(data, "__dlpack__"):
        raise RuntimeError(f"the array behind this tensor ({type(data).__name__}, on "
                           f"{t.device}) cannot be exported through DLPack; the fake CUDA "
                           "device used for testing (MINIGRAD_FAKE_CUDA=1) has no DLPack "
                           "support, real CuPy arrays do")
    return data


def dlpack_capsule(t: Tensor, *, stream: Any = None, max_version: Any = None,
                   dl_device: Any = None, copy: bool | None = None) -> Any:
    """``Tensor.__dlpack__``: a DLPack capsule for the tensor's memory (no copy).

    The keyword arguments are the Python array API's; those left as None are not passed on,
    so older NumPy (1.22-1.26, which knows only ``stream``) works too.
    """
    data = _exportable(t)
    kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                ("dl_device", dl_device), ("copy", copy)) if v is not None}
    try:
        return data.__dlpack__(**kwargs)
    except BufferError as e:
        if isinstance(data, np.ndarray) and not data.flags.writeable:
            reason = str(e).rstrip(".")
            raise BufferError(f"{reason}. NumPy does not export read-only arrays through "
                              "DLPack; export t.clone() instead") from None
        raise


def dlpack_device(t: Tensor) -> tuple[int, int]:
    """``Tensor.__dlpack_device__``: ``(device type, device index)`` as DLPack numbers them."""
    if t.device.type == "cpu":
        return (KDL_CPU, 0)
    data = t.data
    if hasattr(data, "__dlpack_device__"):
        return tuple(data.__dlpack_device__())  # type: ignore[return-value]
    return (KDL_CUDA, int(t.device.index or 0))


def to_dlpack(t: Tensor) -> Any:
    """Export ``t`` as a DLPack capsule, sharing memory (``torch.utils.dlpack.to_dlpack``).

    Prefer passing the tensor itself to the consumer (``torch.from_dlpack(t)``,
    ``np.from_dlpack(t)``): the capsule form exists for libraries that only take capsules.
    A capsule can be consumed once.
    """
    return dlpack_capsule(t)


class _Capsule:
    """Lets NumPy's ``from_dlpack`` (which wants an object, not a capsule) read a capsule."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (KDL_CPU, 0)


def from_dlpack(obj: Any) -> Tensor:
    """A Tensor that shares memory with ``obj`` (``torch.from_dlpack``), on ``obj``'s device.

    ``obj`` is anything with ``__dlpack__`` and ``__dlpack_device__`` (NumPy and CuPy arrays,
    PyTorch tensors, minigrad Tensors, ...) or a DLPack capsule (a CPU one, or a CUDA one
    when CuPy is available). Host memory becomes a NumPy-backed tensor, CUDA memory a
    CuPy-backed one. The result does not require grad (as in PyTorch).

    Example::

        >>> import numpy as np
        >>> from minigrad.interop import from_dlpack
        >>> a = np.arange(3.0)
        >>> t = from_dlpack(a)
        >>> a[0] = 7.0
        >>> t.tolist()
        [7.0, 1.0, 2.0]
    """
    if isinstance(obj, Tensor):
        t = _make(obj.data)  # same memory and version counter, cut from the graph
        t._version = obj._version
        return t
    if type(obj).__name__ == "PyCapsule":
        return _from_capsule(obj)
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack expects an object that implements __dlpack__ (a NumPy "
                        f"or CuPy array, a PyTorch tensor, ...) or a DLPack capsule, got "
                        f"{type(obj).__name__}")
    kind, index = obj.__dlpack_device__() if hasattr(obj, "__dlpack_device__") else (KDL_CPU, 0)
    if int(kind) in (KDL_CPU, KDL_CUDA_HOST):
        return _make(np.from_dlpack(obj))
    if int(kind) in (KDL_CUDA, KDL_CUDA_MANAGED):
        xp = backend.Device(f"cuda:{int(index)}").xp
        if not hasattr(xp, "from_dlpack"):
            raise RuntimeError("DLPack import on the fake CUDA device (MINIGRAD_FAKE_CUDA=1) "
                               "is not supported; it needs real CuPy")
        return _make(xp.from_dlpack(obj))
    raise BufferError(f"from_dlpack: DLPack device type {kind} is not supported by minigrad "
                      "(only CPU and CUDA memory are)")


def _from_capsule(capsule: Any) -> Tensor:
    try:
        return _make(np.from_dlpack(_Capsule(capsule)))
    except (BufferError, RuntimeError, TypeError) as e:
        if not backend.cuda_is_available():
            raise BufferError(f"from_dlpack could not read this capsule as host memory ({e}), "
                              "and no CUDA device is available to read it as GPU memory") from e
        xp = backend.Device("cuda").xp
        if not hasattr(xp, "from_dlpack"):
            raise
        return _make(xp.from_dlpack(capsule))


# --------------------------------------------------------------------------- safetensors


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy as st
    except ImportError as e:
        raise ImportError(SAFETENSORS_HINT) from e
    return st


def save_safetensors(state_dict: Mapping[str, Any], path: str | os.PathLike[str],
                     metadata: Mapping[str, str] | None = None) -> None:
    """Save a state dict (names -> Tensors or arrays) as a ``.safetensors`` file.

    The values are copied to the host; the names are kept as they are, so a file written from
    ``model.state_dict()`` loads into the same model in PyTorch
    (``torch_model.load_state_dict(safetensors.torch.load_file(path))``) and in minigrad.
    ``metadata`` is stored as string -> string pairs in the header. The write is atomic:
    a crash leaves any previous file intact.
    """
    st = _safetensors_numpy()
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"expected a dict of tensors, got {type(state_dict).__name__}")
    arrays: dict[str, np.ndarray] = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"safetensors names must be strings, got {name!r}")
        if isinstance(value, Tensor):
            value = value.data
        if not (backend.is_array(value) or isinstance(value, np.generic)):
            raise TypeError(f"{name!r}: safetensors stores tensors and arrays only, got "
                            f"{type(value).__name__}")
        arr = backend.to_host(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name!r}: safetensors stores bool, integer and floating tensors, "
                            f"got dtype {arr.dtype}")
        # np.ascontiguousarray would turn a 0-d array into shape (1,): require C order instead
        arrays[name] = np.require(arr, requirements="C")
    meta = None if metadata is None else {str(k): str(v) for k, v in metadata.items()}
    data = st.save(arrays, metadata=meta)
    atomic_write(path, data, who="save_safetensors")


def load_safetensors(path: str | os.PathLike[str], device: Any = None) -> dict[str, Tensor]:
    """Load a ``.safetensors`` file as a dict of Tensors (on ``device``, default: the default
    device), in the file's order; pass it to ``model.load_state_dict``.

    Files written by PyTorch (``safetensors.torch.save_file``) load as long as their dtypes
    exist in NumPy (bfloat16 does not: convert to float32 before saving).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a safetensors file (e.g. an ``.npz`` written by
            ``mg.save``), or is empty, truncated or damaged; the message names it.
    """
    path = os.fspath(path)
    dev = backend.device(device)
    arrays = _read_safetensors(path, _safetensors_numpy().load_file)  # memory-mapped read
    return {name: _make(backend.to_device(arr, dev)) for name, arr in arrays.items()}


def _read_safetensors(path: str, parse: Any) -> Any:
    """``parse(path)`` of a safetensors file, with errors that name ``path`` and what it is.

    The safetensors library's own exceptions (``SafetensorError``: "header too large",
    "invalid JSON in header", ...) are chained under a ValueError that names the file.
    """
    _safetensors_numpy()  # the install hint first
    kind = sniff(path)  # FileNotFoundError / IsADirectoryError name the path themselves
    if kind != "safetensors":
        extra = ("; mg.save checkpoints and mg.testing reference files are .npz archives: "
                 "read them with mg.load or mg.testing.load_reference" if kind == "npz" else "")
        raise ValueError(f"{path!r} is not a safetensors file: the file is "
                         f"{describe_format(kind)}{extra}")
    try:
        return parse(path)
    except Exception as e:  # SafetensorError has no public base class to catch
        dtype_hint = (" If it holds bfloat16 tensors, save them as float32 first (NumPy has "
                      "no bfloat16)." if "bf16" in str(e).lower() or "bfloat16" in str(e).lower()
                      else " Restore it from a copy or export it again.")
        raise ValueError(f"cannot load {path!r}: damaged or unsupported safetensors file "
                         f"({type(e).__name__}: {e}).{dtype_hint}") from e


def safetensors_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The string metadata stored in a ``.safetensors`` file's header (may be empty)."""
    import json

    def header(path: str) -> dict[str, str]:
        # read the header only (the tensors may be gigabytes), as safe_open would, but check
        # the file's length against it, which safe_open leaves to the first tensor read
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            head = json.loads(f.read(n).decode("utf-8"))
            size = os.fstat(f.fileno()).st_size
        end = max((int(v["data_offsets"][1]) for k, v in head.items() if k != "__metadata__"),
                  default=0)
        if 8 + n + end != size:
            raise ValueError(f"the header describes {8 + n + end} bytes, the file has "
                             f"{size} (truncated or appended to)")
        meta = head.get("__metadata__") or {}
        if not isinstance(meta, dict):
            raise TypeError(f"__metadata__ is {type(meta).__name__}, not a dict")
        return {str(k): str(v) for k, v in meta.items()}

    return _read_safetensors(os.fspath(path), header)


__all__ = ["dlpack_capsule", "dlpack_device", "from_dlpack", "load_safetensors",
           "safetensors_metadata", "save_safetensors", "to_dlpack"]
