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

import minigrad as mg

try:  # softmax / log_softmax cases; skipped with a reason while F lacks them
    import minigrad.nn.functional
except ImportError:
    pass

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
FIXTURE_DIR = REFERENCE_DIR / "fixtures"
DTYPES = ("float64", "float32")
TOLERANCES: dict[str, tuple[float, float]] = {  # dtype -> (rtol, atol)
    "float64": (1e-10, 1e-12),
    "float32": (1e-5, 1e-6),
}
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


def _missing_requirement(case: Any) -> str | None:
    for dotted in case.requires:
        obj: Any = mg
        for part in dotted.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return f"minigrad has no {dotted} yet (case {case.name}, group {case.group})"
    return None


def _host(t: Any) -> Any:
    """A tensor's value as a NumPy array (``.numpy()`` copies off the device)."""
    return t.detach().numpy() if hasattr(t, "detach") else t


def _mismatch(what: str, actual: Any, expected: np.ndarray, rtol: float, atol: float) -> str | None:
    """None if ``actual`` matches ``expected``, else a one-line description of the difference."""
    if not isinstance(actual, np.ndarray):
        return f"{what}: .numpy() returned {type(actual).__name__}, not a NumPy array"
    if actual.shape != expected.shape:
        return f"{what}: shape {actual.shape} != expected {expected.shape}"
    if actual.dtype != expected.dtype:
        return f"{what}: dtype {actual.dtype} != expected {expected.dtype}"
    if expected.size == 0:
        return None
    if expected.dtype.kind in "biu":
        bad = actual != expected
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            return (
                f"{what}: {int(bad.sum())}/{bad.size} elements differ, first at {idx}: "
                f"{actual[idx].item()!r} != expected {expected[idx].item()!r}"
            )
        return None
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    err = np.abs(a - e)
    bad = ~(err <= atol + rtol * np.abs(e))  # NaN counts as bad
    if not bad.any():
        return None
    err = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(err)), err.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(e != 0, err / np.abs(e), np.where(err == 0, 0.0, np.inf))
    return (
        f"{what}: {int(bad.sum())}/{bad.size} elements off (rtol={rtol:g}, atol={atol:g}); "
        f"max abs err {float(err.max()):.3e}, max rel err {float(rel.max()):.3e}; worst at "
        f"{tuple(int(i) for i in worst)}: {float(a[worst]):.10g} vs expected {float(e[worst]):.10g}"
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op_matches_torch(case: Any, dtype: str, device: Any) -> None:
    reason = _missing_requirement(case)
    if reason:
        pytest.skip(reason)
    data = load_fixture(dtype)
    rtol, atol = TOLERANCES[dtype]
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
        msg = _mismatch(label, _host(out), expected, rtol, atol)
        if msg:
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
            host = _host(grad)
            in_dtype = data[f"{prefix}in{i}"].dtype
            if isinstance(host, np.ndarray) and host.dtype != in_dtype:
                problems.append(f"grad{i}: dtype {host.dtype} != input dtype {in_dtype}")
            elif msg := _mismatch(f"grad{i}", host, expected_grad, rtol, atol):
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
