"""Tutorial 4, exercise 1 (derive and implement): every gate's gradient in one LSTM step.

The tutorial derived one gradient, dh_t/dc_{t-1}. Derive all of them for one step, given
the gradient δh_t = dL/dh_t from above (and δc_t from the next step, 0 here). Write δv for
dL/dv and a_i, a_f, a_g, a_o for the pre-activations:

    δo_t = δh_t ⊙ tanh(c_t)                  δc_t += δh_t ⊙ o_t ⊙ (1 - tanh^2(c_t))
    δf_t = δc_t ⊙ c_{t-1}    δi_t = δc_t ⊙ g_t    δg_t = δc_t ⊙ i_t    δc_{t-1} = δc_t ⊙ f_t
    δa_i = δi_t ⊙ i_t (1 - i_t)   δa_f = δf_t ⊙ f_t (1 - f_t)
    δa_g = δg_t ⊙ (1 - g_t^2)     δa_o = δo_t ⊙ o_t (1 - o_t)

and with δa = [δa_i, δa_f, δa_g, δa_o] (B, 4H), the gate order of W_ih:

    δW_ih = δa^T x_t,  δW_hh = δa^T h_{t-1},  δb_ih = δb_hh = sum_b δa,
    δx_t = δa W_ih,    δh_{t-1} = δa W_hh.

Implement it in NumPy and check it against autograd through `nn.LSTMCell` in float64: first
on the tutorial's worked example (L = h_t), then on a random batch.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("04 LSTM by the numbers, exercise 1: the backward of one step")


def sigma(a):
    return 1 / (1 + np.exp(-a))


def lstm_step_backward(x, h_prev, c_prev, p, d_h):
    """One LSTM step forward, then its backward from d_h = dL/dh_t; returns every gradient."""
    a = x @ p["weight_ih"].T + p["bias_ih"] + h_prev @ p["weight_hh"].T + p["bias_hh"]
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)
    i, f, g, o = sigma(a_i), sigma(a_f), np.tanh(a_g), sigma(a_o)
    c = f * c_prev + i * g
    tc = np.tanh(c)

    d_o = d_h * tc
    d_c = d_h * o * (1 - tc**2)
    d_f, d_i, d_g = d_c * c_prev, d_c * g, d_c * i
    d_a = np.concatenate([d_i * i * (1 - i), d_f * f * (1 - f), d_g * (1 - g**2),
                          d_o * o * (1 - o)], axis=1)  # (B, 4H), gate order (i, f, g, o)
    return {"weight_ih": d_a.T @ x, "weight_hh": d_a.T @ h_prev, "bias_ih": d_a.sum(0),
            "bias_hh": d_a.sum(0), "x": d_a @ p["weight_ih"], "h_prev": d_a @ p["weight_hh"],
            "c_prev": d_c * f}


def check(cell, x, h_prev, c_prev, v):
    """autograd on L = sum(h_t * v) against the hand backward with d_h = v; worst difference."""
    xs = [mg.tensor(a, dtype=mg.float64, requires_grad=True) for a in (x, h_prev, c_prev)]
    h, _ = cell(xs[0], (xs[1], xs[2]))
    (h * mg.tensor(v)).sum().backward()
    p = {k: t.detach().numpy() for k, t in cell.named_parameters()}
    mine = lstm_step_backward(x, h_prev, c_prev, p, v)
    auto = {k: t.grad.numpy() for k, t in cell.named_parameters()}
    auto.update(x=xs[0].grad.numpy(), h_prev=xs[1].grad.numpy(), c_prev=xs[2].grad.numpy())
    for k in auto:
        assert_close(mine[k], auto[k], rtol=1e-12, atol=1e-14, name=f"dL/d{k}")
    return max(np.abs(mine[k] - auto[k]).max() for k in auto)


# the tutorial's worked example, with L = h_t (so d_h = 1)
cell = nn.LSTMCell(2, 1, dtype=mg.float64)
cell.load_state_dict({
    "weight_ih": np.array([[0.2, 0.1], [0.3, 0.5], [-0.4, 0.3], [0.1, -0.3]]),
    "weight_hh": np.array([[0.4], [-0.2], [0.6], [0.2]]),
    "bias_ih": np.array([0.1, 0.5, 0.0, 0.2]), "bias_hh": np.zeros(4)})
x, h0, c0 = np.array([[1.0, 2.0]]), np.array([[0.5]]), np.array([[-1.0]])
err = check(cell, x, h0, c0, np.ones((1, 1)))
grads = lstm_step_backward(x, h0, c0, {k: t.detach().numpy() for k, t in
                                       cell.named_parameters()}, np.ones((1, 1)))
print("worked example, dh_t/da (gates i, f, g, o):", np.round(grads["bias_ih"], 4))
print(f"  dh_t/dc_(t-1) = {grads['c_prev'].item():.4f} (the tutorial's 0.2890); "
      f"max |hand - autograd| = {err:.1e}")

# a random batch: B = 3, input 5, H = 4, and a random upstream gradient
mg.manual_seed(4)
rng = np.random.default_rng(4)
big = nn.LSTMCell(5, 4, dtype=mg.float64)
err = check(big, rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4)),
            rng.normal(size=(3, 4)))
print(f"random batch: max |hand - autograd| over all 7 gradients = {err:.1e}")
assert err < 1e-12
print("Every gate's gradient derived by hand matches autograd to 1e-12.")
