# %% [markdown]
# # 2. An RNN cell by hand
#
# A recurrent network reads a sequence one step at a time and carries a **hidden state**
# $h_t$ from step to step: a summary of everything it has seen so far. In this tutorial you
#
# 1. write the Elman RNN cell as three lines of tensor operations;
# 2. **unroll** it over a sequence and check it against `mg.nn.RNNCell` and `mg.nn.RNN`;
# 3. train it to forecast yearly sunspot numbers twice: once with autograd's
#    backpropagation through time (BPTT), once with a BPTT derived by hand in NumPy, and see
#    the two give the same gradients and the same training run.
#
# Data: the yearly mean sunspot number, 1700-2008 (SIDC, distributed with statsmodels;
# public domain), `mg.data.load_sunspots(monthly=False)`. Runs in well under a minute.
#
# ## The model
#
# With $x_t$ the input at step $t$ $(B, 1)$, $h_{t-1}$ the previous hidden state $(B, H)$,
# $W_{ih}$ $(H, 1)$, $W_{hh}$ $(H, H)$, $b_{ih}$, $b_{hh}$ $(H,)$ the cell's parameters and
# $W_{hy}$ $(1, H)$, $b_y$ $(1,)$ a linear read-out:
#
# $$
# \begin{aligned}
# a_t &= x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh}\\
# h_t &= \tanh(a_t)\\
# \hat y_t &= h_t W_{hy}^T + b_y\\
# L &= \frac{1}{T B} \sum_{t=1}^{T} \sum_{b=1}^{B} (\hat y_{t,b} - y_{t,b})^2
# \end{aligned}
# $$
#
# with $h_0 = 0$ and the target $y_t = x_{t+1}$, next year's value.

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.optim as optim
from minigrad.data import load_sunspots
from minigrad.utils import viz
from minigrad.utils.tutorial import banner, draw_graph, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("02 RNN by hand")
mg.manual_seed(0)
DT = mg.float64  # float64 throughout, so "equal" can mean equal to ~1e-15

# %% [markdown]
# ## Data: sunspots, one value per year
#
# We standardise with the mean and standard deviation of the training years only (the test
# years must stay unseen), train on 1700-1955 and keep 1956-2008 for testing.
# The 256 training years give 255 (input, target) pairs: every year but the last is an
# input, every year but the first a target, so even the last target, 1955, is a training
# year. The pairs are cut into $B = 5$ windows of $T = 51$ years, processed side by side as
# a batch: tensors of shape $(T, B, 1)$, time first.

# %%
series = load_sunspots(monthly=False)
years, values = series.years, series.values
n_train = int(np.searchsorted(years, 1956))  # 256 years, 1700-1955
mu, sd = values[:n_train].mean(), values[:n_train].std()
z = (values - mu) / sd  # the standardised series

T, B = 51, 5
assert T * B == n_train - 1  # inputs z[0..254], targets z[1..255]: no test year among them
x_np = z[: T * B].reshape(B, T).T[:, :, None]  # (T, B, 1): column b is window b
y_np = z[1 : T * B + 1].reshape(B, T).T[:, :, None]  # the next year's value
print(f"{len(values)} years; training windows x: {x_np.shape}, last target year "
      f"{years[T * B]}, test years {years[n_train]}-{years[-1]}")

# %% [markdown]
# ## The cell in three lines, and unrolling
#
# `rnn_step` is the first two equations; `unroll` applies it $T$ times, feeding each $h_t$ into
# the next step. That loop *is* the recurrent network: autograd records each step as it
# runs, so the graph of an unrolled RNN is a chain of $T$ copies of the cell, sharing the same
# weights.

# %%
H = 16


def make_params():
    """The cell's parameters, drawn like PyTorch's: U(-1/sqrt(H), 1/sqrt(H))."""
    k = 1 / np.sqrt(H)

    def u(*shape):
        return nn.Parameter(mg.rand(*shape, dtype=DT) * 2 * k - k)

    return {"W_ih": u(H, 1), "W_hh": u(H, H), "b_ih": u(H), "b_hh": u(H),
            "W_hy": u(1, H), "b_y": u(1)}


