# %% [markdown]
# # 4. One LSTM step by the numbers
#
# The LSTM's equations look heavier than they are. In this tutorial we push one concrete
# input through one LSTM step with a pencil (well, NumPy), number by number, and then check
# every number against `mg.nn.LSTMCell`. Then we do the same for one gradient. Last, we
# redo a published worked example with two hidden units, whose numbers do not hold together
# as printed, and look at three ways the course's source articles get the LSTM wrong, each
# with a check you can run.
#
# Runs in a second or two.
#
# ## The equations
#
# With $x_t$ the input at step $t$, $h_{t-1}$ and $c_{t-1}$ the hidden and cell state before
# it, $\sigma$ the logistic sigmoid and $\odot$ the elementwise product (the same symbols as in
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
# The cell state $c_t$ is the memory: the forget gate $f_t$ decides how much of $c_{t-1}$ to
# keep, the input gate $i_t$ how much of the new candidate $g_t$ to write. The output gate $o_t$
# decides how much of the memory to show as $h_t$.
#
# In the module, the four input matrices are stacked into one,
# $W_{ih} = [W_{ii}; W_{if}; W_{ig}; W_{io}]$ of shape $(4H, \text{input\_size})$, and likewise
# $W_{hh} = [W_{hi}; W_{hf}; W_{hg}; W_{ho}]$ $(4H, H)$, $b_{ih}$ and $b_{hh}$ $(4H,)$:
# PyTorch's layout and gate order $(i, f, g, o)$.

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
# The smallest LSTM that still shows everything: `input_size = 2`, hidden size $H = 1$, so
# every gate is one number. Each row of $W_{ih}$ below belongs to one gate.

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
# $a = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}$, then split into $a_i$, $a_f$, $a_g$,
# $a_o$.
#
# By hand, for the input gate:
# $a_i = 0.2 \cdot 1 + 0.1 \cdot 2 + 0.1 + 0.4 \cdot 0.5 + 0 = 0.7$.
# Likewise $a_f = 0.3 + 1.0 + 0.5 - 0.1 = 1.7$, $a_g = -0.4 + 0.6 + 0.3 = 0.5$ and
# $a_o = 0.1 - 0.6 + 0.2 + 0.1 = -0.2$.

# %%
a = W_ih @ x_t + b_ih + W_hh @ h_prev + b_hh
a_i, a_f, a_g, a_o = a
print("pre-activations  a_i, a_f, a_g, a_o =", a)
assert np.allclose(a, [0.7, 1.7, 0.5, -0.2])

# %% [markdown]
# **Step 2, the gates.** $\sigma$ for $i$, $f$, $o$; $\tanh$ for $g$:
# $i_t = \sigma(0.7) = 0.6682$, $f_t = \sigma(1.7) = 0.8455$, $g_t = \tanh(0.5) = 0.4621$,
# $o_t = \sigma(-0.2) = 0.4502$.

# %%
i_t, f_t, g_t, o_t = sigma(a_i), sigma(a_f), np.tanh(a_g), sigma(a_o)
print(f"i_t = {i_t:.4f}   f_t = {f_t:.4f}   g_t = {g_t:.4f}   o_t = {o_t:.4f}")
assert np.allclose([i_t, f_t, g_t, o_t], [0.6682, 0.8455, 0.4621, 0.4502], atol=5e-5)

# %% [markdown]
# **Step 3, the memory.** Keep 84.55% of the old memory, write 66.82% of the candidate:
#
# $c_t = f_t \odot c_{t-1} + i_t \odot g_t = 0.8455 \cdot (-1) + 0.6682 \cdot 0.4621
# = -0.8455 + 0.3088 = -0.5368$
# (-0.5367 from the rounded terms; the code keeps every digit).
#
# **Step 4, the output.**
# $h_t = o_t \odot \tanh(c_t) = 0.4502 \cdot \tanh(-0.5368) = 0.4502 \cdot (-0.4905)
# = -0.2208$.

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
# Why does the LSTM remember longer than a plain RNN? Look at how a gradient flows from $h_t$
# back to the old memory $c_{t-1}$. Only $c_t$ depends on $c_{t-1}$, through
# $c_t = f_t \odot c_{t-1} + \dots$, so by the chain rule
#
# $$\frac{\partial h_t}{\partial c_{t-1}} = o_t \,\bigl(1 - \tanh^2(c_t)\bigr)\, f_t
#   = 0.4502 \cdot (1 - 0.4905^2) \cdot 0.8455 = 0.2890 .$$
#
# and along the memory alone, $\partial c_t/\partial c_{t-1} = f_t = 0.8455$: the gradient is
# multiplied by
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
# NumPy equations above against `LSTMCell` with `input_size = 5`, $H = 4$, a batch of 3 and
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
# The gates of the worked example: pre-activation $a$ (bars) and the gate value after
# $\sigma$ or $\tanh$ (dots), then the memory going from $c_{t-1}$ to $c_t$ and the output
# $h_t$.

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

