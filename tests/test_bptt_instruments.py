"""Teaching instruments: per-step hidden-state gradient norms, and an unrolled graph drawing."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.utils import record_hidden_grad_norms


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
    assert norms[-1] == pytest.approx(8**0.5)
    # with only the last output in the loss, earlier steps receive gradient through time only
    layer0 = rec.norms(layer=0)
    assert layer0.shape == (6,) and np.all(layer0 > 0)


def test_recording_leaves_values_unchanged_and_restores_the_fused_path() -> None:
    layer = mg.nn.LSTM(3, 4)
    x = mg.randn(5, 2, 3)
    plain, _ = layer(x)
    with record_hidden_grad_norms(layer) as rec:
        recorded, _ = layer(x)
        recorded.sum().backward()
    np.testing.assert_allclose(recorded.detach().numpy(), plain.detach().numpy(), rtol=1e-6)
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
