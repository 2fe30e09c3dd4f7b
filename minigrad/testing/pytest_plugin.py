"""pytest fixtures for tests of minigrad code: ``device``, ``seed``, ``rng``.

Opt in from a test module or the top-level ``conftest.py``::

    pytest_plugins = ["minigrad.testing.pytest_plugin"]

or on the command line, ``pytest -p minigrad.testing.pytest_plugin``. Then::

    def test_gru(device, rng):
        x = mg.tensor(rng.standard_normal((2, 3)), device=device)
        ...

runs once per available backend, from a seeded state.

- ``device``: ``"cpu"``, and ``"cuda"`` when ``mg.cuda.is_available()``; the environment
  variable ``MINIGRAD_TEST_DEVICES=cpu,cuda`` chooses them explicitly.
- ``seed``: seeds minigrad (``mg.manual_seed``) and NumPy's global generator, returns the
  seed (0, or ``MINIGRAD_TEST_SEED``).
- ``rng``: a ``numpy.random.Generator`` seeded the same way.

The plugin is not registered automatically (no ``pytest11`` entry point): installing minigrad
must not add fixtures named ``device`` or ``rng`` to every pytest run on the machine, where
they could clash with a project's own. A fixture of the same name in a ``conftest.py`` below
the root directory (minigrad's own ``tests/conftest.py`` defines ``device``) overrides the
plugin's, as pytest prefers the fixture defined closest to the test.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import minigrad as mg


def available_devices() -> list[str]:
    """The devices tests run on: ``MINIGRAD_TEST_DEVICES``, or cpu plus cuda if usable."""
    chosen = os.environ.get("MINIGRAD_TEST_DEVICES")
    if chosen:
        return [d.strip() for d in chosen.split(",") if d.strip()]
    return ["cpu", "cuda"] if mg.cuda.is_available() else ["cpu"]


def _seed_value() -> int:
    return int(os.environ.get("MINIGRAD_TEST_SEED", "0"))


DEVICES = available_devices()


def pytest_report_header(config: pytest.Config) -> str:
    return (f"minigrad {mg.__version__}: test devices {', '.join(DEVICES)}; "
            f"seed {_seed_value()}")


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> str:
    """The device to run on: each of ``available_devices()`` in turn."""
    return request.param


@pytest.fixture
def seed() -> int:
    """Seed minigrad and NumPy's global generator; return the seed."""
    value = _seed_value()
    mg.manual_seed(value)
    np.random.seed(value)
    return value


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    """A NumPy generator seeded like ``seed`` (which it also applies to minigrad)."""
    return np.random.default_rng(seed)
