"""Tutorial 2, exercise 3 (derive, implement, predict): truncated BPTT by hand.

Tutorial 6 trains with *truncated* BPTT: the sequence is cut into windows of k steps, the
state is carried from one window to the next, but detached, so no gradient crosses a window
boundary.

1. What changes in the tutorial's `loss_and_grads_by_hand`? (Answer: one line. When h_t is
   the last state of a window, the δa_{t+1} arriving from the next window is dropped (set to
   0), so δh_t = δyhat_t W_hy only; everything else, including the sums over all steps for
   the shared weights, stays.)
2. Implement it and check it against autograd on the same unrolled RNN with
   `h = h.detach()` every k steps (float64, 1e-12).
3. Predict how the truncated gradient compares with the full one as k grows from 2 to T, and
   measure the cosine between them on the sunspot windows. (It approaches the full gradient as
   k grows, and equals it at k = T; the loss terms here depend mostly on recent steps, so even
   short windows point in nearly the right direction.)
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import load_sunspots
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("02 RNN by hand, exercise 3: truncated BPTT by hand")
mg.manual_seed(0)
DT, H, T, B = mg.float64, 16, 32, 8
values = load_sunspots(monthly=False).values
z = (values - values[:256].mean()) / values[:256].std()
x_np = z[: T * B].reshape(B, T).T[:, :, None]  # (T, B, 1), as in the tutorial
y_np = z[1 : T * B + 1].reshape(B, T).T[:, :, None]
cell, readout = nn.RNNCell(1, H, dtype=DT), nn.Linear(H, 1, dtype=DT)
tensors = {"W_ih": cell.weight_ih, "W_hh": cell.weight_hh, "b_ih": cell.bias_ih,
           "b_hh": cell.bias_hh, "W_hy": readout.weight, "b_y": readout.bias}
p = {k: v.detach().numpy() for k, v in tensors.items()}


def truncated_bptt_by_hand(k):
    """The tutorial's loss (mean over all steps) and its gradients, truncated to windows of k."""
    hs = [np.zeros((B, H))]
    for t in range(T):
        hs.append(np.tanh(x_np[t] @ p["W_ih"].T + p["b_ih"] + hs[-1] @ p["W_hh"].T + p["b_hh"]))
    y_hat = np.stack(hs[1:]) @ p["W_hy"].T + p["b_y"]
    g = {name: np.zeros_like(v) for name, v in p.items()}
    d_a_next = np.zeros((B, H))
    for t in range(T, 0, -1):  # hs[t] is h_t; step t is in window (t - 1) // k
        if t % k == 0:  # h_t is the last state of a window: nothing flows back into it
            d_a_next = np.zeros((B, H))  # <- the one new line
        d_yhat = 2 * (y_hat[t - 1] - y_np[t - 1]) / (T * B)
        g["W_hy"] += d_yhat.T @ hs[t]
        g["b_y"] += d_yhat.sum(0)
        d_a = (d_yhat @ p["W_hy"] + d_a_next @ p["W_hh"]) * (1 - hs[t] ** 2)
        g["W_ih"] += d_a.T @ x_np[t - 1]
        g["W_hh"] += d_a.T @ hs[t - 1]
        g["b_ih"] += d_a.sum(0)
        g["b_hh"] += d_a.sum(0)
        d_a_next = d_a
    return g


def truncated_bptt_by_autograd(k):
    for v in tensors.values():
        v.grad = None
    h, outs = mg.zeros(B, H, dtype=DT), []
    for t in range(T):
        if t % k == 0:
            h = h.detach()  # the state crosses the boundary, its gradient does not
        h = cell(mg.tensor(x_np[t]), h)
        outs.append(readout(h))
    ((mg.stack(outs) - mg.tensor(y_np)) ** 2).mean().backward()
    return {name: v.grad.numpy() for name, v in tensors.items()}


def flat(g):
    return np.concatenate([v.ravel() for v in g.values()])


full = flat(truncated_bptt_by_hand(T))
print(f"{'k':>3} {'max |hand - autograd|':>22} {'cos(truncated, full)':>21}")
cosines = {}
for k in (2, 4, 8, 16, T):
    hand, auto = truncated_bptt_by_hand(k), truncated_bptt_by_autograd(k)
    for name in hand:
        assert_close(hand[name], auto[name], rtol=1e-12, atol=1e-15, name=f"k={k}: dL/d{name}")
    g = flat(hand)
    cosines[k] = float(g @ full / np.linalg.norm(g) / np.linalg.norm(full))
    print(f"{k:3d} {np.abs(g - flat(auto)).max():22.1e} {cosines[k]:21.6f}")

assert abs(cosines[T] - 1) < 1e-12  # one window of T steps is full BPTT
assert cosines[16] > cosines[2]  # longer windows, closer to the full gradient
print("Truncated BPTT by hand matches autograd with detach(); longer windows approach the "
      "full gradient.")
