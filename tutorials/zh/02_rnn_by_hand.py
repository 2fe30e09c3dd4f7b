# %% [markdown]
# # 2. 手写一个 RNN 单元
#
# 循环神经网络一次读序列的一步，并把一个**隐藏状态** $h_t$ 从这一步带到下一步：它是到目前为止
# 看到的全部内容的一个摘要。这篇教程里你将会
#
# 1. 用三行张量运算写出 Elman RNN 单元；
# 2. 把它沿序列**展开**，并与 `mg.nn.RNNCell` 和 `mg.nn.RNN` 对照；
# 3. 训练它预测每年的太阳黑子数，训练两次：一次用自动微分的随时间反向传播（BPTT），一次用在
#    NumPy 里手推的 BPTT，看到两者给出相同的梯度、相同的训练过程。
#
# 数据：1700-2008 年的年平均太阳黑子数（SIDC 发布，随 statsmodels 分发；公有领域），
# `mg.data.load_sunspots(monthly=False)`。不到一分钟就能跑完。
#
# ## 模型
#
# 记 $x_t$ 为第 $t$ 步的输入 (B, 1)，$h_{t-1}$ 为上一步的隐藏状态 (B, H)，$W_{ih}$ (H, 1)、
# $W_{hh}$ (H, H)、$b_{ih}$、$b_{hh}$ (H,) 为单元的参数，$W_{hy}$ (1, H)、$b_y$ (1,) 为一个
# 线性输出层：
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
# 其中 $h_0 = 0$，目标 $y_t = x_{t+1}$，即下一年的值。
#
# 中文文章常写成列向量的形式 $h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)$：那里的
# $W_{xh}$ 就是这里的 $W_{ih}$（同一个矩阵，这里每行是一个样本，所以乘的是转置），那里的一个偏置
# $b_h$ 相当于这里的 $b_{ih} + b_{hh}$（PyTorch 的约定是两个偏置）。

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
# ## 数据：太阳黑子，每年一个值
#
# 我们只用训练年份的均值和标准差做标准化（测试年份必须保持没见过），在 1700-1955 年上训练，
# 把 1956-2008 年留作测试。256 个训练年份给出 255 个（输入，目标）对：除最后一年外每年都是输入，
# 除第一年外每年都是目标，所以连最后一个目标 1955 年也是训练年份。这些对被切成 B = 5 个长
# T = 51 年的窗口，作为一批并排处理：张量形状为 (T, B, 1)，时间在第一维。

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
# ## 三行写出单元，然后展开
#
# `rnn_step` 就是上面的前两个公式；`unroll` 把它调用 T 次，把每个 $h_t$ 喂给下一步。这个循环
# *就是*循环神经网络：自动微分在它运行时记录下每一步，所以展开后的 RNN 的计算图是单元的 T 个
# 副本连成的一条链，它们共享同一组权重。

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
# 在给定相同权重时，我们这三行算出的结果和库里的单元、层完全一样。`mg.nn.RNN` 有两种运行方式：
# `fused=False` 运行的正是这个单元循环（只是把 T 个输入乘积一次做完）；默认的融合（fused）路径
# 则把整个序列作为计算图里的*一个*节点，它的反向传播是一个手推的 BPTT——也就是你马上要写的那个，
# 只是用优化过的 NumPy 实现。两者都与我们的循环一致：

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
# > **中文资料在哪里出了错：tanh 不是反正切**
# >
# > 《递归神经网络》（讲简单 RNN 的一节）说函数 $f_w$ 通常是“反正切”函数，接着写的却是 tanh。
# > tanh 是**双曲正切**，$\tanh(a) = (e^a - e^{-a}) / (e^a + e^{-a})$：值域 $(-1, 1)$，导数
# > $1 - \tanh^2(a)$，也就是下面 BPTT 里的 $(1 - h_t^2)$。反正切 $\arctan(a)$ 的值域是
# > $(-\pi/2, \pi/2)$，导数是 $1/(1 + a^2)$：这是另一个函数，为其中一个手推的反向传播，对另一个
# > 是错的。检查：库里的单元算的是 tanh，不是 arctan。

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
# > **中文资料在哪里出了错：从零开始的 RNN 永远没用**
# >
# > 《AI大模型的基本原理-2.2 深度学习基础-2.2.3 循环神经网络》给出一个 NumPy RNN，它的权重和
# > 偏置全部从零开始。于是每一步 $a_t = 0$，$h_t = \tanh(0) = 0$，对*任何*输入，输出都是偏置
# > $b_y$：一个常数。更糟的是它会一直是常数。$h_t = 0$ 时，输出层的梯度
# > $\delta W_{hy} = \sum_t \delta\hat y_t^T h_t$ 为 0；$W_{hy} = 0$ 时，没有梯度能到达 $h_t$
# > （$\delta h_t = \delta\hat y_t W_{hy} + \dots = 0$），所以 $W_{ih}$、$W_{hh}$ 和隐藏层偏置
# > 永远不动；只有 $b_y$ 在学，学到的是目标的均值。权重必须从小的随机值开始（PyTorch 从
# > $U(-1/\sqrt{H}, 1/\sqrt{H})$ 中抽取，`make_params` 也是这样做的）。下面的检查在全零参数上
# > 运行我们的 BPTT。

