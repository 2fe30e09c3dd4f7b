"""Writing files that are never lost, and naming what is wrong with files that are read.

Every file minigrad writes (checkpoints, safetensors exports, reference files, the data
cache) goes through :func:`atomic_write`, so that a crash, a kill or a full disk in the middle
of a save leaves the previous file exactly as it was:

1. The bytes go to a hidden temporary file in the *same* folder (``.NAME.tmp-PID-XXXX``), so
   the final rename never crosses file systems.
2. It is flushed and fsync'ed, given the mode the target should have, then renamed over the
   target with :func:`os.replace` (atomic on POSIX and Windows), and the folder is fsync'ed
   so the rename itself survives a power cut.
3. On any failure the temporary file is removed and the error names the user's path, never
   the temporary one. Temporary files left by processes that were killed (SIGKILL cannot be
   caught) are removed by the next write of the same target, once their process is gone
   (POSIX; on Windows they are left for you to delete).

Files behave like files:

- a new file's mode follows the umask (``0o666 & ~umask``, usually 0644); overwriting keeps the
  existing file's mode (and its owner and group, where the system allows it);
- a target without any write permission bit (``chmod a-w``) is refused with
  ``PermissionError``, even for root, who the operating system would let through: the
  bits are checked here, not only by the kernel;
- a symbolic link is followed: the file it points to is replaced and the link stays a link;
- a folder that does not exist, is not a folder, or cannot be written is reported by the
  user's path.

:func:`sniff` reads a file's first bytes to tell which format it is in, so that readers can
say "this is a safetensors file, use load_safetensors" instead of a library's error.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import numpy as np

__all__ = ["READ_ERRORS", "FileFormatError", "array_record", "atomic_write", "check_array",
           "describe_format", "naming_damage", "open_npz", "remove_stale", "sniff"]

_TMP_TAG = ".tmp-"


def _temp_name(final: str) -> str:
    folder, name = os.path.split(final)
    return os.path.join(folder, f".{name}{_TMP_TAG}{os.getpid()}-{os.urandom(4).hex()}")


def _remove_stale_temps(final: str) -> None:
    """Delete temporary files of ``final`` whose writing process no longer exists (killed)."""
    folder, name = os.path.split(final)
    remove_stale(folder, f".{name}{_TMP_TAG}")


def remove_stale(folder: str | os.PathLike[str], prefix: str) -> None:
    """Delete the entries of ``folder`` named ``PREFIX<pid>-...`` (files or folders) whose
    process ``pid`` is gone: what a killed process left behind."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-.+$")
    folder = os.fspath(folder) or "."
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        m = pattern.match(entry)
        if m is None or int(m[1]) == os.getpid() or _pid_alive(int(m[1])):
            continue
        full = os.path.join(folder, entry)
        with contextlib.suppress(OSError):
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there: never clean up
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or we cannot tell: keep the file)
    return True


def _check_target(path: str, final: str, who: str) -> os.stat_result | None:
    """Refuse targets that cannot or must not be replaced; return the existing file's stat
    (whose mode and owner the new file keeps), or None for a new file."""
    folder = os.path.dirname(final) or "."
    if not os.path.exists(folder):
        raise FileNotFoundError(errno.ENOENT, f"{who}: cannot write {path!r}: the folder "
                                f"{folder!r} does not exist (create it first, e.g. "
                                f"os.makedirs({folder!r}))")
    if not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"{who}: cannot write {path!r}: {folder!r} "
                                 "is a file, not a folder")
    try:
        st = os.stat(final)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"{who}: cannot write {path!r}: it is a folder; "
                                "give a file name inside it")
    if not st.st_mode & 0o222:
        raise PermissionError(errno.EACCES, f"{who}: {path!r} is write-protected (mode "
                              f"{stat.S_IMODE(st.st_mode):04o}), so it is not replaced; make it "
                              "writable (chmod u+w) or save under another name")
    return st


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None] | bytes, *,
                 who: str = "save") -> None:
    """Write a file so that readers see either the old file or the complete new one.

    Args:
        path: the file to create or replace (a symlink is followed: its target is replaced).
        write: the bytes to write, or a function that writes them to the open binary file it
            is given (e.g. ``lambda f: np.savez(f, **arrays)``).
        who: the public function doing the write, used to start error messages.

    Raises:
        FileNotFoundError, NotADirectoryError, IsADirectoryError: the folder is missing, is a
            file, or ``path`` is a folder.
        PermissionError: the target is write-protected, or the folder cannot be written.
        OSError: the disk is full or the file too large (``errno`` kept); the message names
            ``path`` and says the previous file is unchanged.
    """
    path = os.fspath(path)
    final = os.path.realpath(path)  # through symlinks: replace the file, keep the link
    old = _check_target(path, final, who)
    _remove_stale_temps(final)
    tmp = _temp_name(final)
    try:
        # O_CREAT applies the umask to 0o666, as open(path, "w") would for a new file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as e:
        raise _named(e, path, who, "cannot create a file in its folder") from e
    try:
        with os.fdopen(fd, "wb") as f:
            if old is not None:
                _keep_mode_and_owner(f.fileno(), old)
            if isinstance(write, (bytes, bytearray, memoryview)):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):  # disk full, file too large, I/O error: name the user's path
            raise _named(e, path, who, "the write failed") from e
        raise
    _fsync_dir(os.path.dirname(final))


