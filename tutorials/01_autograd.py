# %% [markdown]
# # 1. Autograd from the ground up
#
# Every model in these tutorials is trained the same way: compute a loss, call
# `loss.backward()`, and read the gradient of the loss with respect to every parameter from
# its `.grad`. This first tutorial opens that box. You will
#
# 1. make tensors and watch minigrad record a **graph** of the operations applied to them;
# 2. call `backward` and check the result against a derivative worked out by hand;
# 3. see what **broadcasting** does to gradients;
# 4. write your **own differentiable operation** (a `Function`) and check it with
#    `gradcheck`;
# 5. draw a small computation graph with `mg.viz`.
#
# Runs in a few seconds. Run it as a script (`python tutorials/01_autograd.py`) or open it as
# a notebook (Jupyter with jupytext, or VS Code: each `# %%` is a cell).

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils import viz
from minigrad.utils.tutorial import banner, draw_graph, plt, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("01 autograd")
mg.manual_seed(0)

# %% [markdown]
# ## Tensors and the graph
#
# A tensor is an n-dimensional array (NumPy's, or CuPy's on a GPU) plus one flag,
# `requires_grad`. Operations on a tensor that requires grad are *recorded*: the result
# remembers which operation made it (`grad_fn`) and where its inputs came from.
#
# We compute a tiny regression loss, with $x$ the inputs, $w$ the weights, $b$ the bias and
# $y$ the targets:
#
# $$\hat y_n = \sum_k x_{nk} w_k + b, \qquad L = \sum_n (\hat y_n - y_n)^2 .$$

# %%
x = mg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # (N=3, K=2): no gradient needed
y = mg.tensor([1.0, 2.0, 4.0])  # (N,)
w = mg.tensor([0.5, -0.25], requires_grad=True)  # (K,)
b = mg.tensor(0.1, requires_grad=True)  # a scalar, ()

y_hat = x @ w + b  # (N,)
L = ((y_hat - y) ** 2).sum()
print("y_hat =", y_hat)
print("L =", L)

# %% [markdown]
# `L` is not just a number: `L.grad_fn` is the operation that made it (a `Sum`), and each
# operation keeps an edge to what produced each of its inputs, down to the **leaves**: the
# tensors we created ourselves (`x`, `y`, `w`, `b`), which have no `grad_fn`. `backward`
# walks those edges from `L` to the leaves. For the tensors we named, `grad_fn` and
# `is_leaf` show where they sit in the graph:

# %%
for name, t in [("x", x), ("w", w), ("b", b), ("y_hat", y_hat), ("L", L)]:
    made_by = type(t.grad_fn).__name__ if t.grad_fn is not None else "-"
    print(f"{name:6s} is_leaf={t.is_leaf!s:5s}  requires_grad={t.requires_grad!s:5s}  "
          f"grad_fn={made_by}")

# %% [markdown]
# The operations in between (the matrix product, the subtraction, the square) made tensors
# we never named. To see all of them, follow the edges: `mg.viz.to_dot(L)` walks the whole
# graph from `L` (with an explicit stack, so a 10,000-step recurrence is fine too) and
# writes one line per node and per edge, `a -> b` meaning "a feeds b". (PyTorch exposes the
# edges themselves as `grad_fn.next_functions`; minigrad keeps them private and lets
# `mg.viz` do the walking.) The section at the end draws such a graph.

# %%
print(viz.to_dot(L, params={"w": w, "b": b}))

# %% [markdown]
# ## `backward`
#
# `L.backward()` sends $dL/dL = 1$ back through the graph, each op applying the chain rule
# to pass the gradient on to its inputs, and adds the result into the `.grad` of every leaf
# that requires grad.
#
# By hand: with the residual $r_n = \hat y_n - y_n$,
#
# $$\frac{\partial L}{\partial w_k} = \sum_n 2\, r_n\, x_{nk}, \qquad
#   \frac{\partial L}{\partial b} = \sum_n 2\, r_n .$$

# %%
L.backward()
# the residual r_n, in plain NumPy (.detach(): a tensor that requires grad must leave the graph
# before it becomes a NumPy array, as in PyTorch)
r = (x.numpy() @ w.detach().numpy() + b.item()) - y.numpy()
print("autograd dL/dw:", w.grad.numpy(), "  by hand:", 2 * r @ x.numpy())
print(f"autograd dL/db: {b.grad.item():.4f}   by hand: {2 * r.sum():.4f}")
assert np.allclose(w.grad.numpy(), 2 * r @ x.numpy())
assert np.isclose(b.grad.item(), 2 * r.sum())

