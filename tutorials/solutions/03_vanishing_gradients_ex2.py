"""Tutorial 3, exercise 2 (change and predict): the LSTM's forget-gate bias at initialisation.

Section 1 measured ||dL/dh_t|| for an untrained LSTM and saw it vanish like the plain RNN's,
because every forget gate starts near σ(0) = 0.5. Set the forget-gate bias b_if to 3
instead (so f_t ≈ σ(3) = 0.95 from the start; PyTorch's gate order is (i, f, g, o), so it is
the second quarter of `bias_ih`) and predict:

  * ||dL/dh_1|| / ||dL/dh_T|| for T = 30 steps, roughly, compared with the default
    initialisation. (Along the memory path the gradient is multiplied by f_t once per step:
    0.5^29 ≈ 2e-9 against 0.95^29 ≈ 0.23.)

This script measures it on the tutorial's adding-problem inputs, with a loss on the last step
only (L = sum of h_T), as in section 1.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import QUICK, banner

banner("03 vanishing gradients, exercise 2: the forget-gate bias")
T, H = (30 if QUICK else 100), 32

rng = np.random.default_rng(1)
v = rng.uniform(0, 1, (16, T))
m = np.zeros((16, T))
m[np.arange(16), rng.integers(0, T // 2, 16)] = 1
m[np.arange(16), rng.integers(T // 2, T, 16)] = 1
x = mg.tensor(np.stack([v, m], -1), dtype=mg.float32)  # adding-problem inputs (B, T, 2)


def grad_ratio(forget_bias):
    """||dL/dh_1|| / ||dL/dh_T|| (batch means) for a fresh LSTMCell, L = sum of h_T."""
    mg.manual_seed(1)
    cell = nn.LSTMCell(2, H)
    if forget_bias is not None:
        with mg.no_grad():
            cell.bias_ih.data[H : 2 * H] = forget_bias  # b_if
            cell.bias_hh.data[H : 2 * H] = 0.0  # b_hf
    state, hs = None, []
    for t in range(T):
        state = cell(x[:, t], state)
        hs.append(state[0])
    grads = mg.autograd.grad(hs[-1].sum(), hs)
    norms = [np.linalg.norm(g.numpy(), axis=1).mean() for g in grads]
    return norms[0] / norms[-1]


default, opened = grad_ratio(None), grad_ratio(3.0)
print(f"T = {T}: ||dL/dh_1|| / ||dL/dh_T||  default init {default:.2e}   "
      f"forget bias 3: {opened:.2e}   (0.5^{T - 1} = {0.5 ** (T - 1):.1e}, "
      f"0.95^{T - 1} = {0.95 ** (T - 1):.1e})")
# the prediction: orders of magnitude more gradient reaches the first step
assert opened > 1e3 * default, (opened, default)
print("With the forget gates open from the start, the gradient survives the trip back.")
