# %% [markdown]
# # 9. One GRU step by the numbers
#
# The gated recurrent unit (Cho et al. 2014) keeps the LSTM's idea, gates that decide what to
# keep and what to write, with one state instead of two and three weight blocks instead of
# four. Tutorial 5 trains one. Here we push one input through one GRU step by hand, in both
# of the GRU's published forms, check every number against `mg.nn.GRUCell`, see what each
# gate does, and settle a point on which the articles and the libraries disagree: which way
# round the update gate works.
#
# Runs in a second or two; there is no training, so quick mode and full mode print the same.
#
# ## The equations
#
# With $x_t$ the input, $h_{t-1}$ the previous state, $\sigma$ the logistic sigmoid and $\odot$ the
# elementwise product, in the names of `minigrad/nn/rnn.py` (PyTorch's):
#
# $$
# \begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) &&\text{reset gate}\\
# z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) &&\text{update gate}\\
# n_t &= \tanh\bigl(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\bigr)
#     &&\text{candidate, reset\_after=True}\\
# n_t &= \tanh\bigl(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}\bigr)
#     &&\text{candidate, reset\_after=False}\\
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
# \end{aligned}
# $$
#
# The two candidate lines are the two forms. `reset_after=False` is the one in Cho et al.'s
# paper and most textbooks: reset $h_{t-1}$, *then* multiply by $W_{hn}$. `reset_after=True`
# is PyTorch's and cuDNN's (and minigrad's default): multiply first, reset after, so the three
# hidden-side products $W_{hr} h$, $W_{hz} h$, $W_{hn} h$ become one matrix product. Same
# parameters,
# slightly different function.
#
# The module stacks the three blocks in the order $(r, z, n)$:
# $W_{ih} = [W_{ir}; W_{iz}; W_{in}]$ of shape $(3H, \text{input\_size})$,
# $W_{hh} = [W_{hr}; W_{hz}; W_{hn}]$ $(3H, H)$, $b_{ih}$ and $b_{hh}$ $(3H,)$.

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
banner("09 GRU by the numbers")
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The numbers
#
# `input_size = 2` and $H = 1$, so every gate is one number. Each row of $W_{ih}$ and $W_{hh}$
# belongs to one gate.

# %%
x_t = np.array([0.5, -1.0])  # (input_size,)
h_prev = np.array([0.4])  # h_{t-1}, (H,)

W_ih = np.array([[0.6, -0.2],  # W_ir  (reset gate)
                 [-0.3, 0.5],  # W_iz  (update gate)
                 [0.8, 0.4]])  # W_in  (candidate)
W_hh = np.array([[0.5], [1.0], [-0.7]])  # W_hr, W_hz, W_hn
b_ih = np.array([0.1, 0.2, -0.1])  # b_ir, b_iz, b_in
b_hh = np.array([0.0, 0.3, 0.2])  # b_hr, b_hz, b_hn


def sigma(a):
    return 1 / (1 + np.exp(-a))


# %% [markdown]
# **Step 1, the input side and the hidden side.** Unlike the LSTM, the GRU cannot add the two
# products before splitting them by gate: the candidate treats its hidden part differently.
#
# Input side, $W_{ih} x_t + b_{ih}$: $r$: $0.6 \cdot 0.5 - 0.2 \cdot (-1) + 0.1 = 0.6$;
# $z$: $-0.15 - 0.5 + 0.2 = -0.45$; $n$: $0.4 - 0.4 - 0.1 = -0.1$.
# Hidden side, $W_{hh} h_{t-1} + b_{hh}$: $r$: $0.5 \cdot 0.4 + 0 = 0.2$;
# $z$: $0.4 + 0.3 = 0.7$; $n$: $-0.7 \cdot 0.4 + 0.2 = -0.08$.

# %%
xa = W_ih @ x_t + b_ih  # input side, one entry per gate
ha = W_hh @ h_prev + b_hh  # hidden side
print("input side  (r, z, n):", xa)
print("hidden side (r, z, n):", ha)
assert np.allclose(xa, [0.6, -0.45, -0.1]) and np.allclose(ha, [0.2, 0.7, -0.08])