# %% [markdown]
# Two habits follow from "adds the result into `.grad`":
#
# * gradients **accumulate**: call `backward` twice and `.grad` doubles. Training loops
#   therefore zero them before each step (`optimizer.zero_grad()`);
# * the graph is **freed** after `backward` to save memory; pass `retain_graph=True` if you
#   need to go through it again.
#
# Code that should not be recorded at all (evaluation, parameter updates) runs under
# `mg.no_grad()`.

# %%
loss = ((x @ w + b - y) ** 2).sum()
loss.backward()
print("after a second backward, w.grad =", w.grad.numpy(), "(twice the first)")
w.grad = None
b.grad = None
with mg.no_grad():
    print("under no_grad, requires_grad of the result:", (x @ w).requires_grad)

# %% [markdown]
# ## Broadcasting and its gradient
#
# Adding a bias $c$ of shape $(3,)$ to a batch $A$ of shape $(4, 3)$ *broadcasts*: the same
# $c_j$ is added to every row, $Z_{nj} = A_{nj} + c_j$. A value used in several places receives
# the sum of the gradients from all of them, so
#
# $$\frac{\partial L}{\partial c_j} = \sum_n \frac{\partial L}{\partial Z_{nj}} .$$
#
# minigrad (like PyTorch) does that sum for you: the gradient always has the shape of the
# tensor it belongs to.

# %%
A = mg.randn(4, 3, requires_grad=True)
c = mg.zeros(3, requires_grad=True)
Z = A + c  # (4, 3) + (3,) -> (4, 3)
G = mg.randn(4, 3)  # some upstream gradient dL/dZ
Z.backward(G)  # a non-scalar output needs its gradient passed in
print("c.grad shape:", c.grad.shape, " equals G summed over rows:",
      np.allclose(c.grad.numpy(), G.numpy().sum(0)))

# %% [markdown]
# ## Your own operation: a `Function`
#
# minigrad's built-in ops are written the same way you can write yours: a subclass of
# `mg.autograd.Function` with a static `forward(ctx, ...)` and `backward(ctx, grad)`, as in
# PyTorch. `ctx` is the graph node; `forward` stores on it what `backward` needs.
#
# Our example is **softplus**, a smooth ReLU, and its derivative, which happens to be the
# logistic sigmoid $\sigma$:
#
# $$s = \operatorname{softplus}(u) = \log(1 + e^{u}), \qquad
#   \frac{ds}{du} = \frac{e^{u}}{1 + e^{u}} = \sigma(u), \qquad
#   \frac{\partial L}{\partial u} = \frac{\partial L}{\partial s}\,\sigma(u).$$
#
# For large $u$, $e^u$ overflows, so forward uses the equal, stable form
# $\log(1 + e^u) = \max(u, 0) + \log(1 + e^{-|u|})$.

# %%
class Softplus(mg.autograd.Function):
    """s = log(1 + e^u), elementwise; ds/du = sigma(u)."""

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return u.relu() + (1 + (-u.abs()).exp()).log()  # = log(1 + e^u), without overflow

    @staticmethod
    def backward(ctx, grad_s):  # grad_s = dL/ds
        (u,) = ctx.saved_tensors
        return grad_s * u.sigmoid()  # dL/du = dL/ds * sigma(u)


u = mg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
s = Softplus.apply(u)
s.sum().backward()
print("softplus(u) =", s.detach().numpy(), "\nds/du        =", u.grad.numpy(),
      "\nsigma(u)     =", 1 / (1 + np.exp(-u.detach().numpy())))

# %% [markdown]
# ### Checking a backward with `gradcheck`
#
# A wrong backward does not crash: it trains badly, silently. `mg.autograd.gradcheck`
# compares backward with central finite differences,
# $(f(u + \varepsilon) - f(u - \varepsilon)) / 2\varepsilon$, element by element, in float64
# (float32 is too coarse for that). It returns True, or raises and names the worst element.

# %%
u64 = mg.randn(5, dtype=mg.float64, requires_grad=True) * 3
u64 = u64.detach().requires_grad_()
print("gradcheck(Softplus):", mg.autograd.gradcheck(Softplus.apply, (u64,)))


class BadSoftplus(Softplus):
    @staticmethod
    def backward(ctx, grad_s):  # a classic slip: the derivative of log(1+e^u) is NOT 1/(1+e^u)
        (u,) = ctx.saved_tensors
        return grad_s / (1 + u.exp())