# %% [markdown]
# 下面是自动微分为 T = 3 步记录下的计算图（用 `mg.viz` 画出，见教程 1）：同样的四个参数喂给
# 每一步，每一步的 $h_t$ 喂给下一步。

# %%
short = unroll(params, x[:3]).sum()
draw_graph(viz.to_dot(short, params=params, title="an RNN unrolled over 3 steps"),
           "02_unrolled.png")


# %% [markdown]
# ## 手推随时间反向传播
#
# 从损失往回走，记 $\delta v$ 为 $\partial L / \partial v$。先看输出层：
#
# $$\delta\hat y_t = \frac{2}{T B}(\hat y_t - y_t), \qquad
#   \delta W_{hy} = \sum_t \delta\hat y_t^T h_t, \qquad \delta b_y = \sum_{t,b} \delta\hat y_t .$$
#
# $h_t$ 被用了两次：第 $t$ 步的输出层用它，第 $t+1$ 步的单元也用它。它的梯度是两者之和，
# 这正是“随时间”的含义：
#
# $$\delta h_t = \delta\hat y_t W_{hy} + \delta a_{t+1} W_{hh}
#   \quad (\delta a_{T+1} = 0), \qquad \delta a_t = \delta h_t \odot (1 - h_t^2).$$
#
# 权重被所有时间步共享，所以它们的梯度对 $t$ 求和（$h_0 = 0$）：
#
# $$\delta W_{ih} = \sum_t \delta a_t^T x_t,\quad \delta W_{hh} = \sum_t \delta a_t^T h_{t-1},
#   \quad \delta b_{ih} = \delta b_{hh} = \sum_{t,b} \delta a_t .$$
#
# 下面用 NumPy 把前向和反向一起写出来（前向要保存每个 $h_t$，反向要用到它们：这就是 BPTT 的
# 内存代价）：

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
# 先看上面方框里从零初始化的 RNN：换一个输入，输出不变，而且只有 $b_y$ 得到梯度。

# %%
zeros = {k: np.zeros(v.shape) for k, v in params.items()}
L0, g0 = loss_and_grads_by_hand(zeros, x_np, y_np)
_, g0_other = loss_and_grads_by_hand(zeros, 3 * x_np + 1, y_np)
print("zero init: |gradient| per parameter:",
      {k: float(np.abs(v).max()) for k, v in g0.items()})
assert all(not np.abs(g0[k]).any() for k in zeros if k != "b_y") and np.abs(g0["b_y"]).any()
assert np.array_equal(g0["b_y"], g0_other["b_y"])  # the input makes no difference at all

