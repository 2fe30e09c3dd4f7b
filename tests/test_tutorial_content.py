"""The numbers the tutorials teach, held to the library: the worked LSTM example of tutorial 4
(an article's example, recomputed with shapes that fit), the GRU step of tutorial 9 in both
forms, and the update-gate convention that one source article writes the other way round.

Each test states the example's inputs, runs `LSTMCell` / `GRUCell`, compares with the numbers
the tutorial prints in its prose (rounded to 4 decimals there), and checks that the prose
still carries those numbers, so that text and library cannot drift apart silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import GRUCell, LSTMCell, RNNCell
from minigrad.testing import assert_close

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"
F64 = mg.float64


def _prose(name: str) -> str:
    return (TUTORIALS / name).read_text(encoding="utf-8")


def _sigma(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- tutorial 4: the 004 example

# gate -> (W on [h1, h2, x1, x2] of shape (2, 4), b (2,)), as in tutorial 4
W_004 = {
    "i": ([[-0.5, 0.5, -0.4, 0.2], [0.3, -1.0, -0.2, 0.0]], [-0.28, -0.46]),
    "f": ([[0.5, 0.25, 0.2, -1.0], [-0.5, 1.0, 0.4, 0.5]], [0.1, -0.05]),
    "g": ([[1.0, 0.5, 0.6, 0.3], [-0.4, -0.6, -0.2, 0.5]], [0.18, -0.31]),
    "o": ([[0.3, 0.2, 0.4, 1.0], [0.6, -0.5, -0.1, 0.2]], [-0.04, -0.09]),
}


def _cell_004() -> LSTMCell:
    W = {k: np.array(w) for k, (w, _) in W_004.items()}
    cell = LSTMCell(2, 2, dtype=F64)
    cell.load_state_dict({
        "weight_ih": np.concatenate([W[k][:, 2:] for k in "ifgo"]),
        "weight_hh": np.concatenate([W[k][:, :2] for k in "ifgo"]),
        "bias_ih": np.concatenate([W_004[k][1] for k in "ifgo"]),
        "bias_hh": np.zeros(8)})
    return cell


def test_lstm_worked_example_matches_lstmcell_and_the_prose():
    x = mg.tensor([[0.5, 0.1]], dtype=F64)
    h0 = mg.tensor([[0.2, 0.4]], dtype=F64)
    c0 = mg.tensor([[0.6, -0.2]], dtype=F64, requires_grad=True)
    h, c = _cell_004()(x, (h0, c0))
    assert_close(c.detach().numpy()[0], np.array([0.6410, -0.2955]), atol=5e-5, rtol=0)
    assert_close(h.detach().numpy()[0], np.array([0.3386, -0.1293]), atol=5e-5, rtol=0)
    # dc_t/dc_{t-1} = f_t elementwise: the forget gate, read back through autograd;
    # the article printed 0.63 for sigma(0.3)
    c.sum().backward()
    assert_close(c0.grad.numpy()[0], np.array([0.5744, 0.6225]), atol=5e-5, rtol=0)
    text = _prose("04_lstm_by_the_numbers.py")
    for number in ("0.5744", "0.6225", "[0.6410, -0.2955]", "[0.3386, -0.1293]", "(2, 4)"):
        assert number in text, f"tutorial 4 no longer states {number}"


def test_the_article_shapes_cannot_work():
    """A (4, 4) gate matrix yields 4 gate values for 2 memory cells: f_t ⊙ c_{t-1} fails."""
    hx = np.array([0.2, 0.4, 0.5, 0.1])
    with pytest.raises(ValueError):
        _sigma(np.ones((4, 4)) @ hx) * np.array([0.6, -0.2])
    assert abs(_sigma(0.3) - 0.63) > 0.05  # the article's value for sigma(0.3)


# ---------------------------------------------------------------- tutorial 9: the GRU step

GRU_EXAMPLE = dict(
    weight_ih=np.array([[0.6, -0.2], [-0.3, 0.5], [0.8, 0.4]]),
    weight_hh=np.array([[0.5], [1.0], [-0.7]]),
    bias_ih=np.array([0.1, 0.2, -0.1]),
    bias_hh=np.array([0.0, 0.3, 0.2]))


@pytest.mark.parametrize("reset_after, expected", [(True, 0.1575), (False, 0.1842)])
def test_gru_worked_example_both_forms(reset_after, expected):
    cell = GRUCell(2, 1, reset_after=reset_after, dtype=F64)
    cell.load_state_dict(GRU_EXAMPLE)
    h = cell(mg.tensor([[0.5, -1.0]], dtype=F64), mg.tensor([[0.4]], dtype=F64))
    assert abs(h.item() - expected) < 5e-5
    assert f"{expected:.4f}" in _prose("09_gru_by_the_numbers.py")


def _gru_reference(x, h, p, reset_after, swapped=False):
    """The GRU in NumPy. swapped=False: h' = (1 - z) n + z h (PyTorch, minigrad);
    swapped=True: h' = (1 - z) h + z n (the convention of the article 递归神经网络的记忆机制)."""
    xr, xz, xn = np.split(x @ p["weight_ih"].T + p["bias_ih"], 3, axis=1)
    Wr, Wz, Wn = np.split(p["weight_hh"], 3)
    br, bz, bn = np.split(p["bias_hh"], 3)
    r, z = _sigma(xr + h @ Wr.T + br), _sigma(xz + h @ Wz.T + bz)
    n = np.tanh(xn + r * (h @ Wn.T + bn)) if reset_after else np.tanh(xn + (r * h) @ Wn.T + bn)
    return (1 - z) * h + z * n if swapped else (1 - z) * n + z * h


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_update_gate_convention_is_pytorchs(reset_after):
    """GRUCell keeps h_{t-1} where z = 1. Code that swaps the roles of z (the article's
    h' = (1 - z) h + z n) computes another function of the same weights, and equals GRUCell
    only after the z block's weights and biases change sign (z' = sigma(-a) = 1 - z)."""
    mg.manual_seed(14)
    cell = GRUCell(3, 4, reset_after=reset_after, dtype=F64)
    p = {k: v.numpy() for k, v in cell.state_dict().items()}
    rng = np.random.default_rng(14)
    x, h = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
    got = cell(mg.tensor(x, dtype=F64), mg.tensor(h, dtype=F64)).detach().numpy()

    assert_close(got, _gru_reference(x, h, p, reset_after), rtol=1e-12, atol=1e-12)
    swapped = _gru_reference(x, h, p, reset_after, swapped=True)
    assert np.abs(got - swapped).max() > 1e-2, "GRUCell computes h' = (1 - z) h + z n"

    negated = {k: v.copy() for k, v in p.items()}
    for k in negated:
        negated[k][4:8] *= -1  # the z block, rows H..2H
    assert_close(got, _gru_reference(x, h, negated, reset_after, swapped=True),
                 rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- tutorial 2: zero initialisation

def test_zero_initialised_rnn_outputs_a_constant_and_cannot_learn():
    """The NumPy RNN of one source starts every weight at zero: h_t = tanh(0) = 0 for every
    input, and no gradient reaches the recurrent or input weights."""
    cell = RNNCell(3, 4, dtype=F64)
    for prm in cell.parameters():
        prm.data[...] = 0
    W_hy = mg.zeros(1, 4, dtype=F64, requires_grad=True)
    x = mg.tensor(np.random.default_rng(2).normal(size=(6, 5, 3)), dtype=F64)
    h = mg.zeros(5, 4, dtype=F64)
    outs = []
    for t in range(6):
        h = cell(x[t], h)
        outs.append(h @ W_hy.T)
    y = mg.stack(outs)
    assert not np.abs(y.detach().numpy()).any()
    ((y - 1.0) ** 2).mean().backward()
    for name, prm in [("weight_ih", cell.weight_ih), ("weight_hh", cell.weight_hh),
                      ("W_hy", W_hy)]:
        assert not np.abs(prm.grad.numpy()).any(), f"{name} received a gradient"
