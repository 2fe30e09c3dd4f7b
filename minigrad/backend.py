"""The one place that knows NumPy from CuPy.

Everything else asks this module for the *array module* ``xp`` of an array (``numpy`` or
``cupy``), for a device's module, or for the few operations whose spelling differs between
the two (scatter-add, host copies, random generators).

CuPy is imported lazily, the first time a CUDA device is used, so ``import minigrad`` stays
fast and works without it.

For tests on machines without a GPU, ``MINIGRAD_FAKE_CUDA=1`` makes ``"cuda"`` a strict
stand-in backed by NumPy (:mod:`minigrad._fake_cuda`): its arrays refuse implicit conversion to
NumPy exactly where CuPy's do, so a stray ``np.`` call on device data fails a test on CPU
instead of failing a user's GPU run.
"""

from __future__ import annotations

import math
import os
from types import ModuleType
from typing import Any

import numpy as np

CUDA_INSTALL_HINT = (
    "Install the CuPy extra that matches your CUDA toolkit, e.g. "
    "`pip install 'minigrad-rnn[cuda12]'` (CUDA 12.x) or `pip install 'minigrad-rnn[cuda13]'` "
    "(CUDA 13.x), on a machine with an NVIDIA GPU."
)


class Device:
    """Where a tensor's memory lives: ``Device("cpu")``, ``Device("cuda")``, ``Device("cuda:1")``.

    ``"cuda"`` means the current GPU, index 0, as in PyTorch's default.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: str | Device = "cpu") -> None:
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, idx = spec.strip().lower().partition(":")
        if kind not in ("cpu", "cuda") or (idx and not idx.isdigit()) or (kind == "cpu" and idx):
            raise ValueError(
                f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N' (N a GPU index)"
            )
        self.type = kind
        self.index = (int(idx) if idx else 0) if kind == "cuda" else None

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.type == "cpu" else (
            f"device(type='cuda', index={self.index})")

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"cuda:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except (TypeError, ValueError):
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    @property
    def xp(self) -> ModuleType:
        """The array module (``numpy`` or ``cupy``) that allocates on this device."""
        if self.type == "cpu":
            return np
        xp = _cuda_module()
        if self.index >= _gpu_count():  # CuPy would fail later, the fake would use GPU 0
            n = _gpu_count()
            raise RuntimeError(f"device {str(self)!r} does not exist: {n} GPU(s) visible, so "
                               f"valid devices are {', '.join(f'cuda:{i}' for i in range(n))}")
        return xp


CPU = Device("cpu")
_default_device = CPU


def device(spec: str | Device | None) -> Device:
    """Parse a device spec; ``None`` means the default device."""
    if spec is None:
        return _default_device
    if isinstance(spec, Device):
        return spec
    return Device(spec)


def set_default_device(spec: str | Device) -> None:
    """Make new tensors (``mg.zeros``, parameters, ...) live on ``spec`` unless told otherwise."""
    global _default_device
    dev = device(spec)
    if dev.type == "cuda":
        _cuda_module()  # fail now, with the install hint, rather than at the first tensor
    _default_device = dev


def get_default_device() -> Device:
    """The device new tensors go to when none is given (``cpu`` unless changed)."""
    return _default_device


# --------------------------------------------------------------------------- CUDA, lazily

_cupy: Any = None


def _fake_cuda_enabled() -> bool:
    return os.environ.get("MINIGRAD_FAKE_CUDA", "") not in ("", "0")


def _cuda_module() -> ModuleType:
    """Import CuPy (or the fake) once, with one clear error when it cannot work."""
    global _cupy
    if _cupy is not None:
        return _cupy
    if _fake_cuda_enabled():
        from minigrad import _fake_cuda

        _cupy = _fake_cuda.module
        return _cupy
    try:
        import cupy
    except ImportError as e:
        raise RuntimeError(f"device 'cuda' needs CuPy, which is not installed. "
                           f"{CUDA_INSTALL_HINT}") from e
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CUDA driver missing or broken
        raise RuntimeError(f"CuPy is installed but no usable GPU was found ({e}). "
                           f"{CUDA_INSTALL_HINT}") from e
    if count == 0:
        raise RuntimeError(f"CuPy is installed but no GPU is visible. {CUDA_INSTALL_HINT}")
    _cupy = cupy
    return _cupy


def cuda_is_available() -> bool:
    """True when device 'cuda' can be used (CuPy and a GPU, or the test fake)."""
    try:
        _cuda_module()
    except RuntimeError:
        return False
    return True


_gpu_count_cache: list[int] = []


def _gpu_count() -> int:
    """``cuda_device_count()``, asked once (it does not change while a process runs)."""
    if not _gpu_count_cache:
        _gpu_count_cache.append(cuda_device_count())
    return _gpu_count_cache[0]


def cuda_device_count() -> int:
    """How many GPUs minigrad can use (0 without CuPy)."""
    if not cuda_is_available():
        return 0
    if _fake_cuda_enabled():
        return 1
    return int(_cupy.cuda.runtime.getDeviceCount())


def cuda_synchronize() -> None:
    """Wait until the GPU has finished all queued work (``torch.cuda.synchronize``): GPU calls
    return before the device is done, so a timer must wait for it. Nothing to wait for on the
    fake device."""
    if not cuda_is_available():
        raise RuntimeError("mg.cuda.synchronize(): no CUDA device is available (CuPy and a GPU "
                           "are needed; MINIGRAD_FAKE_CUDA=1 gives a fake one for tests)")
    if not _fake_cuda_enabled():
        _cupy.cuda.Device().synchronize()


# --------------------------------------------------------------------------- arrays

def is_array(x: object) -> bool:
    """True for a NumPy array or an array of the CUDA backend."""
    return isinstance(x, np.ndarray) or (_cupy is not None and isinstance(x, _cupy.ndarray))


def get_array_module(x: Any) -> ModuleType:
    """``numpy`` for host arrays and Python numbers, the CUDA module for device arrays."""
    if type(x) is np.ndarray or _cupy is None:
        return np
    return _cupy if isinstance(x, _cupy.ndarray) else np


def device_of(x: Any) -> Device:
    """The device an array lives on."""
    if type(x) is np.ndarray or _cupy is None or not isinstance(x, _cupy.ndarray):
        return CPU
    return Device(f"cuda:{int(x.device.id)}")


def to_device(x: Any, dev: Device, dtype: Any = None) -> Any:
    """Return ``x`` (array, scalar or nested list) as an array on ``dev``; copies only if needed.

    This is the one explicit host <-> device copy; nowhere else converts implicitly.
    """
    if dev.type == "cpu":
        if _cupy is not None and isinstance(x, _cupy.ndarray):
            x = x.get()
        return np.asarray(x, dtype=dtype)
    cp = dev.xp  # checks that the device index exists
    if isinstance(x, cp.ndarray):
        if int(x.device.id) != dev.index:
            with cp.cuda.Device(dev.index):
                x = cp.array(x, copy=True)
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    with cp.cuda.Device(dev.index):
        return cp.asarray(np.asarray(x, dtype=dtype))


def to_host(x: Any) -> np.ndarray:
    """A NumPy copy (or view, for host arrays) of any backend array."""
    if type(x) is np.ndarray:
        return x
    if _cupy is not None and isinstance(x, _cupy.ndarray):
        return x.get()
    return np.asarray(x)


def scatter_add(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` where repeated indices accumulate (unbuffered)."""
    if type(target) is not np.ndarray:
        _cupy_scatter_add(target, index, values)
    elif (type(index) is np.ndarray and index.ndim == 1 and index.dtype.kind in "iu"
          and target.ndim > 1 and target.flags.c_contiguous
          and values.shape == index.shape + target.shape[1:]):
        # Whole rows (an embedding's gradient): ``np.add.at`` has a fast loop for a 1-D
        # target only, 4-6x faster here, so add element by element into the flat table.
        # The same additions in the same order; a negative row -k lands k rows from the end.
        row = math.prod(target.shape[1:])
        flat = (index.astype(np.intp)[:, None] * row + np.arange(row)).reshape(-1)
        np.add.at(target.reshape(-1), flat, values.reshape(-1))
    else:
        np.add.at(target, index, values)


