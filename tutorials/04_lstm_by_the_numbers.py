# %% [markdown]
# # 4. One LSTM step by the numbers
#
# The LSTM's equations look heavier than they are. In this tutorial we push one concrete
# input through one LSTM step with a pencil (well, NumPy), number by number, and then check
# every number against `mg.nn.LSTMCell`. Then we do the same for one gradient.
#
# Runs in a second or two.
#
# ## The equations
#
# With x_t the input at step t, h_{t-1} and c_{t-1} the hidden and cell state before it, σ
# the logistic sigmoid and ⊙ the elementwise product (the same symbols as in
# `minigrad/nn/rnn.py`):
#
# $$
# \begin{aligned}
# i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) &&\text{input gate}\\
# f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) &&\text{forget gate}\\
# g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) &&\text{candidate cell}\\
# o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) &&\text{output gate}\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\
# h_t &= o_t \odot \tanh(c_t)
# \end{aligned}
# $$
#
# The cell state c_t is the memory: the forget gate f_t decides how much of c_{t-1} to keep,
# the input gate i_t how much of the new candidate g_t to write. The output gate o_t decides
# how much of the memory to show as h_t.
#
# In the module, the four input matrices are stacked into one,
# W_ih = [W_ii; W_if; W_ig; W_io] of shape (4H, input_size), and likewise
# W_hh = [W_hi; W_hf; W_hg; W_ho] (4H, H), b_ih and b_hh (4H,): PyTorch's layout and gate
# order (i, f, g, o).

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import banner, plt, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("04 LSTM by the numbers")
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The numbers
#
# The smallest LSTM that still shows everything: input_size = 2, hidden size H = 1, so
# every gate is one number. Each row of W_ih below belongs to one gate.

# %%
x_t = np.array([1.0, 2.0])  # (input_size,)
h_prev = np.array([0.5])  # h_{t-1}, (H,)
c_prev = np.array([-1.0])  # c_{t-1}, (H,)

W_ih = np.array([[0.2, 0.1],  # W_ii  (input gate)
                 [0.3, 0.5],  # W_if  (forget gate)
                 [-0.4, 0.3],  # W_ig  (candidate)
                 [0.1, -0.3]])  # W_io  (output gate)
W_hh = np.array([[0.4], [-0.2], [0.6], [0.2]])  # W_hi, W_hf, W_hg, W_ho
b_ih = np.array([0.1, 0.5, 0.0, 0.2])  # b_ii, b_if, b_ig, b_io
b_hh = np.zeros(4)  # b_hi, b_hf, b_hg, b_ho


def sigma(a):
    return 1 / (1 + np.exp(-a))


# %% [markdown]
# **Step 1, pre-activations.** One product for all four gates:
# a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh, then split into a_i, a_f, a_g, a_o.
#
# By hand, for the input gate: a_i = 0.2·1 + 0.1·2 + 0.1 + 0.4·0.5 + 0 = 0.7.
# Likewise a_f = 0.3 + 1.0 + 0.5 - 0.1 = 1.7, a_g = -0.4 + 0.6 + 0.3 = 0.5 and
# a_o = 0.1 - 0.6 + 0.2 + 0.1 = -0.2.

# %%
a = W_ih @ x_t + b_ih + W_hh @ h_prev + b_hh
a_i, a_f, a_g, a_o = a
print("pre-activations  a_i, a_f, a_g, a_o =", a)
assert np.allclose(a, [0.7, 1.7, 0.5, -0.2])

# %% [markdown]
# **Step 2, the gates.** σ for i, f, o; tanh for g:
# i_t = σ(0.7) = 0.6682, f_t = σ(1.7) = 0.8455, g_t = tanh(0.5) = 0.4621,
# o_t = σ(-0.2) = 0.4502.

# %%
i_t, f_t, g_t, o_t = sigma(a_i), sigma(a_f), np.tanh(a_g), sigma(a_o)
print(f"i_t = {i_t:.4f}   f_t = {f_t:.4f}   g_t = {g_t:.4f}   o_t = {o_t:.4f}")
assert np.allclose([i_t, f_t, g_t, o_t], [0.6682, 0.8455, 0.4621, 0.4502], atol=5e-5)

# %% [markdown]
# **Step 3, the memory.** Keep 84.55% of the old memory, write 66.82% of the candidate:
#
# c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t = 0.8455·(-1) + 0.6682·0.4621 = -0.8455 + 0.3088 = -0.5368
# (-0.5367 from the rounded terms; the code keeps every digit).
#
# **Step 4, the output.** h_t = o_t ⊙ tanh(c_t) = 0.4502 · tanh(-0.5368) = 0.4502 · (-0.4905)
# = -0.2208.

# %%
c_t = f_t * c_prev + i_t * g_t
h_t = o_t * np.tanh(c_t)
print(f"c_t = {c_t[0]:.4f}   h_t = {h_t[0]:.4f}")
assert np.allclose([c_t[0], h_t[0]], [-0.5368, -0.2208], atol=5e-5)

# %% [markdown]
# ## Checked against `mg.nn.LSTMCell`
#
# Load the same numbers into the module (its `state_dict` has exactly the four tensors
# above, under PyTorch's names) and run one step. The cell computes in float32, so we compare
# to about 1e-6.