def rnn_step(p, x_t, h_prev):
    a_t = x_t @ p["W_ih"].T + p["b_ih"] + h_prev @ p["W_hh"].T + p["b_hh"]
    return a_t.tanh()  # h_t


def unroll(p, x, h0=None):
    """Run the cell over x (T, B, 1); return every h_t stacked, (T, B, H)."""
    h = mg.zeros(x.shape[1], H, dtype=DT) if h0 is None else h0
    hs = []
    for t in range(x.shape[0]):
        h = rnn_step(p, x[t], h)
        hs.append(h)
    return mg.stack(hs)


def loss_fn(p, x, y):
    y_hat = unroll(p, x) @ p["W_hy"].T + p["b_y"]  # (T, B, 1)
    return ((y_hat - y) ** 2).mean()


params = make_params()
x, y = mg.tensor(x_np, dtype=DT), mg.tensor(y_np, dtype=DT)

# %% [markdown]
# Our three lines compute exactly what the library's cell and layer compute, given the same
# weights. `mg.nn.RNN` has two ways to run: `fused=False` runs this very loop of cells (with
# all $T$ input products done as one matrix product up front), and the default, compiled path
# runs the whole sequence as *one* graph node: `minigrad.jit` traces this same cell once and
# replays its ops, and their own backward rules in reverse time, for every step (the BPTT you
# are about to write by hand, derived instead of written). Both agree with our loop:

# %%
cell = nn.RNNCell(1, H, dtype=DT)
layer_graph = nn.RNN(1, H, dtype=DT, fused=False)
layer_fused = nn.RNN(1, H, dtype=DT)  # fused by default
with mg.no_grad():
    for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
        pt = name.replace("W_", "weight_").replace("b_", "bias_")
        getattr(cell, pt).data[...] = params[name].data
        getattr(layer_graph, pt + "_l0").data[...] = params[name].data
        getattr(layer_fused, pt + "_l0").data[...] = params[name].data
    ours = unroll(params, x)
    print("one step vs RNNCell:          ", float(abs(rnn_step(params, x[0], mg.zeros(
        B, H, dtype=DT)) - cell(x[0])).max()))
    print("unrolled vs nn.RNN (graph):   ", float(abs(ours - layer_graph(x)[0]).max()))
    print("unrolled vs nn.RNN (fused):   ", float(abs(ours - layer_fused(x)[0]).max()))

# %% [markdown]
# > **Where the sources go wrong: tanh is not the arc-tangent**
# >
# > *递归神经网络* (the section on the simple RNN) says the function $f_w$ is usually the
# > 反正切 function, the **arc-tangent**, and then writes tanh. tanh is the **hyperbolic
# > tangent** (双曲正切), $\tanh(a) = (e^a - e^{-a}) / (e^a + e^{-a})$: values in $(-1, 1)$,
# > derivative $1 - \tanh^2(a)$, which is the $(1 - h_t^2)$ of the BPTT below. The arc-tangent
# > $\arctan(a)$ has values in $(-\pi/2, \pi/2)$ and derivative $1/(1 + a^2)$: a different
# > function, and a hand-derived backward written for one is wrong for the other. The check:
# > the library's cell computes tanh, not arctan.

# %%
a_grid = np.linspace(-3, 3, 7)
print("a        ", a_grid)
print("tanh(a)  ", np.round(np.tanh(a_grid), 4))
print("arctan(a)", np.round(np.arctan(a_grid), 4))
one = nn.RNNCell(1, 1, bias=False, dtype=DT)
with mg.no_grad():
    one.weight_ih.data[...] = 1.0  # so the cell's pre-activation is a itself (h_0 = 0)
    h_lib = one(mg.tensor(a_grid[:, None], dtype=DT)).numpy()[:, 0]