def _cupy_scatter_add(target: Any, index: Any, values: Any) -> None:
    if _fake_cuda_enabled():
        _cupy.scatter_add(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


# --------------------------------------------------------------------------- randomness

_host_rng = np.random.default_rng()
_device_rngs: dict[int, Any] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed every generator minigrad uses (parameter init, randn, dropout, shuffling)."""
    global _host_rng, _seed
    _seed = int(seed)
    _host_rng = np.random.default_rng(_seed)
    _device_rngs.clear()


def host_generator() -> np.random.Generator:
    """The NumPy generator for host-side randomness (initialisation, data shuffling)."""
    return _host_rng


def generator(dev: Device) -> Any:
    """The random generator that draws directly on ``dev`` (NumPy's or CuPy's)."""
    if dev.type == "cpu":
        return _host_rng
    rng = _device_rngs.get(dev.index)
    if rng is None:
        cp = _cuda_module()
        seed = _seed if _seed is not None else int(_host_rng.integers(2**31))
        with cp.cuda.Device(dev.index):
            rng = cp.random.default_rng(seed + dev.index)
        _device_rngs[dev.index] = rng
    return rng


def ensure_array(y: Any) -> Any:
    """NumPy returns scalars (``np.float32``) from 0-d operations; turn them back into arrays."""
    return np.asarray(y) if isinstance(y, np.generic) else y


def tune_malloc(threshold: int = 1 << 30) -> bool:
    """Opt-in (Linux/glibc only): keep freed memory for reuse instead of returning it to the OS.

    NumPy allocates a fresh array for every temporary. glibc serves large ones with ``mmap`` and
    gives freed memory back at once, so each new array page-faults on first touch; on the
    tensor sizes of RNN training that can cost more than the arithmetic (see
    ``benchmarks/README.md``: a 64x256 op chain ran 3x faster with this setting). Raising
    glibc's mmap and trim thresholds to ``threshold`` bytes keeps the memory in the process.
    The price: the process holds on to its peak memory. Returns False where not supported.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
        return bool(libc.mallopt(m_mmap_threshold, threshold)) and bool(
            libc.mallopt(m_trim_threshold, threshold))
    except (OSError, AttributeError):
        return False
