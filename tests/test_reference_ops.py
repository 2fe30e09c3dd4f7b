"""Compare minigrad's operators and their gradients with PyTorch reference fixtures.

The fixtures (``tests/reference/fixtures/ops_float64.npz`` and ``ops_float32.npz``) were
written by ``tests/reference/generate_ops.py`` with PyTorch; this module needs no torch. Each
case in ``tests/reference/op_cases.py`` holds ONE expression ``fn(m, *tensors)`` that the
generator evaluated with ``m = torch`` and that is replayed here with ``m = minigrad``.

For every case, dtype and device: outputs must match (shape, dtype, values), then
``out.backward(gout)`` must give the reference gradient of every input that requires grad,
in the input's dtype (float32 stays float32).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import REFERENCE_TOLERANCES, mismatch

import minigrad as mg

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
FIXTURE_DIR = REFERENCE_DIR / "fixtures"
DTYPES = ("float64", "float32")
REGENERATE = "regenerate with `python tests/reference/generate_ops.py` (needs torch)"


def _load_op_cases() -> ModuleType:
    """Import tests/reference/op_cases.py by path (works with or without tests/__init__.py)."""
    name = "_minigrad_reference_op_cases"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REFERENCE_DIR / "op_cases.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


op_cases = _load_op_cases()
CASES = op_cases.CASES


@functools.cache
def load_fixture(dtype: str) -> dict[str, np.ndarray]:
    """All arrays of ``ops_<dtype>.npz`` (loaded without pickle support)."""
    path = FIXTURE_DIR / f"ops_{dtype}.npz"
    if not path.exists():
        pytest.fail(f"missing fixture {path}; {REGENERATE}")
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op_matches_torch(case: Any, dtype: str, device: Any) -> None:
    data = load_fixture(dtype)  # a case whose op minigrad lacks fails, it is not skipped
    tol = REFERENCE_TOLERANCES[dtype]
    prefix = f"{case.name}/"
    if not any(key.startswith(prefix) for key in data):
        pytest.fail(f"case {case.name} is not in ops_{dtype}.npz; {REGENERATE}")
    want_device = mg.device(device)

    tensors = []
    for i, spec in enumerate(case.inputs):
        arr = data[f"{prefix}in{i}"]
        tensors.append(mg.tensor(arr, requires_grad=spec.differentiable, device=device))

    result = case.fn(mg, *tensors)
    single = f"{prefix}out" in data
    n_out = 1 if single else sum(1 for k in data if k.startswith(f"{prefix}out"))
    outs = [result] if single else list(result)
    if len(outs) != n_out:
        pytest.fail(f"{case.name} [{dtype}]: {len(outs)} outputs, expected {n_out}")

    problems: list[str] = []
    upstream: list[tuple[int, np.ndarray]] = []
    for k, out in enumerate(outs):
        suffix = "" if single else str(k)
        label = f"out{suffix}"
        expected = data[f"{prefix}{label}"]
        if msg := mismatch(out, expected, name=label, **tol):
            problems.append(msg)
        if getattr(out, "device", want_device) != want_device:
            problems.append(f"{label}: on device {out.device}, expected {want_device}")
        gout = data.get(f"{prefix}gout{suffix}")
        if gout is not None:
            upstream.append((k, gout))
        elif getattr(out, "requires_grad", False):
            problems.append(f"{label}: requires_grad is True but torch's output has no grad")

    if upstream:
        backward_done = False
        try:
            for j, (k, gout) in enumerate(upstream):
                retain = j < len(upstream) - 1
                outs[k].backward(mg.tensor(gout, device=device), retain_graph=retain)
            backward_done = True
        finally:
            if not backward_done and problems:  # shown with the backward traceback
                print(f"{case.name} [{dtype}, {device}] before backward:", *problems, sep="\n  ")
        for i in range(len(case.inputs)):
            expected_grad = data.get(f"{prefix}grad{i}")
            if expected_grad is None:
                continue
            grad = tensors[i].grad
            if grad is None:
                problems.append(f"grad{i}: None (input {i} got no gradient)")
                continue
            # the reference gradient has the input's dtype, so this checks dtype too
            if msg := mismatch(grad, expected_grad, name=f"grad{i}", **tol):
                problems.append(msg)
            if getattr(grad, "device", want_device) != want_device:
                problems.append(f"grad{i}: on device {grad.device}, expected {want_device}")

    if problems:
        pytest.fail(f"{case.name} [{dtype}, {device}]:\n  " + "\n  ".join(problems))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fixtures_match_case_table(dtype: str) -> None:
    """Fixtures and op_cases.py agree: same case names, same input values (not stale)."""
    data = load_fixture(dtype)
    in_file = {key.split("/", 1)[0] for key in data if not key.startswith("__meta__/")}
    in_table = {case.name for case in CASES}
    assert in_file == in_table, (
        f"only in fixture: {sorted(in_file - in_table)}; "
        f"only in table: {sorted(in_table - in_file)}; {REGENERATE}"
    )
    stale = []
    for case in CASES:
        for i, (spec, arr) in enumerate(zip(case.inputs, op_cases.make_inputs(case), strict=True)):
            want = arr.astype(dtype) if spec.is_float else arr
            got = data.get(f"{case.name}/in{i}")
            if got is None or got.dtype != want.dtype or not np.array_equal(got, want):
                stale.append(f"{case.name}/in{i}")
    assert not stale, f"fixture inputs differ from op_cases.py: {stale}; {REGENERATE}"
    assert str(data["__meta__/dtype"]) == dtype
