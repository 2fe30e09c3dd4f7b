"""Ops on 0-d and empty tensors, forward and backward, as PyTorch computes them.

A systematic grid (``tests/reference/edge_cases.py``) of shapes that include ``()`` and
dimensions of size 0: every unary op on every shape, every binary op on every broadcasting
pair of shapes, matmul, softmax and linear with empty dimensions. PyTorch computed values
and gradients once (``tests/reference/generate_edge.py`` writes
``tests/reference/fixtures/edge_float64.npz``); this module replays them without torch, on
every test device, NaN matching NaN. An empty tensor must give an empty result and an empty
gradient, never an error or a NaN where PyTorch has none; a 0-d tensor must stay 0-d.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import EDGE_REGENERATE, edge_references, load_case_table, replay_edge_case
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import assert_close

edge = load_case_table("edge_cases.py")
GROUPS = ("unary", "binary", "matmul", "softmax", "linear")


@pytest.mark.parametrize("group", GROUPS)
def test_edge_cases_match_pytorch(group: str, device: str) -> None:
    """Every case of the group, values and gradients, as PyTorch gave them."""
    cases = edge.cases_in(group)
    assert cases
    for case in cases:
        replay_edge_case(case.name, device)


def test_fixture_matches_case_table() -> None:
    """Fixture and edge_cases.py agree: same case names, same inputs (not stale)."""
    refs = edge_references()
    names = {c.name for c in edge.CASES}
    assert set(refs) == names, (f"only in fixture: {sorted(set(refs) - names)}; only in "
                                f"table: {sorted(names - set(refs))}; {EDGE_REGENERATE}")
    stale = []
    for case in edge.CASES:
        ref = refs[case.name]
        for i, want in enumerate(case.inputs):
            got = ref.inputs.get(str(i))
            if (got is None or got.dtype != want.dtype or got.shape != want.shape
                    or not np.array_equal(got, want, equal_nan=True)
                    or ref.requires_grad[str(i)] != (want.dtype.kind == "f")):
                stale.append(f"{case.name}/input {i}")
    assert not stale, f"fixture inputs differ from edge_cases.py: {stale}; {EDGE_REGENERATE}"


def test_grid_covers_zero_dim_and_empty_broadcasts() -> None:
    pairs = edge.broadcasting_pairs()
    for pair in [((0,), ()), ((0, 3), (3,)), ((3, 0), (1, 0)), ((2, 1, 3), (0, 3)),
                 ((1, 0, 2), (1,))]:
        assert pair in pairs
    assert {(), (0,), (0, 3), (3, 0), (1, 0, 2)} <= set(edge.SHAPES)


def test_zero_dim_stays_zero_dim() -> None:
    x = mg.tensor(2.0, requires_grad=True)
    y = (x * 3).exp().sum()
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    assert_close(x.grad, np.array(3 * np.exp(6.0), np.float32))


@pytest.mark.parametrize("name", sorted(edge.UNARY))
@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple))
def test_unary_keeps_shapes_on_any_shape(name: str, shape: tuple) -> None:
    """Beyond the grid (no torch needed): on any shape, empty or 0-d, an op runs forward and
    backward without error, and the gradient has the input's shape and no NaN."""
    x = mg.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a mean of nothing warns (NaN, as in PyTorch)
        y = edge.UNARY[name](x)
    y.backward(mg.ones(y.shape, dtype=y.dtype))
    assert x.grad is not None and x.grad.shape == x.shape
    assert not np.isnan(x.grad.numpy()).any()
