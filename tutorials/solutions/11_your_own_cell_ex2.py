"""Tutorial 11, exercise 2: dropout inside a cell is refused; outside it, both paths agree.

A compiled cell is replayed from one recording of one step, so a fresh random mask per step
cannot be replayed: the compiler raises TraceError, naming Dropout and suggesting fused=False.
Dropout on the whole input sequence, before the recurrent layer, draws its mask once, outside
the cell: then, with the same seed, the compiled and graph paths give the same loss and the
same gradients.
Run: ``python tutorials/solutions/11_your_own_cell_ex2.py [--quick]``.
"""

import math

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.jit import TraceError
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner, quick_mode

QUICK = quick_mode()
banner("11 your own cell, exercise 2: dropout outside the cell")


class PeepholeLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, dropout=0.0):
        super().__init__()
        self.hidden_size, self.dropout = hidden_size, dropout
        bound = 1 / math.sqrt(hidden_size)

        def param(*shape):
            return nn.Parameter(mg.empty(*shape, dtype="float64").uniform_(-bound, bound))

        self.w_x, self.w_h = param(4 * hidden_size, input_size), param(4 * hidden_size,
                                                                       hidden_size)
        self.bias = param(4 * hidden_size)
        self.p_i, self.p_f, self.p_o = param(hidden_size), param(hidden_size), param(hidden_size)

    def initial_state(self, batch):
        h = mg.zeros(batch, self.hidden_size, dtype="float64")
        return h, mg.zeros_like(h)

    def forward(self, x, state):
        h, c = state
        if self.dropout:  # inside the cell: a new mask at every step
            x = F.dropout(x, self.dropout, training=self.training)
        zi, zf, zg, zo = (F.linear(x, self.w_x, self.bias) + F.linear(h, self.w_h)).chunk(4, -1)
        c = (zf + self.p_f * c).sigmoid() * c + (zi + self.p_i * c).sigmoid() * zg.tanh()
        return (zo + self.p_o * c).sigmoid() * c.tanh(), c


steps, batch = (10, 3) if QUICK else (80, 16)
mg.manual_seed(0)
x = mg.randn(steps, batch, 4, dtype="float64")

# 1. dropout inside the cell: refused by the compiler, by name
try:
    nn.Recurrent(PeepholeLSTMCell(4, 6, dropout=0.2))(x)
    raise AssertionError("the compiler should have refused dropout inside the cell")
except TraceError as e:
    assert "Dropout" in str(e) and "fused=False" in str(e)
    print(f"refused, as it should be: {str(e)[:90]}...")

# 2. dropout outside: the same seed gives the same mask on both paths
cell = PeepholeLSTMCell(4, 6)
results = []
for fused in (False, True):
    cell.zero_grad()
    mg.manual_seed(1)
    out, (h, c) = nn.Recurrent(cell, fused=fused)(F.dropout(x, 0.2, training=True))
    loss = (out * out).mean()
    loss.backward()
    results.append([loss.detach(), out.detach()] + [p.grad for p in cell.parameters()])

print(f"dropout before the layer, both paths: loss {results[0][0].item():.6f} and "
      f"{results[1][0].item():.6f}")
assert_close(results[1], results[0], rtol=1e-12, atol=1e-14)
