# %% [markdown]
# # 4. 一步 LSTM，逐个数字算一遍
#
# LSTM 的公式看起来吓人，其实并不复杂。这篇教程拿一个具体的输入，用“纸和笔”（其实是 NumPy）把
# LSTM 的一步逐个数字算出来，再把每个数字和 `mg.nn.LSTMCell` 的结果对照；然后对一个梯度也这样做一遍。
# 最后，重做一个已发表的、有两个隐藏单元的数值例子（照原文印出来的数字前后对不上），并看看本课程
# 参考的文章把 LSTM 写错的三种方式，每一种都附有可以运行的检查。
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

# %% [markdown]
# ## 文献里的一个数值例子，换成对得上的形状
#
# 《RNN与其他深度学习模型的比较》（4.2 节）用两个隐藏单元、二维输入算了一步 LSTM：
# $x_t = [0.5, 0.1]$，$h_{t-1} = [0.2, 0.4]$，$c_{t-1} = [0.6, -0.2]$。它把每个门写在拼接向量
# $[h_{t-1}, x_t]$（4 个数）上：$a_f = W_f [h_{t-1}, x_t] + b_f$，以此类推。它的数字前后对不上
# （见下面的方框），所以这里把每个数字重新算一遍。
#
# 每个门的 $W$ 形状是 **(2, 4)**：每个隐藏单元一行，$[h_{t-1}, x_t]$ 的每个分量一列。原文没有
# 给出权重，所以由我们来选（偏置也是），使得原文给出预激活值的地方与原文一致：遗忘门的
# [0.3, 0.5]（原文 2×2 显示的第一列）；输入门和候选取一些整齐的值，使门值与原文的
# $i_t = [0.41, 0.29]$、$\tilde c_t = [0.72, -0.59]$ 一致。原文在输出门之前就停了；我们的输出门
# 随便取 $a_o = [0.4, -0.2]$。

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
# 手算遗忘门的第一个单元：$0.5 \cdot 0.2 + 0.25 \cdot 0.4 + 0.2 \cdot 0.5 - 1.0 \cdot 0.1 + 0.1
# = 0.3$。然后是各个门：
#
# | | 单元 1 | 单元 2 | 原文 |
# |---|---|---|---|
# | $f_t = \sigma(a_f)$ | $\sigma(0.3)$ = **0.5744** | $\sigma(0.5)$ = 0.6225 | 0.63, 0.82 |
# | $i_t = \sigma(a_i)$ | $\sigma(-0.36)$ = 0.4110 | $\sigma(-0.9)$ = 0.2891 | 0.41, 0.29 |
# | $\tilde c_t = \tanh(a_g)$ | $\tanh(0.91)$ = 0.7211 | $\tanh(-0.68)$ = -0.5915 | 0.72, -0.59 |
# | $o_t = \sigma(a_o)$ | $\sigma(0.4)$ = 0.5987 | $\sigma(-0.2)$ = 0.4502 | （未计算） |
#
# 记忆，逐元素计算（$\odot$ 把两个向量逐个分量相乘；不需要对角矩阵）：
#
# $c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t = [0.5744 \cdot 0.6, 0.6225 \cdot (-0.2)] +
# [0.4110 \cdot 0.7211, 0.2891 \cdot (-0.5915)] = [0.3447, -0.1245] + [0.2964, -0.1710]$
# = **[0.6410, -0.2955]**（原文的 [0.6732, -0.3351] 来自它算错的 $f_t$）。
#
# 再补上原文没算的输出：$h_t = o_t \odot \tanh(c_t) = [0.5987 \cdot 0.5656, 0.4502 \cdot (-0.2872)]$
# = **[0.3386, -0.1293]**。

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
# **对应到模块的参数。** $W_f$ 作用在 $[h_{t-1}, x_t]$ 上，所以它的前两列是隐藏一侧的块
# $W_{hf}$，后两列是输入一侧的块 $W_{if}$。按门的顺序 (i, f, g, o) 叠起来，隐藏一侧的块组成
# `weight_hh` (8, 2)，输入一侧的块组成 `weight_ih` (8, 2)；每个门唯一的偏置放进 `bias_ih`，
# `bias_hh` 为零（只有两者之和有意义）。

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
# > **中文资料在哪里出了错：数值例子的形状和 $\sigma(0.3)$**
# >
# > 《RNN与其他深度学习模型的比较》（4.2 节）把 $W_f$、$W_i$、$W_c$、$W_o$ 的形状写成 (4, 4)。
# > 作用在 $[h_{t-1}, x_t]$ 上的门把 4 个数映射成 H = 2 个数，所以每个 $W$ 是 **(2, 4)**（一般地，
# > (H, H + input_size)）。(4, 4) 的矩阵会为 2 个记忆单元产生 4 个门值。原文接着把遗忘门的预激活值
# > 显示成一个 2×2 矩阵；矩阵乘向量得到的是向量，这里是 2 个数。它给出 $\sigma(0.3) = 0.63$，但
# > $\sigma(0.3) = 1/(1 + e^{-0.3})$ = **0.5744**（0.63 是 $\sigma(0.53)$）。它的乘积
# > $f_t \odot c_{t-1}$ 用对角矩阵来写；逐元素乘积根本不需要对角矩阵。检查：

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
# > **中文资料在哪里出了错：没有记忆的 LSTM**
# >
# > 《循环神经网络(Recurrent Neural Networks) - 原理与代码实例讲解》（4.2 节）把 LSTM 写成一个更新
# > $h_t = \sigma(W_i[x_t, h_{t-1}] + b_i) \cdot h_{t-1}$
# > ${} + \sigma(W_f[x_t, h_{t-1}] + b_f) \cdot \tanh(W_c[x_t, h_{t-1}] + b_c)$ 和一个输出
# > $y_t = \sigma(W_o[x_t, h_t] + b_o) \cdot \tanh(h_t)$，
# > 并且（3.2 节）从 $h_0 = x_1$ 开始。它与 LSTM（Hochreiter & Schmidhuber 1997；Gers 等 2000，
# > 也就是 PyTorch、其他文章和本教程所算的）有四处不同：
# >
# > 1. **没有细胞状态。** LSTM 带着两个向量：$c_t$（记忆）和 $h_t$（露出来的部分）；关键正是
# >    加法通路 $c_t = f_t \odot c_{t-1} + \dots$
# > 2. **门干了彼此的活。** 那里是*输入*门去乘旧状态、*遗忘*门去乘新候选；在 LSTM 里，遗忘门
# >    缩放 $c_{t-1}$，输入门缩放候选。
# > 3. **输出经过的是 $\tanh(c_t)$**，即记忆，而不是 $\tanh(h_t)$；输出门读的是 $h_{t-1}$，
# >    而不是它正在计算的 $h_t$。
# > 4. **初始状态为零**（$h_0 = c_0 = 0$，不传状态时 PyTorch 的默认）。$h_0 = x_1$ 只有在输入维数
# >    和隐藏维数相等时形状才对得上，而且第一个输入会被读两次。
# >
# > 检查：在 LSTM 里，只有 $c_{t-1}$ 不同的两步会给出不同的 $h_t$，没有 $c$ 的模型做不到这一点；
# > 不传状态的 `LSTMCell` 等于从零开始。

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
# > **中文资料在哪里出了错：跑不起来的 NumPy LSTM**
# >
# > 《AI大模型的基本原理-2.2 深度学习基础-2.2.3 循环神经网络》给出一个 NumPy 写的 LSTM 类。它的
# > 公式（2.2.3.2 节）是对的；代码却不对：
# >
# > * 它调用了从未定义的 `sigmoid` 和裸的 `tanh`（第一步就 `NameError`），还读取了它的 LSTM
# >   从未创建的 `self.Why` 和 `self.by`；
# > * 本应分开的权重被几个门共用：输入门和遗忘门对 $h_{t-1}$ 都用遗忘门的矩阵，候选的矩阵同时
# >   充当输出门的隐藏部分和候选的两个部分。LSTM 有八块权重（四个门 × 输入和隐藏两侧）；这段
# >   代码只有四块；
# > * 候选的输入矩阵形状是 (H, H)，却去乘 $x_t$，只有 input_size = H 时才行得通；
# > * 候选把偏置加了两次（`bc + bc`），`self.bc` 也被赋值了两次；
# > * 所有权重都从零开始：于是所有门都停在 $\sigma(0) = 0.5$，候选停在 $\tanh(0) = 0$，对任何输入
# >   都有 $c_t = h_t = 0$，输出永远与数据无关（教程 2 对普通 RNN 演示了这一点，也说明了没有
# >   梯度能修好它）。
# >
# > 改正后的版本就是上面的 `lstm_step_numpy`：堆叠的 $W_{ih}$ 和 $W_{hh}$ 里四个分开的块，每一侧
# > 一种矩阵形状，辅助函数都有定义，与 `LSTMCell` 对照到 1e-12。两个检查：`input_size` $\ne H$ 时形状
# > 错误立刻暴露；全零的 LSTM 不管读到什么都输出零。

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
# ## 练习
#
# 先自己做，再看解答：每道题的解答是 `tutorials/solutions/` 里的一个脚本，几秒钟跑完（`--quick`
# 是简短版），最后会检查它要说明的结论。
#
# 1. **每个门的梯度。** 教程只推了一个梯度。给定 $\delta h_t = \partial L / \partial h_t$，推出四个门
#    预激活值 $a_i, a_f, a_g, a_o$ 的梯度，再由它们推出 $\partial L / \partial W_{ih}$、
#    $\partial L / \partial W_{hh}$、偏置、$\partial L / \partial x_t$、$\partial L / \partial h_{t-1}$
#    和 $\partial L / \partial c_{t-1}$。用 NumPy 实现，并在 float64 下与 `LSTMCell` 和自动微分
#    对照：在这个数值例子上（你应该再次得到 0.2890），以及在一个随机的批上。
#    解答：tutorials/solutions/04_lstm_by_the_numbers_ex1.py
# 2. **窥视孔（peephole）LSTM。** Gers、Schraudolph & Schmidhuber（2002）让门看到记忆：给 $a_i$
#    加上 $p_i \odot c_{t-1}$，给 $a_f$ 加上 $p_f \odot c_{t-1}$，给 $a_o$ 加上 $p_o \odot c_t$
#    （$p_i, p_f, p_o$ 是学出来的向量）。把这个单元写成一个 `nn.Module`，检查 $p = 0$ 时它算的与
#    `LSTMCell` 完全相同，再用 `gradcheck` 检查它的梯度。
#    解答：tutorials/solutions/04_lstm_by_the_numbers_ex2.py
# 3. **饱和的门。** 在这个数值例子里，把遗忘门偏置设为 -20，预测 $c_t$ 和
#    $\partial c_t / \partial c_{t-1}$。再把它设为 +20、输入门偏置设为 -20，再预测一次。用
#    `LSTMCell` 检查两种情况。第二种设置对一个往回传 100 步的梯度意味着什么？
#    解答：tutorials/solutions/04_lstm_by_the_numbers_ex3.py
