"""Tutorial 9, exercise 2: port a GRU written in the article's convention.

递归神经网络的记忆机制 (section 3.3) writes the GRU with one weight pair and one bias per gate
and the update h_t = (1 - z_t) ⊙ h_{t-1} + z_t ⊙ h̃_t, with h̃_t = tanh(W_xh x + W_hh (r ⊙ h)
+ b_h). To run such a model as `mg.nn.GRUCell`:

* its candidate resets *before* the matrix: reset_after=False;
* its z is our 1 - z. Since 1 - σ(a) = σ(-a), our z block gets the article's z weights and
  bias with their sign flipped;
* it has one bias per gate where the cell has two (b_ih and b_hh): put it in bias_ih and
  zeros in bias_hh;
* blocks go in PyTorch's order (r, z, n).

This script draws an article-style GRU at random, converts it, and checks a 10-step run.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import banner

banner("09 GRU by the numbers, exercise 2: port the article's GRU")
IN, H = 3, 4
rng = np.random.default_rng(2)
art = {name: rng.normal(scale=0.5, size=shape) for name, shape in [
    ("W_xz", (H, IN)), ("W_hz", (H, H)), ("b_z", (H,)),
    ("W_xr", (H, IN)), ("W_hr", (H, H)), ("b_r", (H,)),
    ("W_xh", (H, IN)), ("W_hh", (H, H)), ("b_h", (H,))]}


def sigma(a):
    return 1 / (1 + np.exp(-a))


def article_step(x, h, p):
    z = sigma(x @ p["W_xz"].T + h @ p["W_hz"].T + p["b_z"])
    r = sigma(x @ p["W_xr"].T + h @ p["W_hr"].T + p["b_r"])
    h_tilde = np.tanh(x @ p["W_xh"].T + (r * h) @ p["W_hh"].T + p["b_h"])
    return (1 - z) * h + z * h_tilde


state = {
    "weight_ih": np.concatenate([art["W_xr"], -art["W_xz"], art["W_xh"]]),
    "weight_hh": np.concatenate([art["W_hr"], -art["W_hz"], art["W_hh"]]),
    "bias_ih": np.concatenate([art["b_r"], -art["b_z"], art["b_h"]]),
    "bias_hh": np.zeros(3 * H),
}
cell = nn.GRUCell(IN, H, reset_after=False, dtype=mg.float64)
cell.load_state_dict(state)

xs, h_art = rng.normal(size=(10, 2, IN)), rng.normal(size=(2, H))
h_cell = mg.tensor(h_art, dtype=mg.float64)
with mg.no_grad():
    for x in xs:
        h_art = article_step(x, h_art, art)
        h_cell = cell(mg.tensor(x, dtype=mg.float64), h_cell)
err = np.abs(h_cell.numpy() - h_art).max()
print(f"10 steps, article's equations vs the converted GRUCell: largest difference {err:.1e}")
assert err < 1e-12
