"""Packaging: a wheel built from the sources installs into a fresh virtual environment and
works there, with its package data (the vendored data files, ``py.typed``) and the
assignments, which the grader runs by name from any folder. The distribution is named
``minigrad-rnn`` (``minigrad`` on the package index is an unrelated project).

The build runs on a copy of the sources (so no ``build/`` or ``*.egg-info`` appears in the
checkout) with ``pip wheel --no-deps``. When the running environment already has the build
backend (setuptools >= 68 with ``bdist_wheel``), it builds offline (``--no-build-isolation``);
otherwise pip fetches the backend from the package registry, and the test skips if that is
unreachable. The fresh venv gets NumPy from the running environment through a ``.pth`` file
(that works whether or not this interpreter is itself a venv, and installs nothing), while
minigrad itself comes only from the wheel.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
DATA_FILES = sorted(p.name for p in (ROOT / "minigrad" / "data" / "datasets" / "files").iterdir()
                    if p.is_file())
NETWORK_ERRORS = ("Could not find a version", "No matching distribution", "Failed to establish",
                  "Network is unreachable", "Temporary failure in name resolution",
                  "connection", "Connection")


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _can_build_offline() -> bool:
    """setuptools >= 68 and a bdist_wheel (built in since 70.1, else the wheel package)."""
    try:
        setuptools = _version_tuple(importlib.metadata.version("setuptools"))
    except importlib.metadata.PackageNotFoundError:
        return False
    if setuptools < (68,):
        return False
    if setuptools >= (70, 1):
        return True
    try:
        importlib.metadata.version("wheel")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel once for this module, from a clean copy of the sources."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    for package in ("minigrad", "assignments"):
        shutil.copytree(ROOT / package, src / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)]
    offline = _can_build_offline()
    if offline:
        cmd.insert(5, "--no-build-isolation")
    proc = _run(cmd, cwd=tmp)
    if proc.returncode != 0:
        log = proc.stdout + proc.stderr
        if not offline and any(s in log for s in NETWORK_ERRORS):
            pytest.skip("building needs setuptools>=68 from the package registry, which is "
                        "unreachable; install setuptools>=68 to build offline")
        pytest.fail(f"pip wheel failed:\n{log}")
    wheels = list(dist.glob("minigrad_rnn-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


DISTRIBUTION = "minigrad-rnn"
ASSIGNMENTS = sorted(p.parent.parent.name for p in ROOT.glob("assignments/*/grader/checks.py"))


def test_wheel_contents(wheel: Path) -> None:
    assert wheel.name.startswith(f"minigrad_rnn-{mg.__version__}-py3-none-any")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read(f"minigrad_rnn-{mg.__version__}.dist-info/METADATA").decode()
    for f in DATA_FILES:
        assert f"minigrad/data/datasets/files/{f}" in names
    for f in ("minigrad/py.typed", "minigrad/__init__.py", "minigrad/interop.py",
              "minigrad/testing/__init__.py", "minigrad/testing/pytest_plugin.py"):
        assert f in names
    for name in ASSIGNMENTS:  # every assignment, with its references, template and solution
        shipped = {n for n in names if n.startswith(f"assignments/{name}/")}
        parts = ["grader/checks.py", "template/", "solution/"]
        if (ROOT / "assignments" / name / "grader" / "references").is_dir():
            parts.append("grader/references/")  # (a project graded live has none)
        for part in parts:
            assert any(n.startswith(f"assignments/{name}/{part}") for n in shipped), (name, part)
    assert "minigrad/testing/grade/__main__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "tutorials/"))]
    assert not [n for n in names if "__pycache__" in n]
    assert f"Name: {DISTRIBUTION}\n" in meta
    assert f"Version: {mg.__version__}" in meta
    assert "Provides-Extra: safetensors" in meta
    assert re.search(r"Requires-Dist: numpy>=", meta)


def test_wheel_installs_and_works_in_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    proc = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = Path(_run([str(python), "-c", "import sysconfig; "
                         "print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path).stdout.strip())
    # NumPy (and pip, to install the wheel) from the running environment, as plain paths
    import pip

    deps = {str(Path(np.__file__).parent.parent), str(Path(pip.__file__).parent.parent)}
    (purelib / "_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    proc = _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                 str(wheel)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = textwrap.dedent(f"""
        import importlib.metadata, importlib.resources, pathlib
        import minigrad as mg
        import minigrad.interop, minigrad.testing
        here = pathlib.Path(mg.__file__).resolve()
        assert here.is_relative_to(pathlib.Path({str(purelib.resolve())!r})), here
        assert mg.__version__ == importlib.metadata.version("minigrad-rnn") == {mg.__version__!r}
        files = importlib.resources.files("minigrad") / "data" / "datasets" / "files"
        assert sorted(p.name for p in files.iterdir()) == {DATA_FILES!r}
        assert (importlib.resources.files("minigrad") / "py.typed").is_file()
        x = mg.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        assert x.grad.tolist() == [2.0, 4.0]
        print("ok", here)
    """)
    proc = _run([str(python), "-c", check], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok ")
    # the grader and the shipped assignments, from an unrelated folder
    work = tmp_path / "work"
    work.mkdir()
    proc = _run([str(python), "-m", "minigrad.testing.grade", "--assignment", "tiny",
                 "--self-check", "--json", "results.json"], cwd=work)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Total: 5 / 5" in proc.stdout
    assert (work / "results.json").is_file()
    proc = _run([str(python), "-c", "import minigrad.testing.grade as g; "
                 "print(g.assignments_dir())"], cwd=work)
    shipped = Path(proc.stdout.strip())
    assert shipped.resolve().is_relative_to(purelib.resolve()), shipped
    proc = _run([str(python), "-m", "minigrad.testing.grade", "--assignment", "gru",
                 "--submission", str(shipped / "gru" / "template"), "--only", "Part 1"],
                cwd=work)
    assert proc.returncode == 0 and "Total: 0 / 6" in proc.stdout, proc.stdout + proc.stderr


def test_version_matches_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from "
                                  "Python 3.11")

    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    assert mg.__version__ == project["version"]
    assert (ROOT / "minigrad" / "py.typed").is_file()
    extras = project["optional-dependencies"]
    assert any(d.startswith("safetensors") for d in extras["safetensors"])
    assert any(d.startswith("safetensors") for d in extras["dev"])
