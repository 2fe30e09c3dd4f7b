"""Tutorial 4, exercise 3 (change and predict): saturate the gates.

Take the tutorial's worked example (c_{t-1} = -1, the same x_t, h_{t-1} and weights) and,
before running, predict c_t and dc_t/dc_{t-1} in two settings:

  (a) "forget everything": the forget-gate bias b_if = -20 (then a_f = 1.2 - 20, so
      f_t = σ(-18.8) ≈ 7e-9).
      Prediction: c_t = i_t g_t = 0.6682 · 0.4621 = 0.3088, the old memory is gone, and
      dc_t/dc_{t-1} = f_t ≈ 0: no gradient reaches the past through the memory.
  (b) "hold the memory": b_if = +20 and the input-gate bias b_ii = -20 (f_t ≈ 1, i_t ≈ 0).
      Prediction: c_t = c_{t-1} = -1 and dc_t/dc_{t-1} = 1: a perfect memory (and a perfect
      gradient path), which is what the LSTM can learn to do across long gaps.

This script measures both with `nn.LSTMCell` and autograd (float64).
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import banner

banner("04 LSTM by the numbers, exercise 3: saturated gates")
W_ih = np.array([[0.2, 0.1], [0.3, 0.5], [-0.4, 0.3], [0.1, -0.3]])
W_hh = np.array([[0.4], [-0.2], [0.6], [0.2]])


def step(b_ii, b_if):
    """One step of the worked example with the given input- and forget-gate biases."""
    cell = nn.LSTMCell(2, 1, dtype=mg.float64)
    cell.load_state_dict({"weight_ih": W_ih, "weight_hh": W_hh,
                          "bias_ih": np.array([b_ii, b_if, 0.0, 0.2]), "bias_hh": np.zeros(4)})
    c_prev = mg.tensor([[-1.0]], dtype=mg.float64, requires_grad=True)
    x, h_prev = mg.tensor([[1.0, 2.0]], dtype=mg.float64), mg.tensor([[0.5]], dtype=mg.float64)
    _, c = cell(x, (h_prev, c_prev))
    c.backward()
    return c.item(), c_prev.grad.item()


c_a, dc_a = step(0.1, -20.0)
c_b, dc_b = step(-20.0, 20.0)
ig = 1 / (1 + np.exp(-0.7)) * np.tanh(0.5)  # i_t g_t of the worked example
print(f"(a) b_if = -20:            c_t = {c_a:.6f} (i_t g_t = {ig:.6f}), "
      f"dc_t/dc_(t-1) = {dc_a:.1e}")
print(f"(b) b_if = +20, b_ii = -20: c_t = {c_b:.6f} (c_(t-1) = -1), "
      f"dc_t/dc_(t-1) = {dc_b:.9f}")
assert abs(c_a - ig) < 1e-7 and dc_a < 1e-7  # the memory is wiped, no gradient through it
assert abs(c_b + 1) < 1e-7 and abs(dc_b - 1) < 1e-7  # the memory is copied, gradient 1
print("Both predictions hold: f_t alone decides how much memory, and gradient, survives.")
