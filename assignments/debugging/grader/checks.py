"""The graded tests of the debugging assignment: one test per planted bug.

``template/recurrent.py`` (what students get) has four bugs. Each test below is built so that
it fails while its own bug is there and passes once that bug alone is fixed, whatever the state
of the other three (the repository's tests check exactly this). The tests compare with
reference files recorded from the fixed code (``references/*.npz``, see
``make_references.py``) and with minigrad's ``nn.RNNCell`` / ``nn.LSTMCell``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import minigrad as mg
from minigrad.testing import assert_close
from minigrad.testing.grading import Grader, numpy_against_reference

SUBMISSION = "recurrent.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION
REFERENCES = Path(__file__).resolve().parent / "references"
GRADER = Grader("Debugging a NumPy RNN/LSTM", timeout=60.0)


def _against_reference(fn: Any, name: str, hint: str) -> None:
    """All or nothing: each test pins one bug."""
    result = numpy_against_reference(fn, REFERENCES / f"{name}.npz", hint)
    if result is not None:
        raise AssertionError(result.message)


@GRADER.test("lstm_step matches nn.LSTMCell when every bias is zero", points=5)
def lstm_without_bias(sub: ModuleType) -> None:
    _against_reference(sub.lstm_step, "lstm_step_nobias",
                       "with all biases zero, only the weights and the gates' wiring matter: "
                       "is every gate computed from its own rows of W_ih and W_hh?")


@GRADER.test("lstm_step matches nn.LSTMCell when gates i and f share their rows", points=5)
def lstm_with_tied_gates(sub: ModuleType) -> None:
    _against_reference(sub.lstm_step, "lstm_step_tied_if",
                       "here gates i and f have identical rows and biases, so only the "
                       "way the pre-activation a is summed matters: count the terms")


@GRADER.test("init_lstm: an LSTM from these parameters responds to its input", points=5)
def init_responds(sub: ModuleType) -> None:
    IN, H = 3, 8
    params = sub.init_lstm(IN, H, seed=0)
    shapes = {"W_ih": (4 * H, IN), "W_hh": (4 * H, H), "b_ih": (4 * H,), "b_hh": (4 * H,)}
    for k, shape in shapes.items():
        assert np.shape(params[k]) == shape, f"{k} has shape {np.shape(params[k])}, " \
                                             f"expected {shape}"
    cell = mg.nn.LSTMCell(IN, H, dtype=mg.float64)  # a correct cell: only the init is tested
    cell.load_state_dict({"weight_ih": params["W_ih"], "weight_hh": params["W_hh"],
                          "bias_ih": params["b_ih"], "bias_hh": params["b_hh"]})
    xs = mg.tensor(np.random.default_rng(1).standard_normal((5, IN)))
    h, _ = cell(xs)
    spread = float(h.detach().numpy().std(axis=0).max())
    assert spread > 1e-3, (
        f"five different inputs give the same output (largest spread {spread:.2g}): with "
        "these parameters the network cannot tell inputs apart, and every weight gets the "
        "same gradient, so training cannot fix it. How are the weights initialised?")
    k = 1 / np.sqrt(H)
    for name in ("W_ih", "W_hh"):
        w = np.asarray(params[name])
        assert np.all(np.abs(w) <= k) and w.std() > k / 4, (
            f"{name} should be drawn from U(-1/sqrt(H), 1/sqrt(H)) = U({-k:.3f}, {k:.3f}) as "
            f"the docstring says; its values range from {w.min():.3f} to {w.max():.3f}")


@GRADER.test("rnn_step matches nn.RNNCell (a non-symmetric W_hh)", points=5)
def rnn_matches(sub: ModuleType) -> None:
    _against_reference(sub.rnn_step, "rnn_step",
                       "compare each term with the equation h_t = tanh(x_t W_ih^T + b_ih + "
                       "h_{t-1} W_hh^T + b_hh): which shape would hide a mistake here?")
    # and the same against minigrad itself, on fresh values
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal((2, 3)), rng.uniform(-1, 1, (2, 4))
    W_ih, W_hh = rng.uniform(-.5, .5, (4, 3)), rng.uniform(-.5, .5, (4, 4))
    b_ih, b_hh = rng.uniform(-.5, .5, 4), rng.uniform(-.5, .5, 4)
    cell = mg.nn.RNNCell(3, 4, dtype=mg.float64)
    cell.load_state_dict({"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih,
                          "bias_hh": b_hh})
    assert_close(np.asarray(sub.rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)),
                 cell(mg.tensor(x), mg.tensor(h)).detach().numpy(), name="rnn_step")
