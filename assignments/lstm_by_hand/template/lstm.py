"""Assignment: an LSTM, forward and backward, by hand in NumPy.

Fill in the functions below; README.md has the equations and what each one returns. Use
NumPy only: the grader compares your results with minigrad's ``nn.LSTMCell``, ``nn.LSTM`` and
autograd. PyTorch's layout: W_ih (4H, input_size) stacks the rows of the gates in the order
i, f, g, o (input, forget, candidate, output); W_hh (4H, H) and b_ih, b_hh (4H,) likewise.
"""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + e^{-a}), without overflow for large negative a."""
    e = np.exp(-np.abs(a))  # <= 1: never overflows
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def lstm_step(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, W_ih: np.ndarray,
              W_hh: np.ndarray, b_ih: np.ndarray,
              b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step: return (h_t, c_t), each (B, H)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def lstm_step_backward(dh: np.ndarray, dc: np.ndarray, x: np.ndarray, h_prev: np.ndarray,
                       c_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                       b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backward of one step, given dh = dL/dh_t and dc = dL/dc_t (from later steps).

    Returns a dict: ``"gates"``, dL/da_t (B, 4H), the gradient of the four pre-activations in
    the order i, f, g, o; and the gradient of each input of :func:`lstm_step`: ``"x"``,
    ``"h_prev"``, ``"c_prev"``, ``"W_ih"``, ``"W_hh"``, ``"b_ih"``, ``"b_hh"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()


def lstm_forward(xs: np.ndarray, h0: np.ndarray, c0: np.ndarray, W_ih: np.ndarray,
                 W_hh: np.ndarray, b_ih: np.ndarray,
                 b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`lstm_step` over xs (T, B, input_size) from (h0, c0); return every h_t
    stacked, (T, B, H), and the last cell state c_T, (B, H)."""
    # YOUR CODE HERE
    raise NotImplementedError()


def lstm_backward(dhs: np.ndarray, dc_T: np.ndarray, xs: np.ndarray, h0: np.ndarray,
                  c0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                  b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backpropagation through time for L = sum_t sum(dhs[t] * h_t) + sum(dc_T * c_T).

    Returns the gradients of ``"xs"``, ``"h0"``, ``"c0"``, ``"W_ih"``, ``"W_hh"``,
    ``"b_ih"``, ``"b_hh"``.
    """
    # YOUR CODE HERE
    raise NotImplementedError()
