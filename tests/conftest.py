"""Test configuration: every test that takes ``device`` runs on each backend.

- ``cpu``: NumPy.
- ``cuda``: real CuPy when CuPy and a GPU are present; otherwise the strict fake device
  (``MINIGRAD_FAKE_CUDA=1``), whose arrays refuse implicit conversion to NumPy as CuPy's do,
  so every device code path runs in CI. Set ``MINIGRAD_TEST_DEVICES=cpu`` to skip it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def _real_cuda() -> bool:
    if os.environ.get("MINIGRAD_FAKE_CUDA"):
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


REAL_CUDA = _real_cuda()
if not REAL_CUDA:
    os.environ["MINIGRAD_FAKE_CUDA"] = "1"

DEVICES = [d for d in os.environ.get("MINIGRAD_TEST_DEVICES", "cpu,cuda").split(",") if d]


def pytest_report_header(config: pytest.Config) -> str:
    kind = "real CuPy" if REAL_CUDA else "fake (MINIGRAD_FAKE_CUDA=1)"
    return f"minigrad test devices: {', '.join(DEVICES)}; cuda is {kind}"


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """The device to run on: "cpu" or "cuda" (real or fake)."""
    return request.param


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same random state."""
    import minigrad as mg

    mg.manual_seed(0)
    np.random.seed(0)


# ------------------------------------------------------------------ shared by the test modules
# Import them with `from conftest import ...` (pytest puts tests/ on the path).

# Tolerances against PyTorch reference fixtures, by dtype: tighter than the kit's defaults in
# float64 (the point is agreement to float64 precision), the kit's order of size in float32.
REFERENCE_TOLERANCES = {"float64": {"rtol": 1e-10, "atol": 1e-12},
                        "float32": {"rtol": 1e-5, "atol": 1e-6}}


def mismatch(actual: object, expected: object, **kwargs: object) -> str | None:
    """None if ``mg.testing.assert_close(actual, expected, **kwargs)`` passes, else its message:
    for tests that collect every problem of a case before failing."""
    from minigrad.testing import assert_close

    try:
        assert_close(actual, expected, **kwargs)
    except AssertionError as e:
        return str(e)
    return None


def close_to_reference(actual: object, expected: object, dtype: str,
                       name: str | None = None) -> None:
    """``assert_close`` with the reference tolerances of ``dtype`` ("float64"/"float32")."""
    from minigrad.testing import assert_close

    assert_close(actual, expected, name=name, **REFERENCE_TOLERANCES[str(dtype)])


def load_case_table(filename: str) -> ModuleType:
    """Import a case table of tests/reference/ (e.g. ``"edge_cases.py"``) by path, once."""
    name = f"_minigrad_reference_{Path(filename).stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REFERENCE_DIR / filename)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


EDGE_FIXTURE = REFERENCE_DIR / "fixtures" / "edge_float64.npz"
EDGE_REGENERATE = "regenerate with `python tests/reference/generate_edge.py` (needs torch)"


@functools.cache
def edge_references() -> dict[str, Any]:
    """The edge-case bundle (0-d, empty, NaN, all ignored), read once."""
    from minigrad.testing import load_references

    if not EDGE_FIXTURE.exists():
        pytest.fail(f"missing fixture {EDGE_FIXTURE}; {EDGE_REGENERATE}")
    return load_references(EDGE_FIXTURE)


def replay_edge_case(name: str, device: str) -> Any:
    """Replay the case ``name`` of tests/reference/edge_cases.py against PyTorch's values on
    ``device`` (NaN-aware); return its reference."""
    import minigrad as mg

    case = next((c for c in load_case_table("edge_cases.py").CASES if c.name == name), None)
    assert case is not None, f"no case {name!r} in tests/reference/edge_cases.py"
    refs = edge_references()
    if name not in refs:
        pytest.fail(f"case {name!r} is not in {EDGE_FIXTURE.name}; {EDGE_REGENERATE}")
    from minigrad.testing import check_against_reference

    with warnings.catch_warnings():  # an op on nothing (a mean of no element) warns, as in NumPy
        warnings.simplefilter("ignore")
        check_against_reference(lambda *xs: case.fn(mg, *xs), refs[name], name=name,
                                device=device, equal_nan=True, **REFERENCE_TOLERANCES["float64"])
    return refs[name]


def count_nodes(out: Any) -> int:
    """Distinct graph nodes that the tensor ``out`` depends on (its ``grad_fn`` and up)."""
    seen, stack = set(), [out._node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        stack += [e[0] for e in node._edges or () if e is not None and e[1] >= 0]
    return len(seen)
