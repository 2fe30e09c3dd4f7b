"""Tutorial 3, exercise 3 (derive and implement): the backward of one GRU step.

Section 1 says the GRU's h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1} gives the gradient "a direct
path, scaled by z_t". Derive the whole backward of one step and check it. With PyTorch's
equations (the form `nn.GRUCell` uses, gates in the order r, z, n):

    r = σ(x W_ir^T + b_ir + h W_hr^T + b_hr)        reset gate
    z = σ(x W_iz^T + b_iz + h W_hz^T + b_hz)        update gate
    n = tanh(x W_in^T + b_in + r ⊙ (h W_hn^T + b_hn))
    h' = (1 - z) ⊙ n + z ⊙ h

1. Given δh' = ∂L/∂h', derive δz, δn, δr, and from them the gradients of the weights,
   the biases, x and h. (Answer, with m = h W_hn^T + b_hn:
   δn = δh' ⊙ (1 - z), δz = δh' ⊙ (h - n), δa_n = δn ⊙ (1 - n²), δr = δa_n ⊙ m,
   δa_z = δz ⊙ z(1 - z), δa_r = δr ⊙ r(1 - r); the input part of the three gates is
   g_i = [δa_r, δa_z, δa_n], the hidden part g_h = [δa_r, δa_z, δa_n ⊙ r]; then
   δW_ih = g_i^T x, δb_ih = Σ g_i, δW_hh = g_h^T h, δb_hh = Σ g_h, δx = g_i W_ih and
   δh = δh' ⊙ z + g_h W_hh: the direct path δh' ⊙ z, plus the path through the gates.)
2. Write the step as an `mg.autograd.Function` with that backward, check its forward against
   `nn.GRUCell` and its backward with `gradcheck` (float64).
3. Predict ∂h'/∂h when the update gate is saturated open (b_iz = +20, so z ≈ 1), and check it
   with your Function: the identity, the GRU's perfect memory.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("03 vanishing gradients, exercise 3: the backward of one GRU step")


class GRUStep(mg.autograd.Function):
    """h' for inputs x (B, in), h (B, H) and the weights of `nn.GRUCell`; hand-written backward."""

    @staticmethod
    def forward(ctx, x, h, W_ih, W_hh, b_ih, b_hh):
        a_r, a_z, a_in = (x @ W_ih.T + b_ih).chunk(3, -1)
        h_r, h_z, m = (h @ W_hh.T + b_hh).chunk(3, -1)
        r, z = (a_r + h_r).sigmoid(), (a_z + h_z).sigmoid()
        n = (a_in + r * m).tanh()
        ctx.save_for_backward(x, h, W_ih, W_hh, r, z, n, m)
        return (1 - z) * n + z * h

    @staticmethod
    def backward(ctx, d_out):  # d_out = dL/dh'
        x, h, W_ih, W_hh, r, z, n, m = ctx.saved_tensors
        d_n, d_z = d_out * (1 - z), d_out * (h - n)
        d_an = d_n * (1 - n * n)
        d_ar, d_az = d_an * m * r * (1 - r), d_z * z * (1 - z)
        g_i = mg.cat([d_ar, d_az, d_an], -1)  # (B, 3H): the input part of each gate
        g_h = mg.cat([d_ar, d_az, d_an * r], -1)  # the hidden part: m is multiplied by r
        return (g_i @ W_ih, d_out * z + g_h @ W_hh,  # x, h (the direct path d_out * z)
                g_i.T @ x, g_h.T @ h, g_i.sum(0), g_h.sum(0))


mg.manual_seed(3)
B, IN, H = 3, 2, 4
cell = nn.GRUCell(IN, H, dtype=mg.float64)
weights = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
x, h = mg.randn(B, IN, dtype=mg.float64), mg.randn(B, H, dtype=mg.float64)

# (2) forward against nn.GRUCell, backward against finite differences
with mg.no_grad():
    assert_close(GRUStep.apply(x, h, *weights), cell(x, h), rtol=1e-14, atol=1e-15,
                 name="GRUStep vs nn.GRUCell")
inputs = [t.detach().clone().requires_grad_() for t in [x, h, *weights]]
print("forward equals nn.GRUCell; gradcheck(GRUStep):", mg.autograd.gradcheck(GRUStep.apply,
                                                                              inputs))

# and against autograd through nn.GRUCell, with a random upstream gradient
v = mg.randn(B, H, dtype=mg.float64)
mine = [t.detach().clone().requires_grad_() for t in [x, h, *weights]]
(GRUStep.apply(*mine) * v).sum().backward()
x2, h2 = x.clone().requires_grad_(), h.clone().requires_grad_()
(cell(x2, h2) * v).sum().backward()
for name, a, b in zip(["x", "h", "W_ih", "W_hh", "b_ih", "b_hh"], mine, [x2, h2, *weights]):
    assert_close(a.grad, b.grad, rtol=1e-12, atol=1e-14, name=f"dL/d{name}")
print("every gradient equals autograd's through nn.GRUCell")

# (3) the update gate saturated open: dh'/dh is the identity
with mg.no_grad():
    cell.bias_ih.data[H : 2 * H] = 20.0  # b_iz
h_open = h.clone().requires_grad_()
jac = np.stack([mg.autograd.grad(GRUStep.apply(x, h_open, *weights)[0, j], [h_open])[0]
                .numpy()[0] for j in range(H)])  # row j: d h'_j / d h, for batch row 0
print("dh'/dh with z ≈ 1:\n", jac.round(6))
assert np.abs(jac - np.eye(H)).max() < 1e-6
print("Derived, implemented and checked: with z = 1 the GRU copies h and its gradient.")