# %% [markdown]
# ## A worked example from the literature, with shapes that fit
#
# *RNN与其他深度学习模型的比较* (section 4.2) works through one LSTM step with two hidden units
# and a two-dimensional input: $x_t = [0.5, 0.1]$, $h_{t-1} = [0.2, 0.4]$,
# $c_{t-1} = [0.6, -0.2]$. It writes each gate on the concatenation $[h_{t-1}, x_t]$, a vector
# of 4 numbers: $a_f = W_f [h_{t-1}, x_t] + b_f$, and so on. Its numbers do not hold together
# (see the box below), so here it is again with every number recomputed.
#
# Each gate's $W$ has shape **$(2, 4)$**: one row per hidden unit, one column per entry of
# $[h_{t-1}, x_t]$. The article gives no weights, so we chose them (and the biases) so that
# the pre-activations are the article's where it gives them: the forget gate's $[0.3, 0.5]$
# (the first column of its $2 \times 2$ display); for the input gate and the candidate, round
# values whose gates match its $i_t = [0.41, 0.29]$ and $\tilde c_t = [0.72, -0.59]$. The
# article stops before the output gate; ours is an arbitrary $a_o = [0.4, -0.2]$.

# %%
x_004 = np.array([0.5, 0.1])
h_004 = np.array([0.2, 0.4])
c_004 = np.array([0.6, -0.2])
hx = np.concatenate([h_004, x_004])  # [h_{t-1}, x_t], (4,)
W_004 = {  # gate -> (W of shape (2, 4) on [h1, h2, x1, x2], b of shape (2,))
    "i": (np.array([[-0.5, 0.5, -0.4, 0.2], [0.3, -1.0, -0.2, 0.0]]), np.array([-0.28, -0.46])),
    "f": (np.array([[0.5, 0.25, 0.2, -1.0], [-0.5, 1.0, 0.4, 0.5]]), np.array([0.1, -0.05])),
    "g": (np.array([[1.0, 0.5, 0.6, 0.3], [-0.4, -0.6, -0.2, 0.5]]), np.array([0.18, -0.31])),
    "o": (np.array([[0.3, 0.2, 0.4, 1.0], [0.6, -0.5, -0.1, 0.2]]), np.array([-0.04, -0.09])),
}
pre = {k: W @ hx + b for k, (W, b) in W_004.items()}
for k, a_k in pre.items():
    print(f"a_{k} = W_{k} [h, x] + b_{k} = {a_k}   (W_{k} {W_004[k][0].shape})")
assert np.allclose(pre["f"], [0.3, 0.5]) and np.allclose(pre["i"], [-0.36, -0.9])
assert np.allclose(pre["g"], [0.91, -0.68]) and np.allclose(pre["o"], [0.4, -0.2])

# %% [markdown]
# For the forget gate's first unit, by hand:
# $0.5 \cdot 0.2 + 0.25 \cdot 0.4 + 0.2 \cdot 0.5 - 1.0 \cdot 0.1 + 0.1 = 0.3$. Then the gates:
#
# | | unit 1 | unit 2 | the article |
# |---|---|---|---|
# | $f_t = \sigma(a_f)$ | $\sigma(0.3) =$ **0.5744** | $\sigma(0.5) = 0.6225$ | 0.63, 0.82 |
# | $i_t = \sigma(a_i)$ | $\sigma(-0.36) = 0.4110$ | $\sigma(-0.9) = 0.2891$ | 0.41, 0.29 |
# | $\tilde c_t = \tanh(a_g)$ | $\tanh(0.91) = 0.7211$ | $\tanh(-0.68) = -0.5915$ | 0.72, -0.59 |
# | $o_t = \sigma(a_o)$ | $\sigma(0.4) = 0.5987$ | $\sigma(-0.2) = 0.4502$ | (not computed) |
#
# The memory, elementwise ($\odot$ multiplies two vectors entry by entry; no diagonal matrices
# are needed):
#
# $c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t
# = [0.5744 \cdot 0.6, 0.6225 \cdot (-0.2)] + [0.4110 \cdot 0.7211, 0.2891 \cdot (-0.5915)]
# = [0.3447, -0.1245] + [0.2964, -0.1710] =$ **[0.6410, -0.2955]**
# (the article's [0.6732, -0.3351] follows from its wrong $f_t$).
#
# And the output the article leaves out:
# $h_t = o_t \odot \tanh(c_t) = [0.5987 \cdot 0.5656, 0.4502 \cdot (-0.2872)] =$
# **[0.3386, -0.1293]**.

