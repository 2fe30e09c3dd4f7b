# %% [markdown]
# # 11. Your own cell: a peephole LSTM, compiled for free
#
# minigrad's LSTM, GRU and RNN are a few lines of ops each (`minigrad/nn/cells.py`). Here you
# write a cell of your own, a **peephole LSTM**, in the same way, and run it over sequences
# with `nn.Recurrent`. You write the forward step only. Back-propagation through time comes
# from the engine on either of two paths:
#
# * **graph** (`fused=False`): the cell runs once per step and every op becomes a node of
#   the graph; `backward` walks that graph back;
# * **compiled** (`fused=True`, the default): `minigrad.jit` traces one step of your cell and
#   runs the sequence as ONE node whose forward replays the recorded ops and whose backward
#   replays their own backward rules in reverse time
#   (docs/concepts/compiled-recurrence.md).
#
# We check that both paths compute the same numbers, time them, and train the cell to
# forecast the sunspot number a year ahead, as in tutorial 7.
#
# **Data**: monthly mean sunspot numbers, January 1749 to June 2009 (SIDC via NOAA's NGDC,
# distributed with statsmodels; public domain), `mg.data.load_sunspots()`.
#
# **Time**: about a minute on 2 CPU cores (full mode); seconds with `--quick`.

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import math
import time

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import load_sunspots
from minigrad.testing import assert_close
from minigrad.utils.tutorial import Timer, banner, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("11 your own cell")
mg.manual_seed(0)

# %% [markdown]
# ## The cell
#
# In the standard LSTM the gates see the input and $h_{t-1}$ only. Gers & Schmidhuber (2000)
# let the input and forget gates also *peek* at the cell state $c_{t-1}$, and the output gate
# at the new $c_t$, through elementwise weights $p_i$, $p_f$, $p_o$ (one per unit):
#
# $$
# \begin{aligned}
# i_t &= \sigma(W_i x_t + U_i h_{t-1} + p_i \odot c_{t-1} + b_i)\\
# f_t &= \sigma(W_f x_t + U_f h_{t-1} + p_f \odot c_{t-1} + b_f)\\
# c_t &= f_t \odot c_{t-1} + i_t \odot \tanh(W_g x_t + U_g h_{t-1} + b_g)\\
# o_t &= \sigma(W_o x_t + U_o h_{t-1} + p_o \odot c_t + b_o)\\
# h_t &= o_t \odot \tanh(c_t)
# \end{aligned}
# $$
#
# A cell for `nn.Recurrent` is a Module with `forward(x_t, state) -> new state`; the state
# here is the pair $(h, c)$, and its first element is what the layer outputs at each step.
# `initial_state(batch)` gives the zeros the layer starts from when you pass no state.

# %%
class PeepholeLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        bound = 1 / math.sqrt(hidden_size)

        def param(*shape):
            return nn.Parameter(mg.empty(*shape).uniform_(-bound, bound))

        self.w_x = param(4 * hidden_size, input_size)  # [W_i; W_f; W_g; W_o]
        self.w_h = param(4 * hidden_size, hidden_size)  # [U_i; U_f; U_g; U_o]
        self.bias = param(4 * hidden_size)
        self.p_i, self.p_f, self.p_o = param(hidden_size), param(hidden_size), param(hidden_size)

    def initial_state(self, batch):
        h = mg.zeros(batch, self.hidden_size, dtype=self.w_x.dtype, device=self.w_x.device)
        return h, mg.zeros_like(h)

    def forward(self, x, state):
        h, c = state
        zi, zf, zg, zo = (F.linear(x, self.w_x, self.bias) + F.linear(h, self.w_h)).chunk(4, -1)
        i = (zi + self.p_i * c).sigmoid()
        f = (zf + self.p_f * c).sigmoid()
        c = f * c + i * zg.tanh()
        o = (zo + self.p_o * c).sigmoid()
        return o * c.tanh(), c


# %% [markdown]
# ## Compiled == graph
#
# The same cell, the same weights, the same batch: run it on both paths in float64 and
# compare the outputs and every gradient, with padded sequences (`lengths=`) in the batch.
# `mg.testing.assert_close` raises if any element differs by more than 1e-12 relative.

# %%
cell = PeepholeLSTMCell(3, 8).to("float64")
x = mg.randn(20, 4, 3, dtype="float64")
lengths = [20, 7, 13, 20]
results = {}
for fused in (False, True):
    cell.zero_grad()
    out, (h, c) = nn.Recurrent(cell, fused=fused)(x, lengths=lengths)
    ((out * out).sum() + (c * c).sum()).backward()
    results[fused] = [out.detach(), h.detach()] + [p.grad for p in cell.parameters()]
assert_close(results[True], results[False], rtol=1e-12, atol=1e-14)
worst = max(float(np.abs(a.numpy() - b.numpy()).max())
            for a, b in zip(results[True], results[False]))
print(f"compiled vs graph: outputs and {len(results[True]) - 2} gradients agree; "
      f"largest difference {worst:.1e}")

# %% [markdown]
# What the compiler saw: one traced step, as a list of ops (its *program*). Each of them
# runs $T$ times on raw arrays in forward, and its own backward rule $T$ times in reverse.

