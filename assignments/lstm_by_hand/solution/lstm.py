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
    ### BEGIN SOLUTION
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g
    return o * np.tanh(c), c
    ### END SOLUTION


def lstm_step_backward(dh: np.ndarray, dc: np.ndarray, x: np.ndarray, h_prev: np.ndarray,
                       c_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
                       b_ih: np.ndarray, b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backward of one step, given dh = dL/dh_t and dc = dL/dc_t (from later steps).

    Returns a dict: ``"gates"``, dL/da_t (B, 4H), the gradient of the four pre-activations in
    the order i, f, g, o; and the gradient of each input of :func:`lstm_step`: ``"x"``,
    ``"h_prev"``, ``"c_prev"``, ``"W_ih"``, ``"W_hh"``, ``"b_ih"``, ``"b_hh"``.
    """
    ### BEGIN SOLUTION
    # recompute the forward pass: the gates are what the local derivatives need
    a = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g
    tc = np.tanh(c)
    # h_t = o tanh(c_t): c_t gets dc from later steps plus the path through h_t
    dc_total = dc + dh * o * (1 - tc * tc)
    do, di, df, dg = dh * tc, dc_total * g, dc_total * c_prev, dc_total * i
    # through each nonlinearity: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g),
                         do * o * (1 - o)], axis=1)
    db = da.sum(axis=0)
    return {"gates": da, "x": da @ W_ih, "h_prev": da @ W_hh, "c_prev": dc_total * f,
            "W_ih": da.T @ x, "W_hh": da.T @ h_prev, "b_ih": db, "b_hh": db.copy()}
    ### END SOLUTION


def lstm_forward(xs: np.ndarray, h0: np.ndarray, c0: np.ndarray, W_ih: np.ndarray,
                 W_hh: np.ndarray, b_ih: np.ndarray,
                 b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run :func:`lstm_step` over xs (T, B, input_size) from (h0, c0); return every h_t
    stacked, (T, B, H), and the last cell state c_T, (B, H)."""
    ### BEGIN SOLUTION
    h, c = h0, c0
    hs = []
    for x in xs:
        h, c = lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs), c
    ### END SOLUTION


def lstm_backward(dhs: np.ndarray, dc_T: np.ndarray, xs: np.ndarray, h0: np.ndarray,
                  c0: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray,
                  b_hh: np.ndarray) -> dict[str, np.ndarray]:
    """Backpropagation through time for L = sum_t sum(dhs[t] * h_t) + sum(dc_T * c_T).

    Returns the gradients of ``"xs"``, ``"h0"``, ``"c0"``, ``"W_ih"``, ``"W_hh"``,
    ``"b_ih"``, ``"b_hh"``.
    """
    ### BEGIN SOLUTION
    hs, cs = [h0], [c0]  # the states before each step
    for x in xs:
        h, c = lstm_step(x, hs[-1], cs[-1], W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
        cs.append(c)
    grads = {"xs": np.zeros_like(xs), "W_ih": np.zeros_like(W_ih),
             "W_hh": np.zeros_like(W_hh), "b_ih": np.zeros_like(b_ih),
             "b_hh": np.zeros_like(b_hh)}
    dh_next, dc_next = np.zeros_like(h0), dc_T
    for t in reversed(range(len(xs))):
        step = lstm_step_backward(dhs[t] + dh_next, dc_next, xs[t], hs[t], cs[t],
                                  W_ih, W_hh, b_ih, b_hh)
        grads["xs"][t] = step["x"]
        for k in ("W_ih", "W_hh", "b_ih", "b_hh"):  # shared weights: sum over the steps
            grads[k] += step[k]
        dh_next, dc_next = step["h_prev"], step["c_prev"]
    grads["h0"], grads["c0"] = dh_next, dc_next
    return grads
    ### END SOLUTION
