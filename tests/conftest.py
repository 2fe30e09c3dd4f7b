"""Test configuration: every test that takes ``device`` runs on each backend.

- ``cpu``: NumPy.
- ``cuda``: real CuPy when CuPy and a GPU are present; otherwise the strict fake device
  (``MINIGRAD_FAKE_CUDA=1``), whose arrays refuse implicit conversion to NumPy as CuPy's do,
  so every device code path runs in CI. Set ``MINIGRAD_TEST_DEVICES=cpu`` to skip it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest


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
