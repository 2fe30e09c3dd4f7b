# %% [markdown]
# # 9. 一步 GRU，逐个数字算一遍
#
# 门控循环单元（GRU，Cho 等，2014）保留了 LSTM 的思想——由门决定保留什么、写入什么——但只有一个
# 状态而不是两个，权重只有三块而不是四块。教程 5 训练过一个 GRU。这一篇用手把一个输入推过 GRU
# 的一步，两种已发表的形式都算，把每个数字和 `mg.nn.GRUCell` 对照，看清每个门的作用，并弄清一个
# 文章和各个库说法不一的问题：更新门到底是朝哪个方向起作用的。
#
# 一两秒就能跑完；这里没有训练，所以快速模式和完整模式打印的内容相同。
#
# ## 公式
#
# 记 $x_t$ 为输入，$h_{t-1}$ 为上一步的状态，$\sigma$ 为 logistic sigmoid，$\odot$ 为逐元素相乘，
# 名字与 `minigrad/nn/rnn.py`（也就是 PyTorch）相同：
#
# $$
# \begin{aligned}
# r_t &= \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) &&\text{重置门}\\
# z_t &= \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) &&\text{更新门}\\
# n_t &= \tanh\bigl(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\bigr)
#     &&\text{候选，reset\_after=True}\\
# n_t &= \tanh\bigl(W_{in} x_t + b_{in} + W_{hn} (r_t \odot h_{t-1}) + b_{hn}\bigr)
#     &&\text{候选，reset\_after=False}\\
# h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1}
# \end{aligned}
# $$
#
# 两行候选公式就是两种形式。`reset_after=False` 是 Cho 等人论文和大多数教科书里的写法：先重置
# $h_{t-1}$，*再*乘 $W_{hn}$。`reset_after=True` 是 PyTorch 和 cuDNN 的写法（也是 minigrad 的
# 默认）：先相乘，后重置，这样隐藏一侧的三个乘积 $W_{hr} h$、$W_{hz} h$、$W_{hn} h$ 可以合成一次
# 矩阵乘法。参数相同，函数略有不同。
#
# 模块把三块按 (r, z, n) 的顺序叠起来：$W_{ih} = [W_{ir}; W_{iz}; W_{in}]$，形状
# (3H, input_size)；$W_{hh} = [W_{hr}; W_{hz}; W_{hn}]$，形状 (3H, H)；$b_{ih}$ 和 $b_{hh}$
# 的形状为 (3H,)。

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
# ## 具体的数字
#
# input_size = 2，H = 1，于是每个门都只是一个数。$W_{ih}$ 和 $W_{hh}$ 的每一行属于一个门。

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
# **第 1 步，输入一侧与隐藏一侧。** 与 LSTM 不同，GRU 不能先把两个乘积相加再按门切开：候选对它的
# 隐藏部分处理方式不一样。
#
# 输入一侧 $W_{ih} x_t + b_{ih}$：r：$0.6 \cdot 0.5 - 0.2 \cdot (-1) + 0.1 = 0.6$；
# z：$-0.15 - 0.5 + 0.2 = -0.45$；n：$0.4 - 0.4 - 0.1 = -0.1$。
# 隐藏一侧 $W_{hh} h_{t-1} + b_{hh}$：r：$0.5 \cdot 0.4 + 0 = 0.2$；z：$0.4 + 0.3 = 0.7$；
# n：$-0.7 \cdot 0.4 + 0.2 = -0.08$。

# %%
xa = W_ih @ x_t + b_ih  # input side, one entry per gate
ha = W_hh @ h_prev + b_hh  # hidden side
print("input side  (r, z, n):", xa)
print("hidden side (r, z, n):", ha)
assert np.allclose(xa, [0.6, -0.45, -0.1]) and np.allclose(ha, [0.2, 0.7, -0.08])

# %% [markdown]
# **第 2 步，两个门。** $r_t = \sigma(0.6 + 0.2) = \sigma(0.8) = 0.6900$，
# $z_t = \sigma(-0.45 + 0.7) = \sigma(0.25) = 0.5622$。

