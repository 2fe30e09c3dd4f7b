"""Tutorial 2, exercise 2 (derive, then predict): a linear RNN and the gradient through time.

Drop the tanh: h_t = x_t W_ih^T + b + h_{t-1} W_hh^T (a *linear* RNN), and score only the
last state, L = sum_b h_{T,b} v for a fixed vector v.

1. Derive dL/dh_t. (Answer: each step back multiplies by W_hh, so
   dL/dh_t = v^T W_hh^{T-t} for every row of the batch: a matrix power.)
2. Predict how ||dL/dh_t|| behaves as t moves away from T, from the eigenvalues of W_hh.
   (Answer: like ρ^{T-t}, with ρ the spectral radius, the largest |eigenvalue|: it vanishes
   when ρ < 1 and explodes when ρ > 1. Tutorial 3 shows tanh' ≤ 1 only adds to the decay.)

The script checks (1) against autograd to 1e-12 and (2) by fitting the decay rate of the
measured norms and comparing it with ρ, for W_hh drawn as PyTorch does and for W_hh × 4.
The inputs are the tutorial's yearly sunspot numbers, standardised.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import load_sunspots
from minigrad.testing import assert_close
from minigrad.utils.tutorial import QUICK, banner

banner("02 RNN by hand, exercise 2: a linear RNN's gradient through time")
H = 16
T, B = (40, 4) if QUICK else (100, 3)  # T * B of the 309 years
values = load_sunspots(monthly=False).values
z = (values - values[:256].mean()) / values[:256].std()
x = mg.tensor(z[: T * B].reshape(B, T).T[:, :, None])  # (T, B, 1), float64

for scale in (1.0, 4.0):
    mg.manual_seed(2)
    cell = nn.RNNCell(1, H, dtype=mg.float64)  # only its weights: the step below is linear
    W_hh = cell.weight_hh.detach() * scale
    v = mg.randn(H, 1, dtype=mg.float64)
    # h_0 requires grad only so that autograd records the chain of h_t
    h, hs = mg.zeros(B, H, dtype=mg.float64, requires_grad=True), []
    for t in range(T):
        h = x[t] @ cell.weight_ih.detach().T + cell.bias_ih.detach() + h @ W_hh.T
        hs.append(h)
    L = (hs[-1] @ v).sum()
    grads = mg.autograd.grad(L, hs)

    # (1) the derived formula: dL/dh_t = v^T W_hh^(T-t), the same for every batch row
    W, vv = W_hh.numpy(), v.numpy()[:, 0]
    for t in (T - 1, T // 2, 0):  # hs[t] is h_{t+1}
        expected = vv @ np.linalg.matrix_power(W, T - 1 - t)
        assert_close(grads[t], np.tile(expected, (B, 1)), rtol=1e-10, atol=1e-12,
                     name=f"dL/dh at step {t + 1}")

    # (2) the decay rate: slope of log ||dL/dh_t|| over the steps far from T
    norms = np.array([np.linalg.norm(g.numpy()[0]) for g in grads])
    rho = np.abs(np.linalg.eigvals(W)).max()
    far = np.arange(T // 2)  # steps 1..T/2: at least T/2 multiplications by W_hh
    rate = np.exp(-np.polyfit(far, np.log(norms[far]), 1)[0])  # per step back
    print(f"W_hh x {scale:g}: spectral radius {rho:.3f}, measured factor per step back "
          f"{rate:.3f}; ||dL/dh_1|| / ||dL/dh_T|| = {norms[0] / norms[-1]:.2e}")
    assert abs(rate - rho) / rho < 0.15, (rate, rho)
    assert (norms[0] < norms[-1]) == (rho < 1)  # vanishing below 1, exploding above
print("dL/dh_t = v^T W_hh^(T-t) exactly, and its norm shrinks or grows like rho^(T-t).")
