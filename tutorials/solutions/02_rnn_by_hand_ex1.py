"""Tutorial 2, exercise 1 (derive and implement): BPTT for a sequence-to-one loss.

The tutorial's loss scores a forecast at every step. Many tasks score only the last one
(classify a sentence, forecast the year after a window):

    L = (1/B) sum_b (yhat_{T,b} - y_{T,b})^2,   yhat_T = h_T W_hy^T + b_y.

1. Derive the backward pass. Which terms of the tutorial's recursion disappear?
   (Answer: δyhat_t = 0 for t < T, so δW_hy, δb_y get one term, from t = T; the hidden
   gradient starts at δh_T = δyhat_T W_hy and afterwards only flows back through the
   recurrence, δh_t = δa_{t+1} W_hh, with δa_t = δh_t ⊙ (1 - h_t^2) as before.)
2. Implement it in NumPy and check every gradient against autograd in float64 (1e-12) on
   the sunspot windows of the tutorial.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import load_sunspots
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("02 RNN by hand, exercise 1: BPTT when only the last step is scored")
mg.manual_seed(0)
DT, H, T, B = mg.float64, 16, 32, 8

# the tutorial's data: standardised yearly sunspots, B windows of T years, time first
values = load_sunspots(monthly=False).values
z = (values - values[:256].mean()) / values[:256].std()  # training-year statistics
x_np = z[: T * B].reshape(B, T).T[:, :, None]  # (T, B, 1)
y_last = z[T : T * B + 1 : T][:B, None]  # (B, 1): the year after each window
rnn = nn.RNNCell(1, H, dtype=DT)
readout = nn.Linear(H, 1, dtype=DT)

# autograd: the loss only looks at h_T
h = mg.zeros(B, H, dtype=DT)
for t in range(T):
    h = rnn(mg.tensor(x_np[t]), h)
L = ((readout(h) - mg.tensor(y_last)) ** 2).mean()
L.backward()


def last_step_bptt(p, x, y):
    """p: NumPy weights; x (T, B, 1); y (B, 1). Returns L and dL/dp."""
    T, B, _ = x.shape
    hs = [np.zeros((B, H))]
    for t in range(T):
        hs.append(np.tanh(x[t] @ p["W_ih"].T + p["b_ih"] + hs[-1] @ p["W_hh"].T + p["b_hh"]))
    y_hat = hs[-1] @ p["W_hy"].T + p["b_y"]
    L = ((y_hat - y) ** 2).mean()

    d_yhat = 2 * (y_hat - y) / B  # only step T has a loss term
    g = {"W_hy": d_yhat.T @ hs[T], "b_y": d_yhat.sum(0)}
    g.update({k: np.zeros_like(p[k]) for k in ("W_ih", "W_hh", "b_ih", "b_hh")})
    d_h = d_yhat @ p["W_hy"]  # delta h_T: from the read-out only
    for t in range(T, 0, -1):
        d_a = d_h * (1 - hs[t] ** 2)
        g["W_ih"] += d_a.T @ x[t - 1]
        g["W_hh"] += d_a.T @ hs[t - 1]
        g["b_ih"] += d_a.sum(0)
        g["b_hh"] += d_a.sum(0)
        d_h = d_a @ p["W_hh"]  # delta h_{t-1}: through the recurrence only
    return L, g


tensors = {"W_ih": rnn.weight_ih, "W_hh": rnn.weight_hh, "b_ih": rnn.bias_ih,
           "b_hh": rnn.bias_hh, "W_hy": readout.weight, "b_y": readout.bias}
L_hand, g_hand = last_step_bptt({k: v.detach().numpy() for k, v in tensors.items()}, x_np,
                                y_last)
print(f"loss: autograd {L.item():.12f}   by hand {L_hand:.12f}")
assert_close(L_hand, L.item(), rtol=1e-12, atol=1e-12, name="loss")
for k, v in tensors.items():
    diff = np.abs(v.grad.numpy() - g_hand[k]).max()
    print(f"  dL/d{k:5s} max |autograd - by hand| = {diff:.1e}")
    assert_close(g_hand[k], v.grad.numpy(), rtol=1e-12, atol=1e-12, name=f"dL/d{k}")
print("The sequence-to-one BPTT matches autograd to 1e-12 for every parameter.")
