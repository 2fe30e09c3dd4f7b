"""``mg.nn`` against PyTorch: fixtures written by ``tests/reference/generate_nn.py``.

Each case of the generator's table is ONE expression ``fn(m, F, *tensors)``; here it runs with
``m = minigrad``, ``F = minigrad.nn.functional``, on every device and in float64 and float32,
and its output and gradients must match torch's. Needs no torch.
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
from conftest import REFERENCE_TOLERANCES, close_to_reference

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import Reference, assert_close, check_against_reference, load_references

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"
DTYPES = tuple(REFERENCE_TOLERANCES)


def _load_table() -> ModuleType:
    name = "_minigrad_reference_generate_nn"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REFERENCE_DIR / "generate_nn.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


table = _load_table()


@functools.cache
def fixture(dtype: str) -> dict[str, Reference]:
    return load_references(REFERENCE_DIR / "fixtures" / f"nn_{dtype}.npz")


def _t(a: np.ndarray, device: str) -> mg.Tensor:
    # a copy: mg.tensor(array, device="cpu") may share the cached fixture's memory
    return mg.tensor(a.copy(), device=device)


def assert_matches(actual: mg.Tensor, expected: np.ndarray, dtype: str, device: str,
                   what: str) -> None:
    """On the device asked for, and close to the fixture (shape, dtype and values)."""
    assert actual.device == mg.device(device), f"{what}: on {actual.device}, expected {device}"
    close_to_reference(actual, expected, dtype, name=what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", table.CASES, ids=lambda c: c.name)
def test_functional_matches_torch(case: Any, dtype: str, device: str) -> None:
    check_against_reference(lambda *xs: case.fn(mg, F, *xs), fixture(dtype)[case.name],
                            name=f"{case.name} [{dtype}, {device}]", device=device,
                            **REFERENCE_TOLERANCES[dtype])


def test_fixtures_match_table() -> None:
    """The fixtures hold exactly the table's cases, with the inputs the table makes."""
    refs = fixture("float64")
    names = {n for n in refs if not n.startswith(("clip_", "mlp"))}
    regenerate = "regenerate: python tests/reference/generate_nn.py"
    assert names == {c.name for c in table.CASES}, regenerate
    for case in table.CASES:
        ref = refs[case.name]
        for i, (spec, a) in enumerate(zip(case.inputs, table.make_inputs(case))):
            assert_close(ref.inputs[str(i)], a, rtol=0, atol=0, name=f"{case.name} input {i}")
            assert ref.requires_grad[str(i)] == spec.differentiable, (case.name, regenerate)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(table.CLIP_NORMS))
def test_clip_grad_norm_matches_torch(name: str, dtype: str, device: str) -> None:
    ref = fixture(dtype)[f"clip_{name}"]
    params = []
    for k in range(len(table.CLIP_SHAPES)):
        g = ref.inputs[f"grad{k}"]
        p = nn.Parameter(mg.zeros(*g.shape, dtype=dtype, device=device))
        p.grad = _t(g, device)
        params.append(p)
    total = nn.utils.clip_grad_norm_(params, table.CLIP_MAX_NORM, table.CLIP_NORMS[name])
    assert_matches(total, ref.outputs["total"], dtype, device, "total norm")
    for k, p in enumerate(params):
        assert_matches(p.grad, ref.outputs[f"clipped{k}"], dtype, device, f"grad {k}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_state_dict_loads_and_matches(dtype: str, device: str) -> None:
    """A torch MLP's state_dict, as NumPy arrays, gives torch's outputs and gradients."""
    ref = fixture(dtype)["mlp"]
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).to(device).to(dtype)
    weight = model[0].weight
    state = {k: ref.inputs[table.MLP_INPUTS[k]] for k in table.MLP_STATE_KEYS}
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert model[0].weight is weight and weight.dtype == np.dtype(dtype)
    out = model(_t(ref.inputs["x"], device))
    assert_matches(out, ref.outputs["out"], dtype, device, "mlp output")
    loss = F.cross_entropy(out, _t(ref.inputs["target"], device))
    assert_matches(loss, ref.outputs["loss"], dtype, device, "mlp loss")
    loss.backward()
    for key, p in model.named_parameters():
        assert_matches(p.grad, ref.grads[table.MLP_INPUTS[key]], dtype, device,
                       f"grad of {key}")