# %%
r_t, z_t = sigma(xa[0] + ha[0]), sigma(xa[1] + ha[1])
print(f"r_t = {r_t:.4f}   z_t = {z_t:.4f}")
assert np.allclose([r_t, z_t], [0.6900, 0.5622], atol=5e-5)

# %% [markdown]
# **第 3 步，候选，两种形式。**
#
# * reset_after=True：$n_t = \tanh(-0.1 + 0.6900 \cdot (-0.08)) = \tanh(-0.1552) = -0.1540$。
# * reset_after=False：$n_t = \tanh(-0.1 + (-0.7) \cdot (0.6900 \cdot 0.4) + 0.2) =
#   \tanh(-0.0932) = -0.0929$。
#
# 两者不同，是因为 $b_{hn} = 0.2$ 在第一种形式里位于重置之内，在第二种形式里位于重置之外。
# （H > 1 时即使没有偏置两者也不同：$W_{hn} (r \odot h)$ 在矩阵之前就把各单元分别重置了，
# $r \odot (W_{hn} h)$ 则是在矩阵之后。）

# %%
n_after = np.tanh(xa[2] + r_t * ha[2])
n_before = np.tanh(xa[2] + W_hh[2] @ (r_t * h_prev) + b_hh[2])
print(f"n_t: reset_after=True {n_after:.4f}   reset_after=False {n_before:.4f}")
assert np.allclose([n_after, n_before], [-0.1540, -0.0929], atol=5e-5)

# %% [markdown]
# **第 4 步，新状态**：候选与旧状态的混合，权重为 $z_t$：
#
# * reset_after=True：$h_t = (1 - 0.5622) \cdot (-0.1540) + 0.5622 \cdot 0.4 = -0.0674 + 0.2249
#   = 0.1575$；
# * reset_after=False：$h_t = 0.4378 \cdot (-0.0929) + 0.2249 = -0.0407 + 0.2249 = 0.1842$。

# %%
h_after = (1 - z_t) * n_after + z_t * h_prev
h_before = (1 - z_t) * n_before + z_t * h_prev
print(f"h_t: reset_after=True {h_after[0]:.4f}   reset_after=False {h_before[0]:.4f}")
assert np.allclose([h_after[0], h_before[0]], [0.1575, 0.1842], atol=5e-5)

# %% [markdown]
# ## 与 `mg.nn.GRUCell` 对照
#
# 把同样的四个张量装进两种形式的单元（`reset_after` 就是这个开关），用 float64，这样比较可以很严格。

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
# 再来一个更大的、随机权重的例子（input_size = 5，H = 4，批大小 3），这样转置错了的矩阵、取错了块的
# 门都藏不住：用 NumPy 写的批量公式，和两种形式的单元分别对照。

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
# ## 每个门的作用
#
# 把一个门推到极限，看看会发生什么。**更新门** $z_t$ 决定旧状态留下多少：$z_t = 1$ 时，不管输入
# 是什么，这一步都原样复制 $h_{t-1}$；$z_t = 0$ 时，用候选替换它。这条复制通路就是 GRU 的长期记忆：
# 沿着它 $\partial h_t / \partial h_{t-1} \approx z_t \approx 1$，既没有压缩函数也没有权重矩阵，
# 所以梯度能穿过很多步（教程 3 测量了这一点）。
#
# **重置门** $r_t$ 决定*候选*可以读到多少旧状态。$r_t = 0$ 时，候选只由输入算出，就好像序列从这里
# 才开始：一个干净的断点，比如一个新句子的开头。
#
# 为了钉住一个门，我们把它隐藏一侧的偏置设为 $\pm 20$（$\sigma(20) = 1 - 2 \times 10^{-9}$）。

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
# > **中文资料在哪里出了错：$z$ 的方向**
# >
# > 《递归神经网络的记忆机制》（3.3 节）把 GRU 的最后一行写成
# > $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde h_t$：那里 $z_t = 1$ 表示*采用候选*。
# > PyTorch、cuDNN、Keras 和 minigrad 写的是 $h_t = (1 - z_t) \odot \tilde h_t + z_t \odot h_{t-1}$：
# > $z_t = 1$ 表示*保留旧状态*，与 GRU 的原始论文（Cho 等，2014）一致；那篇文章的写法来自
# > Chung 等（2014）和许多教科书。文章的其他几行是教科书里的候选（先重置再乘 $W$，即
# > reset_after=False，每个门一个偏置）。
# >
# > 两种写法单独看都没有错：它们是**同一个模型，只是 $z$ 换了个标记**。因为
# > $\sigma(-a) = 1 - \sigma(a)$，文章里的门是 $z'_t = 1 - z_t$，网络只要把 z 门的权重和偏置取负
# > 就能得到它。*真正*错的是把两者混用：把按一种约定训练出的权重装进按另一种约定写的代码，
# > 每一个“保留”都会变成“覆盖”。下面的检查把两种情况都演示出来。