# %%
f_004, i_004 = sigma(pre["f"]), sigma(pre["i"])
g_004, o_004 = np.tanh(pre["g"]), sigma(pre["o"])
c_new = f_004 * c_004 + i_004 * g_004
h_new = o_004 * np.tanh(c_new)
print(f"f_t = {f_004}  i_t = {i_004}  c~_t = {g_004}  o_t = {o_004}")
print(f"c_t = {c_new}   h_t = {h_new}")
assert np.allclose(f_004, [0.5744, 0.6225], atol=5e-5)
assert np.allclose(c_new, [0.6410, -0.2955], atol=5e-5)
assert np.allclose(h_new, [0.3386, -0.1293], atol=5e-5)

# %% [markdown]
# **Onto the module's parameters.** $W_f$ acts on $[h_{t-1}, x_t]$, so its first two columns
# are the hidden-side block $W_{hf}$ and its last two the input-side block $W_{if}$. Stacked in
# the gate order $(i, f, g, o)$, the hidden-side blocks make `weight_hh` $(8, 2)$, the
# input-side blocks `weight_ih` $(8, 2)$; each gate's single bias goes into `bias_ih`, with
# `bias_hh` zero (only their sum matters).

# %%
H2 = 2
weight_hh = np.concatenate([W_004[k][0][:, :H2] for k in "ifgo"])  # columns acting on h
weight_ih = np.concatenate([W_004[k][0][:, H2:] for k in "ifgo"])  # columns acting on x
bias_ih = np.concatenate([W_004[k][1] for k in "ifgo"])
cell_004 = nn.LSTMCell(2, H2, dtype=mg.float64)
cell_004.load_state_dict({"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih,
                          "bias_hh": np.zeros(4 * H2)})
with mg.no_grad():
    h_mg, c_mg = cell_004(mg.tensor([x_004], dtype=mg.float64),
                          (mg.tensor([h_004], dtype=mg.float64),
                           mg.tensor([c_004], dtype=mg.float64)))
err_004 = max(np.abs(h_mg.numpy()[0] - h_new).max(), np.abs(c_mg.numpy()[0] - c_new).max())
print(f"LSTMCell: h_t = {h_mg.numpy()[0]}  c_t = {c_mg.numpy()[0]}  (largest difference to "
      f"the hand computation {err_004:.1e})")
assert err_004 < 1e-12

# %% [markdown]
# > **Where the sources go wrong: the worked example's shapes and $\sigma(0.3)$**
# >
# > *RNN与其他深度学习模型的比较* (section 4.2) lists $W_f$, $W_i$, $W_c$, $W_o$ with shape
# > $(4, 4)$. A gate on $[h_{t-1}, x_t]$ maps 4 numbers to $H = 2$ numbers, so each $W$ is
# > **$(2, 4)$** (more generally $(H, H + \text{input\_size})$). A $(4, 4)$ matrix would
# > produce 4 gate values for 2 memory cells. The article then shows the forget gate's
# > pre-activation as a $2 \times 2$ matrix; a matrix times a vector is a vector, here of 2
# > numbers. It gives $\sigma(0.3)$ as 0.63, but $\sigma(0.3) = 1/(1 + e^{-0.3}) =$
# > **0.5744** (0.63 is $\sigma(0.53)$). Its products $f_t \odot c_{t-1}$ are
# > written with diagonal matrices; the elementwise product needs none. The check:

