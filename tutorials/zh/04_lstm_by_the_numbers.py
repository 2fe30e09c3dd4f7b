# %% [markdown]
# # 4. 一步 LSTM，逐个数字算一遍
#
# LSTM 的公式看起来吓人，其实并不复杂。这篇教程拿一个具体的输入，用“纸和笔”（其实是 NumPy）把
# LSTM 的一步逐个数字算出来，再把每个数字和 `mg.nn.LSTMCell` 的结果对照；然后对一个梯度也这样做一遍。
#
# 一两秒就能跑完。
#
# ## 公式
#
# 记 $x_t$ 为第 $t$ 步的输入，$h_{t-1}$ 和 $c_{t-1}$ 为这一步之前的隐藏状态和细胞状态，
# $\sigma$ 为 logistic sigmoid 函数，$\odot$ 为逐元素相乘（记号与 `minigrad/nn/rnn.py` 中相同）：
#
# $$
# \begin{aligned}
# i_t &= \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}) &&\text{输入门}\\
# f_t &= \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf}) &&\text{遗忘门}\\
# g_t &= \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg}) &&\text{候选细胞状态}\\
# o_t &= \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho}) &&\text{输出门}\\
# c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\
# h_t &= o_t \odot \tanh(c_t)
# \end{aligned}
# $$
#
# 细胞状态 $c_t$ 就是记忆：遗忘门 $f_t$ 决定旧记忆 $c_{t-1}$ 保留多少，输入门 $i_t$ 决定新的候选
# $g_t$ 写入多少，输出门 $o_t$ 决定把多少记忆作为 $h_t$ 露出来。
#
# 不少中文文章把 $h_{t-1}$ 和 $x_t$ 拼接起来写成 $f_t = \sigma(W_f[h_{t-1}, x_t] + b_f)$，
# 候选状态写成 $\tilde C_t$：那里的 $W_f$ 就是这里的 $W_{hf}$ 和 $W_{if}$ 左右拼在一起，
# $\tilde C_t$ 就是 $g_t$（详见文档的“术语对照”页）。
#
# 在模块里，四个输入矩阵上下叠成一个：$W_{ih} = [W_{ii}; W_{if}; W_{ig}; W_{io}]$，形状为
# (4H, input_size)；同样 $W_{hh} = [W_{hi}; W_{hf}; W_{hg}; W_{ho}]$，形状 (4H, H)；
# $b_{ih}$ 和 $b_{hh}$ 的形状是 (4H,)。这是 PyTorch 的布局和门的顺序 (i, f, g, o)。

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
# ## 具体的数字
#
# 能把所有东西都展示出来的最小 LSTM：input_size = 2，隐藏维数 H = 1，于是每个门都只是一个数。
# 下面 $W_{ih}$ 的每一行属于一个门。

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
# **第 1 步，预激活值。** 四个门用一次乘法一起算：
# $a = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}$，再切成 $a_i, a_f, a_g, a_o$。
#
# 手算输入门：$a_i = 0.2 \cdot 1 + 0.1 \cdot 2 + 0.1 + 0.4 \cdot 0.5 + 0 = 0.7$。
# 同理 $a_f = 0.3 + 1.0 + 0.5 - 0.1 = 1.7$，$a_g = -0.4 + 0.6 + 0.3 = 0.5$，
# $a_o = 0.1 - 0.6 + 0.2 + 0.1 = -0.2$。

# %%
a = W_ih @ x_t + b_ih + W_hh @ h_prev + b_hh
a_i, a_f, a_g, a_o = a
print("pre-activations  a_i, a_f, a_g, a_o =", a)
assert np.allclose(a, [0.7, 1.7, 0.5, -0.2])

# %% [markdown]
# **第 2 步，门。** i、f、o 用 $\sigma$，g 用 tanh：
# $i_t = \sigma(0.7) = 0.6682$，$f_t = \sigma(1.7) = 0.8455$，$g_t = \tanh(0.5) = 0.4621$，
# $o_t = \sigma(-0.2) = 0.4502$。

# %%
i_t, f_t, g_t, o_t = sigma(a_i), sigma(a_f), np.tanh(a_g), sigma(a_o)
print(f"i_t = {i_t:.4f}   f_t = {f_t:.4f}   g_t = {g_t:.4f}   o_t = {o_t:.4f}")
assert np.allclose([i_t, f_t, g_t, o_t], [0.6682, 0.8455, 0.4621, 0.4502], atol=5e-5)

# %% [markdown]
# **第 3 步，记忆。** 旧记忆保留 84.55%，候选写入 66.82%：
#
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t = 0.8455 \cdot (-1) + 0.6682 \cdot 0.4621
# = -0.8455 + 0.3088 = -0.5368$$
#
# （用四舍五入后的各项相加得 -0.5367；代码保留全部位数。）
#
# **第 4 步，输出。** $h_t = o_t \odot \tanh(c_t) = 0.4502 \cdot \tanh(-0.5368) = 0.4502 \cdot
# (-0.4905) = -0.2208$。

# %%
c_t = f_t * c_prev + i_t * g_t
h_t = o_t * np.tanh(c_t)
print(f"c_t = {c_t[0]:.4f}   h_t = {h_t[0]:.4f}")
assert np.allclose([c_t[0], h_t[0]], [-0.5368, -0.2208], atol=5e-5)

# %% [markdown]
# ## 与 `mg.nn.LSTMCell` 对照
#
# 把同样的数字装进模块（它的 `state_dict` 正好是上面四个张量，用的是 PyTorch 的名字），跑一步。
# 这个单元用 float32 计算，所以比较到大约 1e-6。

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
# ## 逐个数字算一个梯度
#
# 为什么 LSTM 比普通 RNN 记得久？看梯度怎样从 $h_t$ 流回旧记忆 $c_{t-1}$。只有 $c_t$ 依赖
# $c_{t-1}$（通过 $c_t = f_t \odot c_{t-1} + \dots$），所以由链式法则
#
# $$\frac{\partial h_t}{\partial c_{t-1}} = o_t \,\bigl(1 - \tanh^2(c_t)\bigr)\, f_t
#   = 0.4502 \cdot (1 - 0.4905^2) \cdot 0.8455 = 0.2890 .$$
#
# 而只沿着记忆走，$\partial c_t / \partial c_{t-1} = f_t = 0.8455$：梯度乘上的是遗忘门，
# 一个网络可以学着保持在 1 附近的数，而不是每一步都要穿过一个压缩的非线性函数和一个权重矩阵
# （教程 3 把两者的差别画了出来）。

# %%
h1.backward()
dh_dc_prev = o_t * (1 - np.tanh(c_t) ** 2) * f_t
print(f"dh_t/dc_(t-1): autograd {c0.grad.item():.4f}   by hand {dh_dc_prev[0]:.4f}")
assert abs(c0.grad.item() - dh_dc_prev[0]) < 1e-6
assert abs(dh_dc_prev[0] - 0.2890) < 5e-5

# %% [markdown]
# ## 同样的检查，更大、更随机
#
# 只用一个例子，可能掩盖一个转置错了的矩阵（我们的尺寸都太小了）。所以再把上面的 NumPy 公式
# 和 `LSTMCell` 比一次：input_size = 5，H = 4，批大小 3，随机权重，float64。

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
# ## 一张图看完这一步
#
# 这个例子里的各个门：预激活值 $a$（柱）和经过 $\sigma$ 或 tanh 之后的门值（点），然后是记忆从
# $c_{t-1}$ 变到 $c_t$，以及输出 $h_t$。

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

