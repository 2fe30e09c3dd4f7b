"""Tutorial 3, exercise 1 (implement and compare): clipping by value vs clipping by norm.

Besides `clip_grad_norm_`, PyTorch offers `clip_grad_value_(parameters, c)`, which clamps
every gradient element into [-c, c] on its own.

1. Implement clipping by value yourself (a few lines over `p.grad` of every parameter) and
   check it against `nn.utils.clip_grad_value_`.
2. Predict the difference between the two on one gradient of the tutorial's exploding RNN
   (W_hh x 2, the adding problem at T = 10). (Answer: clipping by norm multiplies the whole
   gradient g by one number, so its direction is kept, cos(g, clipped) = 1; clipping by
   value shrinks the large elements only, so the direction changes towards the small ones.)
3. Train the exploding RNN with each (SGD with momentum, as in the tutorial) and compare
   the final test MSE. (Full mode, 600 steps, in our run: clipping by norm to 1 solves the
   task, 0.0082; clipping every element to 0.1 ends at 0.212, worse than no clipping, 0.196:
   the turned steps do not follow the loss downhill.)
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.utils.tutorial import QUICK, banner

banner("03 vanishing gradients, exercise 1: clipping by value vs by norm")
T, STEPS = 10, (60 if QUICK else 600)


def adding_batch(rng, B, T):
    """The tutorial's adding problem: x (B, T, 2) = [v_t, m_t], y (B, 1) = sum_t m_t v_t."""
    v = rng.uniform(0, 1, (B, T))
    m = np.zeros((B, T))
    m[np.arange(B), rng.integers(0, T // 2, B)] = 1
    m[np.arange(B), rng.integers(T // 2, T, B)] = 1
    x, y = np.stack([v, m], -1), (m * v).sum(1, keepdims=True)
    return mg.tensor(x, dtype=mg.float32), mg.tensor(y, dtype=mg.float32)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(2, 32, batch_first=True)
        self.out = nn.Linear(32, 1)
        with mg.no_grad():
            self.rnn.weight_hh_l0.data *= 2  # the tutorial's exploding regime

    def forward(self, x):
        return self.out(self.rnn(x)[0][:, -1])


def clip_by_value(parameters, c):
    """g <- min(max(g, -c), c), element by element, in place."""
    for p in parameters:
        if p.grad is not None:
            p.grad = p.grad.clamp(-c, c)


def flat_grad(net):
    return np.concatenate([p.grad.numpy().ravel() for p in net.parameters()])


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# one large gradient of the exploding network
mg.manual_seed(0)
net = Net()
x, y = adding_batch(np.random.default_rng(0), 32, T)
F.mse_loss(net(x), y).backward()
g = flat_grad(net)
c_value = 0.1 * np.abs(g).max()  # clamp the largest elements to a tenth of their size
c_norm = 0.1 * np.linalg.norm(g)
saved = [p.grad.clone() for p in net.parameters()]

clip_by_value(net.parameters(), c_value)
g_mine = flat_grad(net)
for p, s in zip(net.parameters(), saved):
    p.grad = s.clone()
nn.utils.clip_grad_value_(net.parameters(), c_value)
assert np.array_equal(g_mine, flat_grad(net)), "our clip_by_value differs from clip_grad_value_"
for p, s in zip(net.parameters(), saved):
    p.grad = s.clone()
nn.utils.clip_grad_norm_(net.parameters(), c_norm)
g_norm = flat_grad(net)

cos_value, cos_norm = cosine(g, g_mine), cosine(g, g_norm)
print(f"||g|| = {np.linalg.norm(g):.3g}; elements clipped by value: "
      f"{int((np.abs(g) > c_value).sum())} of {g.size}")
print(f"cos(g, clipped): by norm {cos_norm:.12f}   by value {cos_value:.6f}")


def train(clip):
    mg.manual_seed(0)
    rng, net = np.random.default_rng(0), Net()
    x_test, y_test = adding_batch(np.random.default_rng(99), 500, T)
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for _ in range(STEPS):
        x, y = adding_batch(rng, 32, T)
        loss = F.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        clip(net.parameters())
        opt.step()
    with mg.no_grad():
        return F.mse_loss(net(x_test), y_test).item()


for name, clip in [("clip_grad_norm_(1)", lambda ps: nn.utils.clip_grad_norm_(ps, 1.0)),
                   ("clip by value (0.1)", lambda ps: clip_by_value(ps, 0.1)),
                   ("no clipping", lambda ps: None)]:
    print(f"{name:22s} final test MSE after {STEPS} steps: {train(clip):.4f} (predict the mean: "
          f"{2 / 12:.3f})")

# what the exercise demonstrates: norm clipping keeps the direction, value clipping does not
assert abs(cos_norm - 1) < 1e-6
assert cos_value < 0.999
assert np.abs(g_mine).max() <= c_value * (1 + 1e-6)
print("Clipping by norm only shortens the step; clipping by value also turns it.")