# %%
W_bad = np.ones((4, 4))
print("a (4, 4) W_f gives", (W_bad @ hx).shape[0], "gate values for", c_004.shape[0],
      "memory cells")
try:
    sigma(W_bad @ hx) * c_004  # f_t ⊙ c_{t-1} with the article's shapes
except ValueError as e:
    print("f_t ⊙ c_(t-1) fails:", e)
print(f"W_f (2, 4) @ [h, x] (4,) has shape {(W_004['f'][0] @ hx).shape}; "
      f"sigma(0.3) = {sigma(0.3):.4f}, not 0.63; sigma(0.53) = {sigma(0.53):.4f}")
assert (W_004["f"][0] @ hx).shape == (2,) and abs(sigma(0.3) - 0.5744) < 5e-5

# %% [markdown]
# > **Where the sources go wrong: an LSTM without its memory**
# >
# > *循环神经网络(Recurrent Neural Networks) - 原理与代码实例讲解* (section 4.2) writes the LSTM
# > as one update $h_t = \sigma(W_i[x_t, h_{t-1}] + b_i) \cdot h_{t-1}$
# > ${} + \sigma(W_f[x_t, h_{t-1}] + b_f) \cdot \tanh(W_c[x_t, h_{t-1}] + b_c)$ and an output
# > $y_t = \sigma(W_o[x_t, h_t] + b_o) \cdot \tanh(h_t)$, and (section 3.2) starts from
# > $h_0 = x_1$. Four things differ from the LSTM (Hochreiter &
# > Schmidhuber 1997; Gers et al. 2000), which is what PyTorch, the other articles and this
# > tutorial compute:
# >
# > 1. **There is no cell state.** The LSTM carries two vectors, $c_t$ (the memory) and $h_t$
# >    (what it shows); the whole point is the additive path
# >    $c_t = f_t \odot c_{t-1} + \dots$
# > 2. **The gates do each other's jobs.** There the *input* gate multiplies the old state
# >    and the *forget* gate the new candidate; in the LSTM the forget gate scales $c_{t-1}$
# >    and the input gate the candidate.
# > 3. **The output goes through $\tanh(c_t)$**, the memory, not $\tanh(h_t)$, and the output
# >    gate reads $h_{t-1}$, not the $h_t$ it is computing.
# > 4. **The initial state is zero** ($h_0 = c_0 = 0$, PyTorch's default when no state is
# >    passed). $h_0 = x_1$ only type-checks when the input and hidden sizes are equal, and
# >    then the first input is read twice.
# >
# > The checks: two steps that differ only in $c_{t-1}$ give different $h_t$ in an LSTM, which
# > a model without $c$ cannot reproduce; and `LSTMCell` without a state equals starting from
# > zeros.

# %%
with mg.no_grad():
    F64 = mg.float64
    xb_, hb_ = mg.tensor([x_004], dtype=F64), mg.tensor([h_004], dtype=F64)
    h_c1, _ = cell_004(xb_, (hb_, mg.tensor([c_004], dtype=F64)))
    h_c2, _ = cell_004(xb_, (hb_, mg.tensor([-c_004], dtype=F64)))
    h_none, _ = cell_004(xb_)
    h_zero, _ = cell_004(xb_, (mg.zeros(1, 2, dtype=F64), mg.zeros(1, 2, dtype=F64)))
gap = np.abs(h_c1.numpy() - h_c2.numpy()).max()
print(f"same x_t and h_(t-1), c_(t-1) = {c_004} vs {-c_004}: h_t differs by {gap:.4f}")
print(f"no state passed vs h_0 = c_0 = 0: difference "
      f"{np.abs(h_none.numpy() - h_zero.numpy()).max():.1e}")
assert gap > 0.1 and np.array_equal(h_none.numpy(), h_zero.numpy())