try:
    mg.autograd.gradcheck(BadSoftplus.apply, (u64,))
except mg.autograd.GradcheckError as e:
    print("gradcheck caught the bad backward:\n ", str(e).splitlines()[0])

# %% [markdown]
# Seeing is believing: softplus and the derivative autograd computes for it, over a range
# of $u$, against $\sigma(u)$.

# %%
grid = mg.tensor(np.linspace(-6, 6, 121), requires_grad=True)
Softplus.apply(grid).sum().backward()  # d(sum_i s_i)/du_i = ds_i/du_i: all slopes at once
g = grid.detach().numpy()
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(g, Softplus.apply(grid.detach()).numpy(), label="softplus(u)")
ax.plot(g, grid.grad.numpy(), lw=3, alpha=0.5, label="ds/du by autograd")
ax.plot(g, 1 / (1 + np.exp(-g)), "k--", lw=1, label="σ(u)")
ax.set_xlabel("u")
ax.legend()
ax.set_title("A custom Function and its gradient")
savefig(fig, "01_softplus.png")

# %% [markdown]
# ## Drawing the graph: `mg.viz`
#
# `viz.to_dot` turns the graph behind a tensor into Graphviz's DOT text: ovals are ops named
# by class, boxes are tensors with their shapes; parameters (named via `params=`) are green,
# other leaves that require grad yellow, the output blue. Paste the text into any Graphviz
# viewer, or let `draw_graph` (in `minigrad.utils.tutorial`) make a PNG: it uses Graphviz's
# `dot` program when it is installed (`apt install graphviz`, `brew install graphviz` or
# `conda install graphviz`; the layout is nicer) and otherwise draws the same nodes and
# edges with matplotlib. (Draw before `backward`: it frees the graph.)
#
# Here: one neuron, $\hat y = \tanh(x W^T + b)$, and a squared-error loss.

# %%
neuron = nn.Linear(2, 1)
x1 = mg.tensor([[0.5, -1.0]])
loss = ((neuron(x1).tanh() - 1.0) ** 2).sum()
dot = viz.to_dot(loss, params=dict(neuron.named_parameters()), title="one neuron")
print(dot)
drawn = draw_graph(dot, "01_graph.png")
print("graph drawn to", drawn.name)

# %% [markdown]
# ## What you have seen
#
# * Every operation on a tensor that requires grad adds a node to a graph.
# * `backward` walks that graph from the loss to the leaves, applying the chain rule at each
#   node and summing where paths meet (which is also why broadcast gradients are sums).
# * A new operation is a `Function` with `forward` and `backward`; `gradcheck` tells you if
#   they agree.
#
# Next, tutorial 2 builds a recurrent network out of these same pieces and derives its
# backward pass, backpropagation through time, by hand.

# %%
print("RESULT: gradcheck passed for Softplus, and caught the wrong backward of BadSoftplus")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **Predict a broadcast gradient.** With $A$ of shape $(4, 3)$, $Z = A * c$ and an upstream
#    gradient $G = \partial L/\partial Z$, write down the shape and the formula of
#    $\partial L/\partial c$, in terms of $A$ and $G$, for $c$ of shape $(3,)$, $(4, 1)$ and
#    $()$ (a scalar). Then check your three formulas with
#    `backward`.
#    Solution: tutorials/solutions/01_autograd_ex1.py
# 2. **Derive and implement `LogSumExp`.** Softplus is $\log(e^0 + e^u)$. Generalise it to
#    $y = \log \sum_j e^{u_j}$ over the last axis of a $(B, K)$ tensor: derive
#    $\partial y/\partial u_j$, write the `Function` (with a forward that cannot overflow for
#    $u = 1000$), check it with `gradcheck`, and check that $\operatorname{logsumexp}([0, u])$
#    equals $\operatorname{softplus}(u)$.
#    Solution: tutorials/solutions/01_autograd_ex2.py
# 3. **How small should $\varepsilon$ be?** Predict how the error of the central difference
#    $(f(u + \varepsilon) - f(u - \varepsilon)) / 2\varepsilon$ changes as $\varepsilon$ goes
#    from 1e-1 down to 1e-13, in float64 and in
#    float32 (two sources of error compete; which wins at each end?). Measure it on softplus,
#    whose exact derivative you know, and explain why `gradcheck` refuses float32 inputs.
#    Solution: tutorials/solutions/01_autograd_ex3.py
