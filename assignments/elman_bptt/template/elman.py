"""Assignment: an Elman RNN and backpropagation through time (BPTT), by hand in NumPy.

Fill in the four functions below; README.md has the equations and what each one returns.
Use NumPy only (no minigrad here): the grader compares your gradients with minigrad's
autograd and with reference values. All arrays are float64, batch first within a step:
x_t (B, input_size), h_t (B, H), W_ih (H, input_size), W_hh (H, H), b_ih and b_hh (H,).
"""

from __future__ import annotations

import numpy as np


def rnn_step(x: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
             b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """One step: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), shape (B, H)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def rnn_forward(xs: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """Run :func:`rnn_step` over xs (T, B, input_size) from h0 (B, H); return every h_t
    stacked, shape (T, B, H) (hs[0] is h_1, the state after the first input)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def rnn_step_backward(dh: np.ndarray, x: np.ndarray, h_prev: np.ndarray, h: np.ndarray,
                      W_ih: np.ndarray, W_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backward of one step, given dh = dL/dh_t (B, H) and the step's h = h_t.

    Returns a dict with the gradient of L with respect to each input of :func:`rnn_step`:
    ``"x"``, ``"h_prev"``, ``"W_ih"``, ``"W_hh"``, ``"b_ih"``, ``"b_hh"`` (same shapes).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def rnn_backward(dhs: np.ndarray, xs: np.ndarray, h0: np.ndarray, W_ih: np.ndarray,
                 W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backpropagation through time for L = sum_t sum(dhs[t] * h_t).

    ``dhs`` (T, B, H) holds each step's gradient straight from the loss, dL/dh_t not
    counting the paths through later steps. Returns the gradients of ``"xs"``, ``"h0"``,
    ``"W_ih"``, ``"W_hh"``, ``"b_ih"``, ``"b_hh"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