# %%
layer = nn.Recurrent(cell)
layer(x)  # the first call traces the step
program = next(iter(layer._traces.programs.values()))  # the layer's cache of traced steps
print(" -> ".join(node.cls.__name__ for node in program.nodes))

# %% [markdown]
# ## Faster
#
# One training step (forward, loss, backward) on a batch of 32 sequences of 64 steps, float32,
# hidden size 64, on each path. The compiled path makes no graph node per op and step, and
# computes the gradient of each weight matrix with one product over all steps.

# %%
def time_step(fused, repeats):
    mg.manual_seed(1)
    cell = PeepholeLSTMCell(8, 64)
    layer = nn.Recurrent(cell, fused=fused)
    xb = mg.randn(64, 32, 8)
    times = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        out, _ = layer(xb)
        (out * out).mean().backward()
        times.append(time.perf_counter() - t0)
    return float(np.median(times[1:]))  # the first call traces; not timed


repeats = 2 if QUICK else 7
t_graph, t_compiled = time_step(False, repeats), time_step(True, repeats)
print(f"one training step: graph {t_graph * 1e3:.0f} ms, compiled {t_compiled * 1e3:.0f} ms "
      f"({t_graph / t_compiled:.1f}x faster)")

# %% [markdown]
# ## Training it: a year-ahead sunspot forecast
#
# Windows of the past $W$ months in, the next 12 months out, standardised with the training
# years' statistics; a chronological split (train before 1940, test from 1970), as in
# tutorial 7. The model is the peephole cell over the window, then a linear layer from the
# last $h$ to the 12 forecasts.

# %%
series = load_sunspots().values
split_val, split_test = 191 * 12, 221 * 12  # January 1940, January 1970
mu, sigma = series[:split_val].mean(), series[:split_val].std()
z = ((series - mu) / sigma).astype(np.float32)
W, K = (48 if QUICK else 120), 12


def windows(start, stop, stride):
    ms = np.arange(max(start, W), min(stop, len(z) - K + 1), stride)
    return (np.stack([z[m - W : m] for m in ms])[:, :, None],
            np.stack([z[m : m + K] for m in ms]), ms)


x_train, y_train, _ = windows(0, split_val, 6 if QUICK else 1)
x_test, y_test, m_test = windows(split_test, len(z), 1)


class Forecaster(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.rnn = nn.Recurrent(PeepholeLSTMCell(1, hidden), batch_first=True)
        self.out = nn.Linear(hidden, K)

    def forward(self, x):
        _, (h, c) = self.rnn(x)
        return self.out(h)


model = Forecaster(16 if QUICK else 32)
opt = optim.Adam(model.parameters(), lr=3e-3)
EPOCHS, BATCH = (2 if QUICK else 10), 64
rng, curve = np.random.default_rng(0), []
with Timer() as t_train:
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x_train))
        for i in progress(range(0, len(order), BATCH), desc=f"epoch {epoch + 1}"):
            idx = order[i : i + BATCH]
            loss = F.mse_loss(model(mg.tensor(x_train[idx])), mg.tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            curve.append(loss.item())
print(f"trained {EPOCHS} epochs in {t_train.elapsed():.0f} s")

with mg.no_grad():
    pred = model(mg.tensor(x_test)).numpy()
rmse = float(np.sqrt(np.mean(((pred - y_test) * sigma) ** 2)))
naive = np.repeat(z[m_test - 1][:, None], K, axis=1)
rmse_naive = float(np.sqrt(np.mean(((naive - y_test) * sigma) ** 2)))
print(f"test RMSE: peephole LSTM {rmse:.1f}, naive (last month) {rmse_naive:.1f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(curve, lw=0.8)
ax.set_xlabel("training step")
ax.set_ylabel("MSE (standardised)")
ax.set_title("peephole LSTM, compiled path")
savefig(fig, "11_training.png")

# %%
print(f"RESULT: peephole LSTM compiled == graph (max diff {worst:.1e}), "
      f"{t_graph / t_compiled:.1f}x faster compiled; test RMSE {rmse:.1f} vs naive "
      f"{rmse_naive:.1f}")

# %% [markdown]
# ## What the compiler cannot do
#
# A compiled cell is replayed from ONE recording of one step, so the step must do the same
# thing every time. `minigrad.jit.TraceError` names what breaks that, and `fused=False` runs
# such a cell as written: Python `if` on a tensor's value, dropout or `mg.randn` *inside* the
# cell, a `Function` of your own. Dropout between layers is fine.

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. Write the minimal gated unit (Zhou et al. 2016), one gate for everything:
#    $f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)$,
#    $\tilde h_t = \tanh(W_h x_t + U_h (f_t \odot h_{t-1}))$,
#    $h_t = (1 - f_t) \odot h_{t-1} + f_t \odot \tilde h_t$ (its state is $h$ alone), and check
#    that its compiled and graph paths agree, with `lengths=`, to 1e-12 in float64.
#    Solution: tutorials/solutions/11_your_own_cell_ex1.py
# 2. Put `F.dropout(x, 0.2)` inside the peephole cell and see the compiler refuse it. Then
#    move the dropout out (apply it to the whole input sequence before `nn.Recurrent`) and
#    check that, with the same seed, both paths then give the same loss and gradients.
#    Solution: tutorials/solutions/11_your_own_cell_ex2.py