# %%
cell = nn.LSTMCell(input_size=2, hidden_size=1)
print("state_dict keys:", list(cell.state_dict()))
cell.load_state_dict({"weight_ih": W_ih.astype(np.float32), "weight_hh": W_hh.astype(np.float32),
                      "bias_ih": b_ih.astype(np.float32), "bias_hh": b_hh.astype(np.float32)})
x = mg.tensor([x_t], dtype=mg.float32)  # a batch of one: (B=1, input_size)
h0 = mg.tensor([h_prev], dtype=mg.float32, requires_grad=True)
c0 = mg.tensor([c_prev], dtype=mg.float32, requires_grad=True)
h1, c1 = cell(x, (h0, c0))
print(f"LSTMCell: h_t = {h1.item():.6f}  c_t = {c1.item():.6f}")
print(f"by hand:  h_t = {h_t[0]:.6f}  c_t = {c_t[0]:.6f}")
assert abs(h1.item() - h_t[0]) < 1e-6 and abs(c1.item() - c_t[0]) < 1e-6

# %% [markdown]
# ## One gradient by the numbers
#
# Why does the LSTM remember longer than a plain RNN? Look at how a gradient flows from h_t
# back to the old memory c_{t-1}. Only c_t depends on c_{t-1}, through c_t = f_t ⊙ c_{t-1}
# + ..., so by the chain rule
#
# $$\frac{\partial h_t}{\partial c_{t-1}} = o_t \,\bigl(1 - \tanh^2(c_t)\bigr)\, f_t
#   = 0.4502 \cdot (1 - 0.4905^2) \cdot 0.8455 = 0.2890 .$$
#
# and along the memory alone, ∂c_t/∂c_{t-1} = f_t = 0.8455: the gradient is multiplied by
# the forget gate, a number the network can learn to hold near 1, instead of passing through
# a squashing nonlinearity and a weight matrix at every step (tutorial 3 plots the
# difference).

# %%
h1.backward()
dh_dc_prev = o_t * (1 - np.tanh(c_t) ** 2) * f_t
print(f"dh_t/dc_(t-1): autograd {c0.grad.item():.4f}   by hand {dh_dc_prev[0]:.4f}")
assert abs(c0.grad.item() - dh_dc_prev[0]) < 1e-6
assert abs(dh_dc_prev[0] - 0.2890) < 5e-5

# %% [markdown]
# ## Same check, bigger and random
#
# A single example could hide a transposed matrix (all our sizes were tiny). So: the
# NumPy equations above against `LSTMCell` with input_size = 5, H = 4, a batch of 3 and
# random weights, in float64.

# %%
def lstm_step_numpy(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """The six equations, batched: x_t (B, in), h_prev and c_prev (B, H)."""
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, 4H)
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # gate order (i, f, g, o)
    i_t, f_t, g_t, o_t = sigma(a_i), sigma(a_f), np.tanh(a_g), sigma(a_o)
    c_t = f_t * c_prev + i_t * g_t
    return o_t * np.tanh(c_t), c_t


mg.manual_seed(4)
big = nn.LSTMCell(5, 4, dtype=mg.float64)
p = {k: v.numpy() for k, v in big.state_dict().items()}
rng = np.random.default_rng(4)
xb, hb, cb = rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
h_np, c_np = lstm_step_numpy(xb, hb, cb, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                             p["bias_hh"])
with mg.no_grad():  # no backward here: skip recording the graph
    h_mg, c_mg = big(mg.tensor(xb), (mg.tensor(hb), mg.tensor(cb)))
err = max(np.abs(h_mg.numpy() - h_np).max(), np.abs(c_mg.numpy() - c_np).max())
print(f"largest difference, NumPy equations vs LSTMCell (float64): {err:.1e}")
assert err < 1e-12

# %% [markdown]
# ## The step in one picture
#
# The gates of the worked example: pre-activation a (bars) and the gate value after σ or
# tanh (dots), then the memory going from c_{t-1} to c_t and the output h_t.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
names = ["i_t", "f_t", "g_t", "o_t"]
ax1.bar(names, a, color="#bbccee", label="pre-activation a")
ax1.plot(names, [i_t, f_t, g_t, o_t], "ko", label="gate value")
for k, v in enumerate([i_t, f_t, g_t, o_t]):
    ax1.annotate(f"{v:.4f}", (k, v), textcoords="offset points", xytext=(8, 4))
ax1.axhline(0, color="k", lw=0.5)
ax1.set_title("the four gates")
ax1.legend(loc="lower left")
ax2.bar(["c_(t-1)", "f_t⊙c_(t-1)", "i_t⊙g_t", "c_t", "h_t"],
        [c_prev[0], f_t * c_prev[0], i_t * g_t, c_t[0], h_t[0]],
        color=["#999999", "#ee9999", "#99cc99", "#6688cc", "#222222"])
ax2.axhline(0, color="k", lw=0.5)
ax2.set_title("memory and output")
ax2.tick_params(axis="x", labelsize=8)
savefig(fig, "04_lstm_step.png")

# %%
print(f"RESULT: hand-computed h_t = {h_t[0]:.4f}, c_t = {c_t[0]:.4f} match LSTMCell to 1e-6; "
      f"dh_t/dc_(t-1) = {dh_dc_prev[0]:.4f} matches autograd")