print("RNNCell  ", np.round(h_lib, 4))
assert np.allclose(h_lib, np.tanh(a_grid)) and not np.allclose(h_lib, np.arctan(a_grid), atol=0.1)

# %% [markdown]
# > **Where the sources go wrong: an RNN that starts at zero stays useless**
# >
# > *AI大模型的基本原理-2.2 深度学习基础-2.2.3 循环神经网络* gives a NumPy RNN whose weights
# > and biases all start at zero. Then $a_t = 0$ at every step, $h_t = \tanh(0) = 0$, and the
# > output is the bias $b_y$ for *every* input: a constant. Worse, it stays one. With
# > $h_t = 0$, the read-out's gradient $\delta W_{hy} = \sum_t \delta\hat y_t^T h_t$ is 0,
# > and with $W_{hy} = 0$ no gradient reaches $h_t$
# > ($\delta h_t = \delta\hat y_t W_{hy} + \dots = 0$), so $W_{ih}$, $W_{hh}$ and the hidden
# > biases never move; only $b_y$ learns, the mean of the targets. Weights must start random
# > and small (PyTorch draws them from $U(-1/\sqrt{H}, 1/\sqrt{H})$, as `make_params` does).
# > The check uses our BPTT below on all-zero parameters.

# %% [markdown]
# Here is what autograd records for $T = 3$ steps (drawn with `mg.viz`, see tutorial 1): the
# same four parameters feed every step, and each step's $h_t$ feeds the next.

# %%
short = unroll(params, x[:3]).sum()
draw_graph(viz.to_dot(short, params=params, title="an RNN unrolled over 3 steps"),
           "02_unrolled.png")

# %% [markdown]
# ## Backpropagation through time, by hand
#
# Going backwards from the loss, write $\delta v$ for $\partial L/\partial v$. The read-out first:
#
# $$\delta\hat y_t = \frac{2}{T B}(\hat y_t - y_t), \qquad
#   \delta W_{hy} = \sum_t \delta\hat y_t^T h_t, \qquad \delta b_y = \sum_{t,b} \delta\hat y_t .$$
#
# $h_t$ is used twice: by the read-out at step $t$, and by the cell at step $t+1$. Its gradient is
# the sum of both, which is what makes this *through time*:
#
# $$\delta h_t = \delta\hat y_t W_{hy} + \delta a_{t+1} W_{hh}
#   \quad (\delta a_{T+1} = 0), \qquad \delta a_t = \delta h_t \odot (1 - h_t^2).$$
#
# The weights are shared by all steps, so their gradients add up over $t$ (with $h_0 = 0$):
#
# $$\delta W_{ih} = \sum_t \delta a_t^T x_t,\quad \delta W_{hh} = \sum_t \delta a_t^T h_{t-1},
#   \quad \delta b_{ih} = \delta b_{hh} = \sum_{t,b} \delta a_t .$$
#
# In NumPy, forward and backward together (the forward keeps every $h_t$, which backward
# needs: that is the memory cost of BPTT):

# %%
def loss_and_grads_by_hand(p, x, y):
    """p: dict of NumPy arrays; x, y: (T, B, 1). Returns L and dL/dp for every p."""
    T, B, _ = x.shape
    hs = [np.zeros((B, H))]  # hs[t] = h_t, with hs[0] = h_0
    for t in range(T):
        a_t = x[t] @ p["W_ih"].T + p["b_ih"] + hs[-1] @ p["W_hh"].T + p["b_hh"]
        hs.append(np.tanh(a_t))
    y_hat = np.stack(hs[1:]) @ p["W_hy"].T + p["b_y"]
    L = ((y_hat - y) ** 2).mean()

    g = {k: np.zeros_like(v) for k, v in p.items()}
    d_a_next = np.zeros((B, H))  # delta a_{t+1}, zero after the last step
    for t in range(T, 0, -1):  # t = T, ..., 1; hs[t] is h_t
        d_yhat = 2 * (y_hat[t - 1] - y[t - 1]) / (T * B)
        g["W_hy"] += d_yhat.T @ hs[t]
        g["b_y"] += d_yhat.sum(0)
        d_h = d_yhat @ p["W_hy"] + d_a_next @ p["W_hh"]
        d_a = d_h * (1 - hs[t] ** 2)
        g["W_ih"] += d_a.T @ x[t - 1]
        g["W_hh"] += d_a.T @ hs[t - 1]
        g["b_ih"] += d_a.sum(0)
        g["b_hh"] += d_a.sum(0)
        d_a_next = d_a
    return L, g


