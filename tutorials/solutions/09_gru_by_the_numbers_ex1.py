"""Tutorial 9, exercise 1: when do the two GRU forms agree?

reset_after=True computes the candidate from r ⊙ (W_hn h + b_hn), reset_after=False from
W_hn (r ⊙ h) + b_hn. With H = 1, W_hn is a single number w, so W_hn (r h) = r (w h): the
products agree, and only b_hn can tell the forms apart (inside the reset in one, outside in
the other). With b_hn = 0 the two forms are the same function for every input.

With H = 2 the matrix mixes units: (W_hn (r ⊙ h))_j = Σ_k W_jk r_k h_k weights each
*input* unit k by its own r_k, while (r ⊙ (W_hn h))_j = r_j Σ_k W_jk h_k weights each
*output* unit j by r_j. They differ as soon as W_hn has an off-diagonal entry and the r_k
differ, even with every bias zero. This script checks both statements in float64.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import QUICK, banner

banner("09 GRU by the numbers, exercise 1: when the two forms agree")
mg.manual_seed(1)
F64 = mg.float64


def both_forms(input_size, hidden, state, x, h):
    """h_t from a reset_after=True and a reset_after=False cell with the same parameters."""
    out = []
    for reset_after in (True, False):
        cell = nn.GRUCell(input_size, hidden, reset_after=reset_after, dtype=F64)
        cell.load_state_dict(state)
        with mg.no_grad():
            out.append(cell(mg.tensor(x, dtype=F64), mg.tensor(h, dtype=F64)).numpy())
    return out


# (a) H = 1, b_hn = 0: equal for many random weights and inputs
rng = np.random.default_rng(1)
trials = 20 if QUICK else 200
worst = 0.0
for _ in range(trials):
    state = {k: v.numpy().copy() for k, v in nn.GRUCell(3, 1, dtype=F64).state_dict().items()}
    state["bias_hh"][2] = 0.0  # b_hn, the third block of bias_hh
    a, b = both_forms(3, 1, state, rng.normal(size=(4, 3)), rng.normal(size=(4, 1)))
    worst = max(worst, np.abs(a - b).max())
print(f"H = 1, b_hn = 0: largest difference between the forms over {trials} random cells "
      f"{worst:.1e}")

# (b) H = 2, every bias zero, an off-diagonal W_hn: different
state = {"weight_ih": np.zeros((6, 1)), "weight_hh": np.zeros((6, 2)),
         "bias_ih": np.zeros(6), "bias_hh": np.zeros(6)}
state["weight_hh"][0:2] = [[3.0, 0.0], [0.0, -3.0]]  # W_hr: r_1 near 1, r_2 near 0 below
state["weight_hh"][4:6] = [[0.0, 1.0], [1.0, 0.0]]  # W_hn swaps the two units
h = np.array([[1.0, 1.0]])
a, b = both_forms(1, 2, state, np.zeros((1, 1)), h)
print(f"H = 2, zero biases: reset_after=True h_t = {a[0]}, reset_after=False h_t = {b[0]}")
assert worst < 1e-12
assert np.abs(a - b).max() > 0.1
