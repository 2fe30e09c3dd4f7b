"""``save`` / ``load``: nested checkpoints in one ``.npz`` file, without pickle.

A checkpoint is any nesting of dicts (str or int keys), lists and tuples whose leaves are
Tensors, NumPy/CuPy arrays, Python numbers, bools, None and strings, e.g. ::

    mg.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3}, "ckpt.npz")
    ckpt = mg.load("ckpt.npz")

The file is an ordinary ``.npz`` archive: every array is stored under a key derived from its
path in the structure (``optim/state/0/exp_avg``), and one more entry, ``__minigrad__``,
holds a JSON document (as a uint8 array) that describes the structure: container types, dict
key types, which leaves are Tensors (with device and ``requires_grad``) and which are arrays,
and the dtype, shape and CRC-32 of every array (checked when it is loaded). Nothing is ever
unpickled: ``load`` reads with ``allow_pickle=False``, so loading a file from an untrusted
source cannot run code.

Writes are atomic: the archive goes to a temporary file in the same directory, is flushed and
fsync'ed, then renamed over the target with ``os.replace`` (one helper,
:func:`minigrad.utils.files.atomic_write`). A crash mid-save leaves the previous checkpoint
intact. Reading checks what it reads: a file that is empty, truncated, damaged, in another
format, or whose arrays do not match the shapes and dtypes its header records raises
:class:`FileFormatError` naming the file and the problem.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from typing import IO, Any

import numpy as np

from minigrad import backend
from minigrad.tensor import Tensor
from minigrad.utils.files import (
    FileFormatError,
    array_record,
    atomic_write,
    check_array,
    naming_damage,
    open_npz,
)

FORMAT = "minigrad-checkpoint"
VERSION = 1
META_KEY = "__minigrad__"
_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


class _Writer:
    """Walks an object, collecting arrays under unique keys and a JSON-able description."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _key(self, path: list[str]) -> str:
        base = "/".join(_SAFE.sub("_", p) for p in path) or "root"
        key, n = base, 1
        while key in self.arrays or key == META_KEY:
            key, n = f"{base}~{n}", n + 1
        return key

    def encode(self, obj: Any, path: list[str]) -> Any:
        # plain JSON leaves (bool before int: bool is an int subclass)
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and type(obj) is int:
            return obj
        if type(obj) is float:
            return obj if np.isfinite(obj) else {"type": "float", "value": repr(obj)}
        if isinstance(obj, Tensor):
            node = {"type": "tensor", **self._array(backend.to_host(obj.data), path),
                    "device": str(obj.device), "requires_grad": bool(obj.requires_grad)}
            if _is_parameter(obj):
                node["parameter"] = True
            return node
        if backend.is_array(obj):
            return {"type": "array", **self._array(backend.to_host(obj), path),
                    "device": str(backend.device_of(obj))}
        if isinstance(obj, np.generic):  # a NumPy scalar, e.g. np.float32(0.5)
            return {"type": "scalar", **self._array(np.asarray(obj), path)}
        if isinstance(obj, dict):
            keys, values = [], []
            for k, v in obj.items():
                if not (isinstance(k, str) or type(k) is int):
                    raise TypeError(f"mg.save: dict keys must be str or int, got "
                                    f"{type(k).__name__} key {k!r} at {_where(path)}")
                keys.append(k)
                values.append(self.encode(v, path + [str(k)]))
            node = {"type": "dict", "keys": keys, "values": values}
            if isinstance(obj, OrderedDict):
                node["ordered"] = True
            return node
        if isinstance(obj, (list, tuple)):
            return {"type": "tuple" if isinstance(obj, tuple) else "list",
                    "items": [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]}
        raise TypeError(f"mg.save cannot store {type(obj).__name__} at {_where(path)}: "
                        f"supported are dicts (str/int keys), lists, tuples, Tensors, NumPy/CuPy "
                        f"arrays, numbers, bools, None and strings (no pickling)")

    def _array(self, arr: np.ndarray, path: list[str]) -> dict[str, Any]:
        """Store ``arr``; return its key and record (dtype, shape, CRC-32) for the header."""
        if arr.dtype.hasobject or arr.dtype.kind == "V":
            raise TypeError(f"mg.save cannot store an array of dtype {arr.dtype} at "
                            f"{_where(path)} without pickling")
        key = self._key(path)
        self.arrays[key] = arr
        return {"key": key, **array_record(arr)}


def _where(path: list[str]) -> str:
    return "the top level" if not path else "key path " + "/".join(path)


