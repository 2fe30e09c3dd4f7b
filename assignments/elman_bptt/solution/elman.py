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
    ### BEGIN SOLUTION
    return np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    ### END SOLUTION


def rnn_forward(xs: np.ndarray, h0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """Run :func:`rnn_step` over xs (T, B, input_size) from h0 (B, H); return every h_t
    stacked, shape (T, B, H) (hs[0] is h_1, the state after the first input)."""
    ### BEGIN SOLUTION
    hs = []
    h = h0
    for x in xs:
        h = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs)
    ### END SOLUTION


def rnn_step_backward(dh: np.ndarray, x: np.ndarray, h_prev: np.ndarray, h: np.ndarray,
                      W_ih: np.ndarray, W_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backward of one step, given dh = dL/dh_t (B, H) and the step's h = h_t.

    Returns a dict with the gradient of L with respect to each input of :func:`rnn_step`:
    ``"x"``, ``"h_prev"``, ``"W_ih"``, ``"W_hh"``, ``"b_ih"``, ``"b_hh"`` (same shapes).
    """
    ### BEGIN SOLUTION
    # through tanh: d tanh(a)/da = 1 - tanh(a)^2 = 1 - h_t^2, from the saved output
    da = dh * (1 - h * h)
    db = da.sum(axis=0)  # the bias was broadcast over the batch: sum it back
    return {"x": da @ W_ih, "h_prev": da @ W_hh, "W_ih": da.T @ x, "W_hh": da.T @ h_prev,
            "b_ih": db, "b_hh": db.copy()}
    ### END SOLUTION


def rnn_backward(dhs: np.ndarray, xs: np.ndarray, h0: np.ndarray, W_ih: np.ndarray,
                 W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backpropagation through time for L = sum_t sum(dhs[t] * h_t).

    ``dhs`` (T, B, H) holds each step's gradient straight from the loss, dL/dh_t not
    counting the paths through later steps. Returns the gradients of ``"xs"``, ``"h0"``,
    ``"W_ih"``, ``"W_hh"``, ``"b_ih"``, ``"b_hh"``.
    """
    ### BEGIN SOLUTION
    hs = rnn_forward(xs, h0, W_ih, W_hh, b_ih, b_hh)
    grads = {"xs": np.zeros_like(xs), "W_ih": np.zeros_like(W_ih),
             "W_hh": np.zeros_like(W_hh), "b_ih": np.zeros_like(b_ih),
             "b_hh": np.zeros_like(b_hh)}
    dh_next = np.zeros_like(h0)  # dL/dh_t through step t+1: nothing after the last step
    for t in reversed(range(len(xs))):
        h_prev = hs[t - 1] if t > 0 else h0
        step = rnn_step_backward(dhs[t] + dh_next, xs[t], h_prev, hs[t], W_ih, W_hh)
        grads["xs"][t] = step["x"]
        for k in ("W_ih", "W_hh", "b_ih", "b_hh"):  # shared weights: sum over the steps
            grads[k] += step[k]
        dh_next = step["h_prev"]
    grads["h0"] = dh_next
    return grads
    ### END SOLUTION