# %% [markdown]
# **Step 2, the two gates.** $r_t = \sigma(0.6 + 0.2) = \sigma(0.8) = 0.6900$ and
# $z_t = \sigma(-0.45 + 0.7) = \sigma(0.25) = 0.5622$.

# %%
r_t, z_t = sigma(xa[0] + ha[0]), sigma(xa[1] + ha[1])
print(f"r_t = {r_t:.4f}   z_t = {z_t:.4f}")
assert np.allclose([r_t, z_t], [0.6900, 0.5622], atol=5e-5)

# %% [markdown]
# **Step 3, the candidate, both forms.**
#
# * `reset_after=True`: $n_t = \tanh(-0.1 + 0.6900 \cdot (-0.08)) = \tanh(-0.1552) = -0.1540$.
# * `reset_after=False`:
#   $n_t = \tanh(-0.1 + (-0.7) \cdot (0.6900 \cdot 0.4) + 0.2) = \tanh(-0.0932) = -0.0929$.
#
# They differ because $b_{hn} = 0.2$ is inside the reset in the first form and outside in the
# second. (With $H > 1$ they differ even without biases: $W_{hn} (r \odot h)$ mixes the reset
# units before the matrix, $r \odot (W_{hn} h)$ after it.)

# %%
n_after = np.tanh(xa[2] + r_t * ha[2])
n_before = np.tanh(xa[2] + W_hh[2] @ (r_t * h_prev) + b_hh[2])
print(f"n_t: reset_after=True {n_after:.4f}   reset_after=False {n_before:.4f}")
assert np.allclose([n_after, n_before], [-0.1540, -0.0929], atol=5e-5)

# %% [markdown]
# **Step 4, the new state**, a blend of the candidate and the old state, weighted by $z_t$:
#
# * `reset_after=True`:
#   $h_t = (1 - 0.5622) \cdot (-0.1540) + 0.5622 \cdot 0.4 = -0.0674 + 0.2249 = 0.1575$;
# * `reset_after=False`: $h_t = 0.4378 \cdot (-0.0929) + 0.2249 = -0.0407 + 0.2249 = 0.1842$.

# %%
h_after = (1 - z_t) * n_after + z_t * h_prev
h_before = (1 - z_t) * n_before + z_t * h_prev
print(f"h_t: reset_after=True {h_after[0]:.4f}   reset_after=False {h_before[0]:.4f}")
assert np.allclose([h_after[0], h_before[0]], [0.1575, 0.1842], atol=5e-5)

# %% [markdown]
# ## Checked against `mg.nn.GRUCell`
#
# The same four tensors, loaded into a cell of each form (`reset_after` is the flag), in
# float64 so the comparison can be tight.

# %%
def gru_cell_with(W_ih, W_hh, b_ih, b_hh, reset_after):
    H, n_in = W_hh.shape[1], W_ih.shape[1]
    cell = nn.GRUCell(n_in, H, reset_after=reset_after, dtype=mg.float64)
    cell.load_state_dict({"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih,
                          "bias_hh": b_hh})
    return cell


F64 = mg.float64
x, h0 = mg.tensor([x_t], dtype=F64), mg.tensor([h_prev], dtype=F64)  # a batch of one
for reset_after, by_hand in ((True, h_after), (False, h_before)):
    cell = gru_cell_with(W_ih, W_hh, b_ih, b_hh, reset_after)
    h1 = cell(x, h0).item()
    print(f"GRUCell(reset_after={reset_after}): h_t = {h1:.10f}   by hand {by_hand[0]:.10f}")
    assert abs(h1 - by_hand[0]) < 1e-12

# %% [markdown]
# And bigger, with random weights (`input_size = 5`, $H = 4$, a batch of 3), so that a
# transposed matrix or a gate taken from the wrong block could not hide: the equations in
# NumPy, batched, against both forms of the cell.