def _is_parameter(t: Tensor) -> bool:
    from minigrad.nn.parameter import Parameter

    return isinstance(t, Parameter)


def _write_npz(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write the archive to an open binary file (a seam the tests use to simulate a crash)."""
    np.savez(f, **arrays)


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Save a nested structure of tensors, arrays and plain values to ``path`` (one .npz file).

    ``path`` is used as given (no suffix is appended). The write is atomic (see
    :func:`minigrad.utils.files.atomic_write`): readers see either the old file or the
    complete new one, never a partial file, and a failed save leaves the old file as it was.
    A symlink is followed (the file it points to is replaced); a new file's mode follows the
    umask and an existing file keeps its mode; a write-protected file is refused.

    Raises:
        TypeError: for a value that cannot be stored without pickle; the message names its
            key path (e.g. ``key path optim/state/0/fn``).
        OSError: the folder is missing or not writable, the target is write-protected, or
            the disk is full; the message names ``path``.
    """
    writer = _Writer()
    structure = writer.encode(obj, [])
    meta = {"format": FORMAT, "version": VERSION, "structure": structure}
    arrays = dict(writer.arrays)
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: _write_npz(f, arrays), who="mg.save")


def load(path: str | os.PathLike[str], map_location: str | backend.Device | None = None) -> Any:
    """Load what :func:`save` wrote.

    Tensors (and CUDA arrays) are placed on ``map_location`` (``"cpu"``, ``"cuda"``, a
    Device), or on the default device (``mg.set_default_device``; ``cpu`` unless set) when
    it is None; NumPy arrays stay NumPy arrays. Dicts, lists, tuples and their key types come
    back exactly as saved.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FileFormatError: (a ``ValueError``) ``path`` is not a minigrad checkpoint, or is
            damaged; the message names the file and what is wrong.
    """
    path = os.fspath(path)
    dev = backend.device(map_location)
    with open_npz(path, "a minigrad checkpoint") as archive:
        if META_KEY not in archive.files:
            hint = ("it is a reference file of mg.testing: read it with "
                    "mg.testing.load_reference" if "__meta__" in archive.files else
                    "was it written by np.savez, not mg.save?")
            raise FileFormatError(f"{path!r} is not a minigrad checkpoint: the .npz archive "
                                  f"has no {META_KEY!r} entry ({hint})")
        with naming_damage(path, "a minigrad checkpoint"):
            meta = json.loads(archive[META_KEY].tobytes().decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise FileFormatError(f"{path!r} is not a minigrad checkpoint (unknown "
                                      "header)")
            version = meta.get("version", 0)
            if not isinstance(version, int) or version > VERSION:
                raise FileFormatError(f"{path!r} was written by a newer minigrad (checkpoint "
                                      f"format version {version!r}, this one reads up to "
                                      f"{VERSION})")
            return _Reader(archive, dev, path).decode(meta["structure"])


class _Reader:
    def __init__(self, archive: Any, dev: backend.Device, path: str) -> None:
        self.archive = archive
        self.dev = dev
        self.path = path

    def _array(self, node: dict[str, Any]) -> np.ndarray:
        key = node["key"]
        if key not in self.archive.files:
            raise FileFormatError(f"{self.path!r}: the header lists an array {key!r} that is "
                                  "not in the archive (damaged or edited checkpoint)")
        # the header records each array's dtype, shape and checksum, so arrays swapped or
        # replaced inside the archive are caught here rather than loaded into the wrong place
        return check_array(self.archive[key], node, self.path, key)

    def decode(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        kind = node["type"]
        if kind == "dict":
            items = zip(node["keys"], (self.decode(v) for v in node["values"]))
            return OrderedDict(items) if node.get("ordered") else dict(items)
        if kind == "list":
            return [self.decode(v) for v in node["items"]]
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
        if kind == "float":
            return float(node["value"])
        if kind == "scalar":
            return self._array(node)[()]
        if kind == "array":
            arr = self._array(node)
            saved_on_cpu = backend.Device(node["device"]).type == "cpu"
            return arr if saved_on_cpu else backend.to_device(arr, self.dev)
        if kind == "tensor":
            data = backend.to_device(self._array(node), self.dev)
            if node.get("parameter"):
                from minigrad.nn.parameter import Parameter

                return Parameter(Tensor(data, device=self.dev),
                                 requires_grad=node["requires_grad"])
            return Tensor(data, device=self.dev, requires_grad=node["requires_grad"])
        raise FileFormatError(f"{self.path!r}: unknown node type {kind!r} in the checkpoint "
                              "header (damaged or edited)")


__all__ = ["FileFormatError", "load", "save"]