# %% [markdown]
# 先按文章原样写出它的公式，用它自己的名字（每个门一组 $W_{x\cdot}$、$W_{h\cdot}$、$b_\cdot$）：

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
# 再看混用会对记忆造成什么。一个 z 偏置为 +6 的单元（$z_t \approx 0.9975$）本来是为了*保持*状态
# 而设计的：按我们的约定，它每一步保留 99.75% 的 $h_{t-1}$。如果用文章约定的代码去读，同样的
# 权重反而每一步取 99.75% 的候选，存下的状态一步之后就没了。我们在 20 个没有输入的步里测量漂移
# $\lVert h_t - h_0 \rVert / \lVert h_0 \rVert$，这时只剩下记忆在起作用。

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
# ## 你看到了什么
#
# * GRU 的一步就是两个门加一个候选：$r_t$ 决定候选能读到多少过去，$z_t$ 决定过去留下多少。
# * `reset_after` 在两种已发表的形式之间选择；它们参数相同而输出不同，所以权重必须用在训练它们的
#   那种形式里（PyTorch 和 minigrad 的默认是 True）。
# * $h_t = (1 - z) \odot n + z \odot h$ 和 $h_t = (1 - z) \odot h + z \odot n$ 是同一个模型，只差
#   z 块的符号。从文章移植代码或权重时，先看清它用的是哪一种。

# %%
print(f"RESULT: hand-computed h_t = {h_after[0]:.4f} (reset_after=True) and "
      f"{h_before[0]:.4f} (reset_after=False) match GRUCell to 1e-12; the article's z "
      f"convention equals ours with z negated ({err_relabel:.0e}), mixing them differs by "
      f"{err_mixed:.2f}")


# %% [markdown]
# ## 练习
#
# 先自己做，再看解答：每道题的解答是 `tutorials/solutions/` 里的一个脚本，几秒钟跑完（`--quick`
# 是简短版），最后会检查它要说明的结论。
#
# 1. **两种形式何时相同。** 证明 H = 1 且 $b_{hn} = 0$ 时，reset_after=True 和 False 对任何输入都
#    给出相同的 $h_t$；再找一个所有偏置都为零、但两者不同的两单元例子。为什么 H 有关系？
#    解答：tutorials/solutions/09_gru_by_the_numbers_ex1.py
# 2. **移植文章里的 GRU。** 给定一个按文章约定和名字（$W_{xz}$、$W_{hz}$、$b_z$……）写的 GRU，
#    构造计算同一个函数的 `GRUCell` 的 state_dict，并在一个 10 步的序列上检查。
#    解答：tutorials/solutions/09_gru_by_the_numbers_ex2.py
# 3. **z 是记忆的旋钮。** 对 z 偏置分别为 -3、0、+3 的 GRU，用自动微分测量 T = 50 步上的
#    $\lVert \partial h_T / \partial h_0 \rVert$。运行之前先预测它们的大小顺序。
#    解答：tutorials/solutions/09_gru_by_the_numbers_ex3.py