# %% [markdown]
# ## 两种梯度并排比较
#
# 自动微分：用 `loss_fn` 建图，调用 `backward`，读 `.grad`。手推：用上面的函数，作用在同样
# 数字的副本上。

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
# ## 两种方式各训练一次
#
# 同样的起点，同样的优化器（带动量 $\mu$ 的 SGD：$v \leftarrow \mu v + \delta p$，
# $p \leftarrow p - \text{lr}\, v$，即 PyTorch 的规则）。一次用 `mg.optim.SGD` 和自动微分，
# 一次用 NumPy 梯度和手写的同样两行更新。如果梯度一致，两次训练就会一直重合。

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
# ## 它能预测吗？
#
# 让训练好的 RNN 读完整个序列（状态带着历史），读出它对 1956-2008 测试年份“提前一年”的预测。
# 要超过的基线是朴素预测“和去年一样”。误差以太阳黑子数为单位（已撤销标准化）。

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
# ## 你看到了什么
#
# * RNN 就是在循环里反复调用同一个单元；自动微分把展开后的循环记录成一张长长的计算图。
# * BPTT 不过是这张图上的链式法则：$\delta h_t$ 同时收集来自本步输出和下一步的梯度，
#   $\delta a_t = \delta h_t \odot (1 - h_t^2)$，共享的权重把梯度沿时间相加。自动微分做的正是
#   这些，我们一行都不用写。
# * 注意反向传播时*每一步*都要乘一次 $W_{hh}$ 和 $(1 - h_t^2)$：教程 3 展示把它们连乘一百次
#   会发生什么。

# %%
print(f"RESULT: autograd vs hand BPTT max gradient difference {worst:.1e}; after {steps} steps "
      f"train MSE {hist_auto[-1]:.4f} both ways; test RMSE {rmse_rnn:.1f} vs last-value "
      f"{rmse_naive:.1f}")


# %% [markdown]
# ## 练习
#
# 先自己做，再看解答：每道题的解答是 `tutorials/solutions/` 里的一个脚本，几秒钟跑完（`--quick`
# 是简短版），最后会检查它要说明的结论。
#
# 1. **序列到一个值的损失的 BPTT。** 只给最后一步打分，
#    $L = \frac{1}{B} \sum_b (\hat y_{T,b} - y_{T,b})^2$，就像分类器或一次性预测器那样。上面的
#    反向递推里哪些项消失了？为这个损失写出 `loss_and_grads_by_hand`，并在 float64 下把每个梯度
#    与自动微分对照到 1e-12。
#    解答：tutorials/solutions/02_rnn_by_hand_ex1.py
# 2. **线性 RNN，以及沿时间传播的梯度。** 去掉 tanh（$h_t = x_t W_{ih}^T + b + h_{t-1} W_{hh}^T$），
#    取 $L = \sum_b h_{T,b} v$，$v$ 为固定向量。推出 $\partial L / \partial h_t$ 的闭式解，再根据
#    $W_{hh}$ 的特征值预测：$t$ 离 $T$ 越远，$\lVert \partial L / \partial h_t \rVert$ 怎样变化。
#    用 `mg.autograd.grad` 检查两者，分别对默认的 $W_{hh}$ 和 $W_{hh} \times 4$。
#    解答：tutorials/solutions/02_rnn_by_hand_ex2.py
# 3. **手推截断 BPTT。** 教程 6 把长序列切成 $k$ 步的窗口，并在每个窗口开头截断梯度。
#    `loss_and_grads_by_hand` 的哪一行要改？改好之后，与每 $k$ 步做一次 `h = h.detach()` 的展开
#    RNN 上的自动微分对照；测量之前先预测：$k$ = 2、4、8、16、32 时，截断梯度的方向与完整梯度
#    相比如何。
#    解答：tutorials/solutions/02_rnn_by_hand_ex3.py
