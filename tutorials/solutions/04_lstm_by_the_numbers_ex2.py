"""Tutorial 4, exercise 2 (implement): a peephole LSTM cell.

Gers, Schraudolph & Schmidhuber (2002) let the gates look at the memory itself through
"peephole" weights p_i, p_f, p_o (vectors of size H, applied elementwise):

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi + p_i ⊙ c_{t-1})
    f_t = σ(W_if x_t + b_if + W_hf h_{t-1} + b_hf + p_f ⊙ c_{t-1})
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    o_t = σ(W_io x_t + b_io + W_ho h_{t-1} + b_ho + p_o ⊙ c_t)     (the new memory c_t)
    h_t = o_t ⊙ tanh(c_t)

1. Write `PeepholeLSTMCell` as an `nn.Module` from minigrad ops (autograd then gives BPTT
   for free).
2. Check: with p = 0 it must compute exactly what `nn.LSTMCell` computes with the same
   weights; with p ≠ 0 its gradients must pass `gradcheck` (float64), the peepholes included.
3. Unroll it over a few steps and check that the peepholes really receive a gradient.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("04 LSTM by the numbers, exercise 2: a peephole LSTM")


class PeepholeLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, dtype=mg.float32):
        super().__init__()
        self.hidden_size = hidden_size
        # the usual LSTM weights, drawn as nn.LSTMCell draws them, plus three peephole vectors
        base = nn.LSTMCell(input_size, hidden_size, dtype=dtype)
        for name, p in base.named_parameters():
            setattr(self, name, nn.Parameter(p.detach().clone()))
        for name in ("p_i", "p_f", "p_o"):
            setattr(self, name, nn.Parameter(mg.zeros(hidden_size, dtype=dtype)))

    def forward(self, x, state, peepholes=None):
        """(h_t, c_t); `peepholes` = (p_i, p_f, p_o) replaces the module's own (for checks)."""
        h, c = state
        p_i, p_f, p_o = peepholes or (self.p_i, self.p_f, self.p_o)
        a = x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh
        a_i, a_f, a_g, a_o = a.chunk(4, -1)
        i = (a_i + p_i * c).sigmoid()  # the input and forget gates see c_{t-1}
        f = (a_f + p_f * c).sigmoid()
        c = f * c + i * a_g.tanh()
        o = (a_o + p_o * c).sigmoid()  # the output gate sees the new c_t
        return o * c.tanh(), c


mg.manual_seed(0)
B, IN, H = 3, 5, 4
cell = PeepholeLSTMCell(IN, H, dtype=mg.float64)
x = mg.randn(B, IN, dtype=mg.float64)
h0, c0 = mg.randn(B, H, dtype=mg.float64), mg.randn(B, H, dtype=mg.float64)

# (2a) no peepholes: the plain LSTM
plain = nn.LSTMCell(IN, H, dtype=mg.float64)
plain.load_state_dict({k: v for k, v in cell.state_dict().items() if not k.startswith("p_")})
with mg.no_grad():
    assert_close(cell(x, (h0, c0)), plain(x, (h0, c0)), rtol=0, atol=1e-15,
                 name="peephole cell with p = 0 vs LSTMCell")
print("p = 0: the peephole cell computes what nn.LSTMCell computes")

# (2b) with peepholes: gradcheck through the cell's inputs and the three peephole vectors
with mg.no_grad():
    for name in ("p_i", "p_f", "p_o"):
        getattr(cell, name).data[...] = np.random.default_rng(1).normal(size=H)


def step_with(p_i, p_f, p_o, x, h, c):
    h, c = cell(x, (h, c), peepholes=(p_i, p_f, p_o))
    return h + 2 * c  # one output that depends on both h_t and c_t


inputs = [getattr(cell, n).detach().clone().requires_grad_() for n in ("p_i", "p_f", "p_o")]
inputs += [t.clone().requires_grad_() for t in (x, h0, c0)]
print("gradcheck(peephole step):", mg.autograd.gradcheck(step_with, inputs))

# (3) unrolled over 6 steps: each peephole gets a gradient
state = (h0, c0)
for _ in range(6):
    state = cell(x, state)
state[0].sum().backward()
for name in ("p_i", "p_f", "p_o"):
    g = getattr(cell, name).grad.numpy()
    print(f"  dL/d{name} = {np.round(g, 4)}")
    assert np.abs(g).max() > 1e-4, f"{name} received no gradient"
print("The peephole LSTM matches LSTMCell at p = 0 and its gradients pass gradcheck.")
