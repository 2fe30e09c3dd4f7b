"""Tutorial 11, exercise 1: the minimal gated unit (Zhou et al. 2016) as a cell of your own.

    f_t = sigma(W_f x_t + U_f h_{t-1} + b_f)
    h~_t = tanh(W_h x_t + U_h (f_t * h_{t-1}))
    h_t = (1 - f_t) * h_{t-1} + f_t * h~_t

Its state is h alone (a Tensor, not a tuple). Run it with nn.Recurrent on both paths, with
padded sequences, and check that outputs and every gradient agree to 1e-12 (float64).
Run: ``python tutorials/solutions/11_your_own_cell_ex1.py [--quick]``.
"""

import math

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner, quick_mode

QUICK = quick_mode()
banner("11 your own cell, exercise 1: the minimal gated unit")


class MinimalGatedUnit(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        bound = 1 / math.sqrt(hidden_size)

        def param(*shape):
            return nn.Parameter(mg.empty(*shape, dtype="float64").uniform_(-bound, bound))

        self.w_f, self.u_f, self.b_f = (param(hidden_size, input_size),
                                        param(hidden_size, hidden_size), param(hidden_size))
        self.w_h, self.u_h = param(hidden_size, input_size), param(hidden_size, hidden_size)

    def initial_state(self, batch):
        return mg.zeros(batch, self.hidden_size, dtype="float64")

    def forward(self, x, h):
        f = (F.linear(x, self.w_f, self.b_f) + F.linear(h, self.u_f)).sigmoid()
        candidate = (F.linear(x, self.w_h) + F.linear(f * h, self.u_h)).tanh()
        return (1 - f) * h + f * candidate


mg.manual_seed(0)
steps, batch = (12, 3) if QUICK else (100, 16)
cell = MinimalGatedUnit(5, 7)
x = mg.randn(steps, batch, 5, dtype="float64", requires_grad=True)
lengths = [steps] + [max(1, steps // (k + 2)) for k in range(batch - 1)]
results = []
for fused in (False, True):
    cell.zero_grad()
    x.grad = None
    out, h = nn.Recurrent(cell, fused=fused)(x, lengths=lengths)
    ((out * out).sum() + h.sum()).backward()
    results.append([out.detach(), h.detach(), x.grad] + [p.grad for p in cell.parameters()])

print(f"MGU on both paths: {len(results[0])} values and gradients (T={steps}, "
      f"lengths={lengths[:4]}...)")
assert_close(results[1], results[0], rtol=1e-12, atol=1e-14)
