"""Teaching instruments: per-step hidden-state gradient norms, and an unrolled graph drawing."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import record_hidden_grad_norms
from minigrad.testing import assert_close


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_hidden_grad_norms_match_autograd(kind: str, device: str) -> None:
    layer = getattr(mg.nn, kind)(3, 4, num_layers=2, device=device, dtype=mg.float64)
    x = mg.randn(6, 2, 3, dtype=mg.float64, device=device)
    with record_hidden_grad_norms(layer) as rec:
        output, _ = layer(x)
        output[-1].sum().backward()
    norms = rec.norms()
    assert norms.shape == (6,) and np.all(np.isfinite(norms))
    # the last step gets only the direct gradient, ones of shape (B, H): norm sqrt(8)
    assert_close(norms[-1], 8**0.5)
    # with only the last output in the loss, earlier steps receive gradient through time only
    layer0 = rec.norms(layer=0)
    assert layer0.shape == (6,) and np.all(layer0 > 0)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_hidden_grad_norms_equal_retain_grad_values(kind: str, device: str) -> None:
    """The recorded ||dL/dh_t|| are the norms of h_t.grad in the same recurrence unrolled by
    hand with the cell and retain_grad (the loss reads every step, so gradients arrive both
    through the output at t and through time)."""
    layer = getattr(mg.nn, kind)(3, 4, device=device, dtype=mg.float64)
    cell = getattr(mg.nn, kind + "Cell")(3, 4, device=device, dtype=mg.float64)
    with mg.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(layer, name + "_l0"))
    x = mg.randn(6, 2, 3, dtype=mg.float64, device=device)
    with record_hidden_grad_norms(layer) as rec:
        output, _ = layer(x)
        (output * output).sum().backward()

    state, hs = None, []
    for t in range(6):
        state = cell(x[t], state)
        h = state[0] if kind == "LSTM" else state
        h.retain_grad()
        hs.append(h)
    (mg.stack(hs) * mg.stack(hs)).sum().backward()
    expected = [(h.grad * h.grad).sum().sqrt().item() for h in hs]
    assert_close(rec.norms(), np.array(expected), name="recorded norms")


def test_recording_leaves_values_unchanged_and_restores_the_fused_path() -> None:
    layer = mg.nn.LSTM(3, 4)
    x = mg.randn(5, 2, 3)
    plain, _ = layer(x)
    with record_hidden_grad_norms(layer) as rec:
        recorded, _ = layer(x)
        recorded.sum().backward()
    assert_close(recorded, plain)
    assert layer._grad_recorder is None and rec.norms().shape == (5,)
    with pytest.raises(TypeError, match="expects an RNN, LSTM or GRU layer"):
        record_hidden_grad_norms(mg.nn.Linear(2, 2))


def test_unrolled_graph_drawing_shows_every_step() -> None:
    cell = mg.nn.RNNCell(2, 3)
    h = None
    for _ in range(3):
        h = cell(mg.randn(1, 2), h)
    dot = mg.viz.to_dot(h.sum())
    assert dot.startswith("digraph") and dot.count("Tanh") == 3