# %%
def gru_step_numpy(x, h, W_ih, W_hh, b_ih, b_hh, reset_after=True):
    """The GRU equations above; x (B, in), h (B, H); blocks in the order (r, z, n)."""
    xr, xz, xn = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    Wr, Wz, Wn = np.split(W_hh, 3)
    br, bz, bn = np.split(b_hh, 3)
    r = sigma(xr + h @ Wr.T + br)
    z = sigma(xz + h @ Wz.T + bz)
    if reset_after:
        n = np.tanh(xn + r * (h @ Wn.T + bn))
    else:
        n = np.tanh(xn + (r * h) @ Wn.T + bn)
    return (1 - z) * n + z * h


mg.manual_seed(9)
rng = np.random.default_rng(9)
xb, hb = rng.normal(size=(3, 5)), rng.normal(size=(3, 4))
worst = 0.0
for reset_after in (True, False):
    big = nn.GRUCell(5, 4, reset_after=reset_after, dtype=mg.float64)
    p = {k: v.numpy() for k, v in big.state_dict().items()}
    with mg.no_grad():
        got = big(mg.tensor(xb, dtype=F64), mg.tensor(hb, dtype=F64)).numpy()
    err = np.abs(got - gru_step_numpy(xb, hb, *p.values(), reset_after=reset_after)).max()
    worst = max(worst, err)
    print(f"reset_after={reset_after}: largest difference NumPy vs GRUCell {err:.1e}")
assert worst < 1e-12
assert list(p) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]  # the order *p relies on

# %% [markdown]
# ## What each gate does
#
# Push a gate to its limit and watch. The **update gate** $z_t$ decides how much of the old
# state survives: at $z_t = 1$ the step copies $h_{t-1}$ unchanged, whatever the input; at
# $z_t = 0$ it replaces it by the candidate. That copy path is the GRU's long memory: along it
# $\partial h_t/\partial h_{t-1} \approx z_t \approx 1$, no squashing and no weight matrix, so
# gradients survive many steps
# (tutorial 3 measures it).
#
# The **reset gate** $r_t$ decides how much of the old state the *candidate* may read. At
# $r_t = 0$ the candidate is computed from the input alone, as if the sequence started here:
# a clean break, for instance at the start of a new sentence.
#
# To pin a gate, we set its hidden-side bias to $\pm 20$ ($\sigma(20) = 1 - 2 \times 10^{-9}$).

# %%
rng = np.random.default_rng(0)
base = nn.GRUCell(3, 4, dtype=mg.float64)
p = {k: v.numpy().copy() for k, v in base.state_dict().items()}
H = 4
seq = rng.normal(size=(30, 1, 3))
h_start = rng.normal(size=(1, 4))


def run(cell, h, xs):
    with mg.no_grad():
        h = mg.tensor(h, dtype=F64)
        for x in xs:
            h = cell(mg.tensor(x, dtype=F64), h)
    return h.numpy()


keep = {**p, "bias_hh": p["bias_hh"].copy()}
keep["bias_hh"][H:2 * H] = 20.0  # z = 1: keep the old state
keep_cell = gru_cell_with(*keep.values(), reset_after=True)
drift = np.abs(run(keep_cell, h_start, seq) - h_start).max()
print(f"z_t = 1: after 30 steps of random input the state moved by {drift:.1e}")
assert drift < 1e-6

fresh = {**p, "bias_hh": p["bias_hh"].copy()}
fresh["bias_hh"][:H] = -20.0  # r = 0: the candidate ignores h_{t-1}
fresh["bias_hh"][H:2 * H] = -20.0  # z = 0: and the step takes the candidate
fresh_cell = gru_cell_with(*fresh.values(), reset_after=True)
x_one = seq[:1]
a, b = run(fresh_cell, h_start, x_one), run(fresh_cell, -3 * h_start, x_one)
print(f"r_t = 0, z_t = 0: two different h_(t-1), same input -> h_t differ by "
      f"{np.abs(a - b).max():.1e}")
assert np.abs(a - b).max() < 1e-6

