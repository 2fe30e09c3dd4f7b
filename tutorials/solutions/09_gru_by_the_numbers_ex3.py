"""Tutorial 9, exercise 3: the update gate as a memory knob.

Along the copy path h_t = ... + z_t ⊙ h_{t-1}, each step multiplies the gradient by about
z_t. Over T steps, ‖∂h_T/∂h_0‖ therefore shrinks roughly like z^T: with the z biases at +3
(z ≈ σ(3) = 0.95) a good part of the gradient survives 50 steps, at 0 (z ≈ 0.5) it is
about 0.5^50 ≈ 1e-15 times smaller, at -3 (z ≈ 0.05) it vanishes entirely. Prediction:
+3 > 0 > -3, by many orders of magnitude. This script measures ‖∂(Σ h_T)/∂h_0‖ with autograd.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import QUICK, banner

banner("09 GRU by the numbers, exercise 3: z as a memory knob")
T = 20 if QUICK else 50
H = 8
mg.manual_seed(3)
base = {k: v.numpy().copy() for k, v in nn.GRUCell(4, H, dtype=mg.float64).state_dict().items()}
xs = np.random.default_rng(3).normal(size=(T, 1, 4))
norms = {}
for z_bias in (-3.0, 0.0, 3.0):
    state = {k: v.copy() for k, v in base.items()}
    state["bias_ih"][H:2 * H] = 0.0
    state["bias_hh"][H:2 * H] = z_bias  # the z block
    cell = nn.GRUCell(4, H, dtype=mg.float64)
    cell.load_state_dict(state)
    h0 = mg.zeros(1, H, dtype=mg.float64, requires_grad=True)
    h = h0
    for x in xs:
        h = cell(mg.tensor(x, dtype=mg.float64), h)
    h.sum().backward()
    norms[z_bias] = float(np.linalg.norm(h0.grad.numpy()))
    print(f"z bias {z_bias:+.0f}: ||d(sum h_T)/dh_0|| over T = {T} steps = {norms[z_bias]:.2e}")
assert norms[3.0] > 1e3 * norms[0.0] > 1e6 * norms[-3.0]