# %% [markdown]
# First, the zero-initialised RNN of the box above: a different input gives the same output,
# and only $b_y$ receives a gradient.

# %%
zeros = {k: np.zeros(v.shape) for k, v in params.items()}
L0, g0 = loss_and_grads_by_hand(zeros, x_np, y_np)
_, g0_other = loss_and_grads_by_hand(zeros, 3 * x_np + 1, y_np)
print("zero init: |gradient| per parameter:",
      {k: float(np.abs(v).max()) for k, v in g0.items()})
assert all(not np.abs(g0[k]).any() for k in zeros if k != "b_y") and np.abs(g0["b_y"]).any()
assert np.array_equal(g0["b_y"], g0_other["b_y"])  # the input makes no difference at all

# %% [markdown]
# ## The two gradients, side by side
#
# Autograd: build the graph with `loss_fn`, call `backward`, read `.grad`. By hand: the
# function above, on copies of the same numbers.

# %%
L = loss_fn(params, x, y)
L.backward()
p_np = {k: v.detach().numpy().copy() for k, v in params.items()}
L_hand, g_hand = loss_and_grads_by_hand(p_np, x_np, y_np)
print(f"loss: autograd {L.item():.12f}   by hand {L_hand:.12f}")
worst = 0.0
for k in params:
    diff = np.abs(params[k].grad.numpy() - g_hand[k]).max()
    worst = max(worst, diff)
    print(f"  dL/d{k:5s} shape {str(g_hand[k].shape):8s} max |autograd - by hand| = {diff:.1e}")
assert worst < 1e-12

# %% [markdown]
# ## Training both ways
#
# Same start, same optimiser (SGD with momentum $\mu$: $v \leftarrow \mu v + \delta p$,
# $p \leftarrow p - \text{lr}\, v$, PyTorch's rule), one run with `mg.optim.SGD` and autograd,
# one with the NumPy gradients and the same two lines of update by hand. If the gradients
# agree, the two runs stay on top of each other.

# %%
steps = 60 if QUICK else 600
lr, mu_m = 0.05, 0.9
opt = optim.SGD(params.values(), lr=lr, momentum=mu_m)
velocity = {k: np.zeros_like(v) for k, v in p_np.items()}
hist_auto, hist_hand = [], []
for _ in progress(range(steps), desc="training"):
    opt.zero_grad()
    L = loss_fn(params, x, y)
    L.backward()
    opt.step()
    hist_auto.append(L.item())

    L_hand, g_hand = loss_and_grads_by_hand(p_np, x_np, y_np)
    for k in p_np:
        velocity[k] = mu_m * velocity[k] + g_hand[k]
        p_np[k] -= lr * velocity[k]
    hist_hand.append(L_hand)

drift = max(np.abs(params[k].detach().numpy() - p_np[k]).max() for k in p_np)
print(f"after {steps} steps: train MSE autograd {hist_auto[-1]:.4f}, by hand "
      f"{hist_hand[-1]:.4f}; largest parameter difference {drift:.1e}")

# %% [markdown]
# ## Does it forecast?
#
# Run the trained RNN over the whole series (the state carries the history) and read its
# one-year-ahead forecast for the test years 1956-2008. The naive forecast "same as last
# year" is the baseline to beat. Errors are in sunspot numbers (the standardisation undone).