# %% [markdown]
# > **Where the sources go wrong: which way round $z$ works**
# >
# > *递归神经网络的记忆机制* (section 3.3) writes the GRU's last line as
# > $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$: there $z_t = 1$ means *take the
# > candidate*. PyTorch, cuDNN, Keras and minigrad write
# > $h_t = (1 - z_t) \odot \tilde h_t + z_t \odot h_{t-1}$: $z_t = 1$ means
# > *keep the old state*, as in the GRU's original paper (Cho et al. 2014); the article's
# > form is the one of Chung et al. (2014) and of many textbooks. The article's other lines
# > are the textbook candidate (reset before $W$, so `reset_after=False`, with one bias per
# > gate).
# >
# > Neither is wrong on its own: they are **the same model with $z$ relabelled**. Since
# > $\sigma(-a) = 1 - \sigma(a)$, the article's gate is $z'_t = 1 - z_t$, which a network
# > produces by negating the z-gate's weights and biases. What *is* wrong is mixing the two:
# > loading
# > weights trained in one convention into code written in the other turns every "keep" into
# > "overwrite". The checks below show both.

# %% [markdown]
# First, the article's equations as written, in its own names (one $W_{x\cdot}$, $W_{h\cdot}$,
# $b_\cdot$ per gate):

# %%
def gru_step_article(x, h, W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h):
    """递归神经网络的记忆机制, section 3.3, as printed: z = 1 takes the candidate."""
    z = sigma(x @ W_xz.T + h @ W_hz.T + b_z)
    r = sigma(x @ W_xr.T + h @ W_hr.T + b_r)
    h_tilde = np.tanh(x @ W_xh.T + (r * h) @ W_hh.T + b_h)
    return (1 - z) * h + z * h_tilde


