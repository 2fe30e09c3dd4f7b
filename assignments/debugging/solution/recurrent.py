"""A small recurrent toolkit in NumPy: an Elman RNN step, an LSTM step, and an initialiser.

Layouts and names follow PyTorch (``nn.RNNCell``, ``nn.LSTMCell``): a batch of inputs x is
(B, input_size), states are (B, H), W_ih is (G*H, input_size) and W_hh (G*H, H) with G = 1 for
the RNN and 4 for the LSTM, whose gates are stacked in the order i, f, g, o.
"""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large |a|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x W^T + b, PyTorch's ``F.linear``: W is (out, in), x is (B, in)."""
    return x @ W.T + b


def rnn_step(x: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray,
             b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """One Elman step: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)."""
    return np.tanh(linear(x, W_ih, b_ih) + linear(h_prev, W_hh, b_hh))


def lstm_step(x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, W_ih: np.ndarray,
              W_hh: np.ndarray, b_ih: np.ndarray,
              b_hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step; returns (h_t, c_t)."""
    H = h_prev.shape[1]
    a = linear(x, W_ih, b_ih) + linear(h_prev, W_hh, b_hh)
    i = sigmoid(a[:, 0 * H:1 * H])
    f = sigmoid(a[:, 1 * H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:4 * H])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def init_lstm(input_size: int, hidden_size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters for :func:`lstm_step`: weights from U(-1/sqrt(H), 1/sqrt(H)) as in
    PyTorch, biases zero."""
    G = 4 * hidden_size
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(hidden_size)
    W_ih = rng.uniform(-k, k, (G, input_size))
    W_hh = rng.uniform(-k, k, (G, hidden_size))
    return {"W_ih": W_ih, "W_hh": W_hh, "b_ih": np.zeros(G), "b_hh": np.zeros(G)}


def lstm_forward(xs: np.ndarray, params: dict[str, np.ndarray], hidden_size: int) -> np.ndarray:
    """Run :func:`lstm_step` over xs (T, B, input_size) from zero states; return every h_t,
    (T, B, H)."""
    B = xs.shape[1]
    h, c = np.zeros((B, hidden_size)), np.zeros((B, hidden_size))
    hs = []
    for x in xs:
        h, c = lstm_step(x, h, c, params["W_ih"], params["W_hh"], params["b_ih"],
                         params["b_hh"])
        hs.append(h)
    return np.stack(hs)