# %%
with mg.no_grad():
    z_all = mg.tensor(z[:-1, None, None], dtype=DT)  # (T_all, 1, 1): one long sequence
    pred_z = (unroll(params, z_all) @ params["W_hy"].T + params["b_y"]).numpy()[:, 0, 0]
pred = pred_z * sd + mu  # pred[i] forecasts values[i + 1]
test_idx = np.arange(n_train, len(values))
rmse_rnn = np.sqrt(np.mean((pred[test_idx - 1] - values[test_idx]) ** 2))
rmse_naive = np.sqrt(np.mean((values[test_idx - 1] - values[test_idx]) ** 2))
print(f"test RMSE, one year ahead: RNN {rmse_rnn:.1f}   last-value baseline {rmse_naive:.1f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
ax1.plot(hist_auto, lw=4, alpha=0.4, label="autograd BPTT")
ax1.plot(hist_hand, "k--", lw=1, label="hand-derived BPTT")
ax1.set_yscale("log")
ax1.set_xlabel("SGD step")
ax1.set_ylabel("training MSE (standardised)")
ax1.set_title("two trainings, one curve")
ax1.legend()
ax2.plot(years[test_idx], values[test_idx], "k", label="observed")
ax2.plot(years[test_idx], pred[test_idx - 1], "C1", label="RNN, one year ahead")
ax2.set_xlabel("year")
ax2.set_ylabel("sunspot number")
ax2.set_title("test years")
ax2.legend()
savefig(fig, "02_bptt.png")

# %% [markdown]
# ## What you have seen
#
# * An RNN is a cell applied in a loop; autograd records the unrolled loop as one long graph.
# * BPTT is nothing but the chain rule on that graph: $\delta h_t$ collects gradient from its
#   own output and from the next step, $\delta a_t = \delta h_t \odot (1 - h_t^2)$, and shared
#   weights sum their gradients over time. Autograd does exactly this, with no code of ours.
# * Notice the factor $W_{hh}$ and $(1 - h_t^2)$ applied once *per step* on the way back:

# %%
print(f"RESULT: autograd vs hand BPTT max gradient difference {worst:.1e}; after {steps} steps "
      f"train MSE {hist_auto[-1]:.4f} both ways; test RMSE {rmse_rnn:.1f} vs last-value "
      f"{rmse_naive:.1f}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **BPTT for a sequence-to-one loss.** Score only the last step,
#    $L = \frac{1}{B} \sum_b (\hat y_{T,b} - y_{T,b})^2$, as a classifier or a one-shot
#    forecaster would.
#    Which terms of the backward recursion above disappear? Write `loss_and_grads_by_hand`
#    for this loss and check every gradient against autograd to 1e-12 in float64.
#    Solution: tutorials/solutions/02_rnn_by_hand_ex1.py
# 2. **A linear RNN, and the gradient through time.** Drop the tanh
#    ($h_t = x_t W_{ih}^T + b + h_{t-1} W_{hh}^T$) and take $L = \sum_b h_{T,b}\, v$ for a fixed
#    vector $v$. Derive $\partial L/\partial h_t$ in closed form, then predict, from the
#    eigenvalues of $W_{hh}$, how $\lVert \partial L/\partial h_t \rVert$ changes as $t$ moves
#    away from $T$. Check both with `mg.autograd.grad`, for the default $W_{hh}$ and for
#    $W_{hh} \times 4$.
#    Solution: tutorials/solutions/02_rnn_by_hand_ex2.py
# 3. **Truncated BPTT by hand.** Tutorial 6 cuts long sequences into windows of $k$ steps and
#    stops the gradient at each window's start. Which line of `loss_and_grads_by_hand` must
#    change? Make the change, check it against autograd on the unrolled RNN with
#    `h = h.detach()` every $k$ steps, and predict how the truncated gradient's direction
#    compares with the full one for $k = 2, 4, 8, 16, 32$ before measuring it.
#    Solution: tutorials/solutions/02_rnn_by_hand_ex3.py