def article_params_from(state, negate_z=True):
    """A GRUCell's (reset_after=False) state_dict in the article's names. With negate_z, the
    z block's weights and biases change sign: z' = sigma(-a_z) = 1 - z."""
    Wi, Wh, bi, bh = (np.split(state[k], 3) for k in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh"))
    s = -1.0 if negate_z else 1.0
    return dict(W_xz=s * Wi[1], W_hz=s * Wh[1], b_z=s * (bi[1] + bh[1]),
                W_xr=Wi[0], W_hr=Wh[0], b_r=bi[0] + bh[0],
                W_xh=Wi[2], W_hh=Wh[2], b_h=bi[2] + bh[2])


textbook = nn.GRUCell(3, 4, reset_after=False, dtype=mg.float64)
state = {k: v.numpy() for k, v in textbook.state_dict().items()}


def run_article(params, h, xs):
    for x in xs:
        h = gru_step_article(x, h, **params)
    return h


ours = run(textbook, h_start, seq)
relabelled = run_article(article_params_from(state, negate_z=True), h_start, seq)
mixed = run_article(article_params_from(state, negate_z=False), h_start, seq)
err_relabel = np.abs(ours - relabelled).max()
err_mixed = np.abs(ours - mixed).max()
print(f"30 steps, GRUCell(reset_after=False) vs the article's equations:\n"
      f"  z weights negated (same model):    largest difference {err_relabel:.1e}\n"
      f"  weights copied as they are (mixed): largest difference {err_mixed:.2f}")
assert err_relabel < 1e-12 and err_mixed > 0.1

# %% [markdown]
# Second, what mixing does to a memory. A cell whose $z$ bias is +6 ($z_t \approx 0.9975$) was
# built to *hold* its state: in our convention it keeps 99.75% of $h_{t-1}$ per step. Read by
# code in the article's convention, the very same weights take 99.75% of the candidate
# instead, and the stored state is gone after one step. We measure the drift
# $\lVert h_t - h_0 \rVert / \lVert h_0 \rVert$ over 20 steps
# without input, where only memory is left.

# %%
holder = {k: v.copy() for k, v in state.items()}
holder["bias_ih"][H:2 * H] = 0.0
holder["bias_hh"][H:2 * H] = 6.0
holder_cell = gru_cell_with(*holder.values(), reset_after=False)
mixed_params = article_params_from(holder, negate_z=False)
quiet = np.zeros((20, 1, 3))
h_ours, h_mixed = h_start.copy(), h_start.copy()
drift_ours, drift_mixed = [0.0], [0.0]
for x in quiet:
    h_ours = run(holder_cell, h_ours, [x])
    h_mixed = gru_step_article(x, h_mixed, **mixed_params)
    drift_ours.append(float(np.linalg.norm(h_ours - h_start) / np.linalg.norm(h_start)))
    drift_mixed.append(float(np.linalg.norm(h_mixed - h_start) / np.linalg.norm(h_start)))
print(f"relative drift of the stored state after 1 and 20 quiet steps: our convention "
      f"{drift_ours[1]:.3f}, {drift_ours[-1]:.3f}; the same weights in the article's convention "
      f"{drift_mixed[1]:.3f}, {drift_mixed[-1]:.3f}")
assert drift_ours[-1] < 0.25 and drift_mixed[1] > 0.5

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
labels = ["r_t", "z_t", "n_t (after)", "n_t (before)", "h_t (after)", "h_t (before)"]
vals = [r_t, z_t, n_after, n_before, h_after[0], h_before[0]]
ax1.bar(labels, vals, color=["#99bbdd", "#dd9999", "#99cc99", "#bbddbb", "#333333", "#888888"])
ax1.axhline(0, color="k", lw=0.5)
ax1.axhline(h_prev[0], color="k", ls=":", lw=1, label="h_(t-1)")
ax1.set_title("the worked step, both forms")
ax1.tick_params(axis="x", labelsize=8)
ax1.legend()
ax2.plot(drift_ours, "o-", label="h_t = (1 - z) n + z h  (PyTorch, minigrad)")
ax2.plot(drift_mixed, "s-", label="same weights, h_t = (1 - z) h + z n")
ax2.set_xlabel("steps without input")
ax2.set_ylabel("‖h_t - h_0‖ / ‖h_0‖")
ax2.set_title("a memory cell, read in the wrong convention")
ax2.legend(fontsize=8)
savefig(fig, "09_gru_step.png")

# %% [markdown]
# ## What you have seen
#
# * A GRU step is two gates and a candidate: $r_t$ decides what the candidate may read of the
#   past, $z_t$ how much of the past survives.
# * `reset_after` picks between the two published forms; they share parameters but not
#   outputs, so weights must be used in the form they were trained in (PyTorch's and
#   minigrad's default is True).
# * $h_t = (1 - z) \odot n + z \odot h$ and $h_t = (1 - z) \odot h + z \odot n$ are one model
#   up to the sign of the $z$ block. When porting code or weights from an article, check which
#   one it uses.

# %%
print(f"RESULT: hand-computed h_t = {h_after[0]:.4f} (reset_after=True) and "
      f"{h_before[0]:.4f} (reset_after=False) match GRUCell to 1e-12; the article's z "
      f"convention equals ours with z negated ({err_relabel:.0e}), mixing them differs by "
      f"{err_mixed:.2f}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **When the two forms agree.** Show that with $H = 1$ and $b_{hn} = 0$ the forms
#    `reset_after=True` and `False` give the same $h_t$ for any input, and find a two-unit
#    example with all biases zero where they differ. Why does $H$ matter?
#    Solution: tutorials/solutions/09_gru_by_the_numbers_ex1.py
# 2. **Port the article's GRU.** You are given a GRU in the article's convention and names
#    ($W_{xz}$, $W_{hz}$, $b_z$, ...). Build the `GRUCell` state_dict that computes the same
#    function and check it over a sequence of 10 steps.
#    Solution: tutorials/solutions/09_gru_by_the_numbers_ex2.py
# 3. **$z$ as a memory knob.** For a GRU with the $z$ biases set to -3, 0 and +3, measure
#    $\lVert \partial h_T/\partial h_0 \rVert$ over $T = 50$ steps with autograd. Predict the
#    order before you run it.
#    Solution: tutorials/solutions/09_gru_by_the_numbers_ex3.py