def _keep_mode_and_owner(fd: int, old: os.stat_result) -> None:
    """Give the new file the replaced one's mode and, where allowed (root, or the same owner
    with a group of theirs), its owner and group: a file overwritten by root stays its
    owner's."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
    if hasattr(os, "fchown"):
        with contextlib.suppress(OSError):
            os.fchown(fd, old.st_uid, old.st_gid)


#: errno -> what to do about it, appended to write errors
_ADVICE = {
    errno.ENOSPC: "Free some disk space and save again",
    errno.EFBIG: "The file is larger than this process may write (ulimit -f)",
    getattr(errno, "EDQUOT", -1): "The disk quota is exhausted",
    errno.EROFS: "The folder is on a read-only file system; save elsewhere",
    errno.EACCES: "The folder is not writable; save elsewhere or fix its permissions",
    errno.EPERM: "The folder is not writable; save elsewhere or fix its permissions",
}


def _named(e: OSError, path: str, who: str, what: str) -> OSError:
    """The same kind of OSError (same errno), naming the user's path instead of a temp file."""
    advice = _ADVICE.get(e.errno or 0)
    msg = (f"{who}: cannot write {path!r} ({what}: {e.strerror or e}); any previous file at "
           f"that path is unchanged" + (f". {advice}" if advice else ""))
    return OSError(e.errno, msg) if e.errno else OSError(msg)


def _fsync_dir(folder: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders can't be opened."""
    try:
        dfd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --------------------------------------------------------------------------- reading

#: format -> what it is and which minigrad function reads it
_FORMATS = {
    "npz": "an .npz (zip) archive",
    "npy": "a single array in NumPy's .npy format, not an .npz archive",
    "safetensors": "a safetensors file (read it with mg.interop.load_safetensors)",
    "pickle": "a Python pickle (minigrad never unpickles: it could run code)",
    "empty": "empty (0 bytes): probably an interrupted copy or download",
    "unknown": "not in any format minigrad knows",
}


def sniff(path: str | os.PathLike[str]) -> str:
    """The format of the file at ``path``, from its first bytes: ``"npz"``, ``"npy"``,
    ``"safetensors"``, ``"pickle"``, ``"empty"`` or ``"unknown"``.

    Raises the usual ``FileNotFoundError`` / ``IsADirectoryError`` for a missing path or a
    folder (they name the path).
    """
    with open(os.fspath(path), "rb") as f:
        head = f.read(16)
        size = os.fstat(f.fileno()).st_size
    if not head:
        return "empty"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "npz"
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if len(head) >= 9:
        n = int.from_bytes(head[:8], "little")
        if 0 < n <= size - 8 and head[8:9] == b"{":
            return "safetensors"
    return "unknown"


def describe_format(kind: str) -> str:
    """A phrase for a format returned by :func:`sniff`, e.g. for "X is <phrase>"."""
    return _FORMATS[kind]


class FileFormatError(ValueError):
    """A file is not in the format expected, or is damaged (empty, truncated, corrupted,
    edited); the message names the user's file and what is wrong with it."""


#: What a damaged archive makes NumPy, zipfile, zlib or json raise while it is read; readers
#: chain them under a :class:`FileFormatError` that names the file.
READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, KeyError, TypeError,
               AttributeError, IndexError, OSError, struct.error)


@contextlib.contextmanager
def naming_damage(path: str, what: str) -> Iterator[None]:
    """Turn what a damaged file makes a reader's libraries raise (:data:`READ_ERRORS`) into
    a :class:`FileFormatError` that names ``path`` (``what``: "a minigrad checkpoint"...),
    chained to the original."""
    try:
        yield
    except FileFormatError:
        raise
    except READ_ERRORS as e:
        raise FileFormatError(f"{path!r} is a damaged or edited {what.removeprefix('a ')} "
                              f"({type(e).__name__}: {e}); restore it from a copy or write it "
                              "again") from e


def open_npz(path: str, what: str) -> Any:
    """Open ``path`` as an .npz archive without pickle, or raise :class:`FileFormatError`
    saying what the file is instead (``what`` names the expected kind, e.g. "a minigrad
    checkpoint")."""
    kind = sniff(path)  # FileNotFoundError / IsADirectoryError name the path themselves
    if kind != "npz":
        raise FileFormatError(f"{path!r} is not {what}: the file is {describe_format(kind)}")
    try:
        return np.load(path, allow_pickle=False)
    except READ_ERRORS as e:
        raise FileFormatError(f"{path!r} is a damaged {what.removeprefix('a ')} (truncated "
                              f"or corrupted .npz archive: {type(e).__name__}: {e}); restore it "
                              "from a copy or write it again") from e


def array_record(arr: np.ndarray) -> dict[str, Any]:
    """What a file's header records about one of its arrays: dtype, shape and the CRC-32 of
    its bytes (C order), so that a reader can tell the array under a key is the one written
    there, even when another array of the same shape and dtype was swapped in."""
    flat = np.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    return {"dtype": str(arr.dtype), "shape": list(arr.shape), "crc32": zlib.crc32(flat)}


def check_array(arr: np.ndarray, record: dict[str, Any], path: str, key: str) -> np.ndarray:
    """Return ``arr`` if it matches its ``record`` (see :func:`array_record`; fields missing
    in files of older versions are not checked); else raise :class:`FileFormatError`."""
    shape, crc = record.get("shape"), record.get("crc32")
    problem = None
    if str(arr.dtype) != record.get("dtype") or (shape is not None
                                                 and list(arr.shape) != list(shape)):
        problem = (f"is {arr.dtype} of shape {tuple(arr.shape)}, but the header says "
                   f"{record.get('dtype')} of shape "
                   f"{tuple(shape) if shape is not None else '(not recorded)'}")
    elif crc is not None and array_record(arr)["crc32"] != crc:
        problem = "does not hold the values the header's checksum (CRC-32) records"
    if problem is not None:
        raise FileFormatError(f"{path!r}: array {key!r} {problem}: the file was edited or its "
                              "arrays swapped; restore it from a copy or write it again")
    return arr