# %% [markdown]
# > **Where the sources go wrong: a NumPy LSTM that does not run**
# >
# > *AI大模型的基本原理-2.2 深度学习基础-2.2.3 循环神经网络* gives an LSTM class in NumPy. Its
# > equations (section 2.2.3.2) are right; its code is not:
# >
# > * it calls `sigmoid` and a bare `tanh` that are never defined (a `NameError` at the first
# >   step), and reads `self.Why` and `self.by`, which its LSTM never creates;
# > * the gates share weights that should be separate: the input and forget gates both use
# >   the forget gate's matrix on $h_{t-1}$, and the candidate's matrix serves the output
# >   gate's hidden part and both parts of the candidate. An LSTM has eight blocks (four
# >   gates $\times$ input and hidden side); the code has four;
# > * the candidate's input matrix has shape $(H, H)$ but multiplies $x_t$, which only works
# >   when `input_size` $= H$;
# > * the candidate adds its bias twice (`bc + bc`), and `self.bc` is assigned twice;
# > * every weight starts at zero: then all gates sit at $\sigma(0) = 0.5$, the candidate at
# >   $\tanh(0) = 0$, so $c_t = h_t = 0$ for every input and the output never depends on the
# >   data
# >   (tutorial 2 shows this for the plain RNN, and that no gradient can fix it).
# >
# > The corrected version is `lstm_step_numpy` above: four separate blocks of the stacked
# > $W_{ih}$ and $W_{hh}$, one matrix shape per side, defined helpers, checked against
# > `LSTMCell` to 1e-12. Two checks: the shape mistake fails as soon as `input_size` $\ne H$,
# > and an all-zero LSTM
# > outputs zeros whatever it reads.

# %%
try:
    np.zeros((4, 4)) @ np.ones(5)  # a (H, H) input matrix with H = 4, input_size = 5
except ValueError as e:
    print("(H, H) matrix times x_t with input_size 5:", e)
zero = nn.LSTMCell(5, 4, dtype=mg.float64)
zero.load_state_dict({k: np.zeros(v.shape) for k, v in zero.state_dict().items()})
with mg.no_grad():
    h_zero_a, _ = zero(mg.tensor(rng.normal(size=(3, 5)), dtype=mg.float64))
    h_zero_b, _ = zero(mg.tensor(100 * rng.normal(size=(3, 5)), dtype=mg.float64))
print("all-zero LSTM, two different batches of inputs -> largest |h_t|:",
      np.abs(h_zero_a.numpy()).max(), np.abs(h_zero_b.numpy()).max())
assert not np.abs(h_zero_a.numpy()).any() and not np.abs(h_zero_b.numpy()).any()

# %%
print(f"RESULT: hand-computed h_t = {h_t[0]:.4f}, c_t = {c_t[0]:.4f} match LSTMCell to 1e-6; "
      f"dh_t/dc_(t-1) = {dh_dc_prev[0]:.4f} matches autograd; the worked example of the "
      f"article, recomputed: c_t = [{c_new[0]:.4f}, {c_new[1]:.4f}], h_t = [{h_new[0]:.4f}, "
      f"{h_new[1]:.4f}], LSTMCell agrees to {err_004:.0e}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **Every gate's gradient.** The tutorial derived one gradient. Given
#    $\delta h_t = \partial L/\partial h_t$, derive the gradients of the four gate
#    pre-activations $a_i$, $a_f$, $a_g$, $a_o$, and from them $\partial L/\partial W_{ih}$,
#    $\partial L/\partial W_{hh}$, the biases, $\partial L/\partial x_t$,
#    $\partial L/\partial h_{t-1}$ and $\partial L/\partial c_{t-1}$. Implement them in
#    NumPy and check them against `LSTMCell` and autograd in float64: on the worked example
#    (you should find 0.2890 again) and on a random batch.
#    Solution: tutorials/solutions/04_lstm_by_the_numbers_ex1.py
# 2. **A peephole LSTM.** Gers, Schraudolph & Schmidhuber (2002) let the gates see the
#    memory: add $p_i \odot c_{t-1}$ to $a_i$, $p_f \odot c_{t-1}$ to $a_f$ and $p_o \odot c_t$
#    to $a_o$ ($p_i$, $p_f$, $p_o$ are learned vectors). Write the cell as an `nn.Module`,
#    check that with $p = 0$ it
#    computes exactly what `LSTMCell` computes, and check its gradients with `gradcheck`.
#    Solution: tutorials/solutions/04_lstm_by_the_numbers_ex2.py
# 3. **Saturated gates.** In the worked example, set the forget-gate bias to -20 and
#    predict $c_t$ and $\partial c_t/\partial c_{t-1}$. Then set it to +20 with the input-gate
#    bias at -20 and
#    predict again. Check both with `LSTMCell`. What does the second setting mean for a
#    gradient travelling back 100 steps?
#    Solution: tutorials/solutions/04_lstm_by_the_numbers_ex3.py
