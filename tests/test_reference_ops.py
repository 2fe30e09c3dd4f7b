"""Compare minigrad's operators and their gradients with PyTorch reference fixtures.

The fixtures (``tests/reference/fixtures/ops_float64.npz`` and ``ops_float32.npz``) were
written by ``tests/reference/generate_ops.py`` with PyTorch; this module needs no torch. Each
case in ``tests/reference/op_cases.py`` holds ONE expression ``fn(m, *tensors)`` that the
generator evaluated with ``m = torch`` and that is replayed here with ``m = minigrad``.

The fixtures are bundles of ``mg.testing`` references (one per case, see
``tests/reference/README.md``), replayed with ``mg.testing.check_against_reference``: for
every case, dtype and device, outputs must match (shape, dtype, values, device), then the
recorded upstream gradients must give the reference gradient of every input that requires
grad, in the input's dtype (float32 stays float32).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from conftest import REFERENCE_DIR, REFERENCE_TOLERANCES, load_case_table

import minigrad as mg
from minigrad.testing import Reference, check_against_reference, load_references

FIXTURE_DIR = REFERENCE_DIR / "fixtures"
DTYPES = ("float64", "float32")
REGENERATE = "regenerate with `python tests/reference/generate_ops.py` (needs torch)"

op_cases = load_case_table("op_cases.py")
CASES = op_cases.CASES


@functools.cache
def load_fixture(dtype: str) -> dict[str, Reference]:
    """Every case of the bundle ``ops_<dtype>.npz``, read once through the kit."""
    path = FIXTURE_DIR / f"ops_{dtype}.npz"
    if not path.exists():
        pytest.fail(f"missing fixture {path}; {REGENERATE}")
    return load_references(path)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_op_matches_torch(case: Any, dtype: str, device: Any) -> None:
    refs = load_fixture(dtype)  # a case whose op minigrad lacks fails, it is not skipped
    if case.name not in refs:
        pytest.fail(f"case {case.name} is not in ops_{dtype}.npz; {REGENERATE}")
    # outputs (shape, dtype, values, device), then the gradient of every input that requires
    # grad, in the input's dtype: the reference gradient has it, so assert_close checks it
    check_against_reference(lambda *xs: case.fn(mg, *xs), refs[case.name],
                            name=f"{case.name} [{dtype}, {device}]", device=device,
                            **REFERENCE_TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_fixtures_match_case_table(dtype: str) -> None:
    """Fixtures and op_cases.py agree: same case names, same input values (not stale)."""
    refs = load_fixture(dtype)
    in_table = {case.name for case in CASES}
    assert set(refs) == in_table, (
        f"only in fixture: {sorted(set(refs) - in_table)}; "
        f"only in table: {sorted(in_table - set(refs))}; {REGENERATE}"
    )
    stale = []
    for case in CASES:
        ref = refs[case.name]
        for i, (spec, arr) in enumerate(zip(case.inputs, op_cases.make_inputs(case), strict=True)):
            want = arr.astype(dtype) if spec.is_float else arr
            got = ref.inputs.get(str(i))
            if got is None or got.dtype != want.dtype or not np.array_equal(got, want):
                stale.append(f"{case.name}/input {i}")
            if ref.requires_grad[str(i)] != spec.differentiable:
                stale.append(f"{case.name}/input {i} requires_grad")
    assert not stale, f"fixture inputs differ from op_cases.py: {stale}; {REGENERATE}"
    assert all(ref.meta["bundle"]["dtype"] == dtype for ref in refs.values())
