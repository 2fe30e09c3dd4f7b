# %% [markdown]
# # 3. 梯度消失与梯度爆炸
#
# 教程 2 结尾留下了一个观察：梯度沿时间往回传时，每一步都要乘上同一类因子。这一篇就来看这会
# 造成什么后果，以及每个实践者都会用的两个补救办法：
#
# 1. **测量**普通 RNN、LSTM 和 GRU 在每一步 $t$ 的 $\lVert \partial L / \partial h_t \rVert$；
# 2. 在序列越来越长的**加法问题**上训练这三种网络：完整模式下，带门的单元能学会跨越一百步的
#    依赖，普通 RNN 学不会；
# 3. 训练之后再测一次梯度，看看原因；
# 4. 亲眼看一个梯度**爆炸**，再看**梯度裁剪**怎样把它驯服。
#
# 整套教程里唯一的合成数据就在这里：加法问题是一个受控实验，专门设计成答案只取决于相隔很远的
# 两个时间步。
#
# **时间**：完整模式在 2 个 CPU 核上 1 到 7.5 分钟（机器繁忙时取长的那个）；`--quick` 只要几秒，
# 它只在 $T = 10$ 上训练 120 步：它的数字没有意义，三种单元中任何一个都可能显示“没解决”。

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.utils.tutorial import Timer, banner, caveat, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("03 vanishing and exploding gradients")
mg.manual_seed(0)

# %% [markdown]
# ## 加法问题（Hochreiter & Schmidhuber, 1997）
#
# 每个输入步 $x_t$ 有两个数：一个在 [0, 1] 上均匀抽取的值 $v_t$，和一个标记 $m_t$：它恰好在
# 两个时间步（前半段一个，后半段一个）为 1，其余为 0。目标是两个被标记的值之和，
#
# $$y = \sum_{t=1}^{T} m_t v_t .$$
#
# 总是预测均值 $y = 1$ 的均方误差是 $\mathrm{Var}(v_a + v_b) = 2/12 \approx 0.167$；误差远低于
# 这个数的网络，一定把一个值带过了最多 $T$ 步。

# %%
BASELINE_MSE = 2 / 12


def adding_batch(rng, B, T):
    """x (B, T, 2) = [v_t, m_t] and y (B, 1) = sum_t m_t v_t."""
    v = rng.uniform(0, 1, (B, T))
    m = np.zeros((B, T))
    first = rng.integers(0, max(T // 2, 1), B)  # one marker in each half
    second = rng.integers(T // 2, T, B)
    m[np.arange(B), first] = 1
    m[np.arange(B), second] = 1
    x = np.stack([v, m], axis=-1)
    y = (m * v).sum(1, keepdims=True)
    return mg.tensor(x, dtype=mg.float32), mg.tensor(y, dtype=mg.float32)


x, y = adding_batch(np.random.default_rng(0), 1, 8)
print("one example, T = 8:\n values ", x.numpy()[0, :, 0].round(2), "\n markers",
      x.numpy()[0, :, 1], "\n target ", y.item().__round__(3))


# %% [markdown]
# ## 1. 沿时间传播的梯度
#
# 对教程 2 的 RNN，$h_t = \tanh(a_t)$，$a_t = x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh}$，
# 从一步到前一步的链式法则是
#
# $$\frac{\partial L}{\partial h_{t-1}} = \Bigl(\frac{\partial L}{\partial h_t}
#   \odot (1 - h_t^2)\Bigr) W_{hh},$$
#
# 所以从最后一步 $T$ 回到第 $t$ 步，梯度要经过 $T - t$ 个这样的因子。如果它们让梯度变小
# （$|\tanh'| \le 1$，再加上较小的 $W_{hh}$），梯度就按几何级数衰减，即**消失**；如果 $W_{hh}$
# 较大，梯度可以按几何级数增长，即**爆炸**。LSTM 的记忆则是通过
# $\partial c_t / \partial c_{t-1} = f_t$（遗忘门，逐元素；见教程 4）往回传：这是一个学出来的、
# 可以保持在 1 附近的因子。GRU 的 $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$ 也有同样的
# 直接通路，由 $z_t$ 缩放。
#
# 我们取一个只依赖**最后**一步的损失 $L = \sum_j h_{T,j}$，用 `mg.autograd.grad` 一次求出所有
# $t$ 的 $\partial L / \partial h_t$。每个单元都刚刚初始化（PyTorch 的默认方式），输入同一个序列。
# 第四条线“RNN, $W_{hh} \times 4$”展示爆炸的情形。

# %%
T_GRAD = 30 if QUICK else 100
H = 32
xg, _ = adding_batch(np.random.default_rng(1), 16, T_GRAD)
CELLS = {"RNN": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}


def grad_norms(cell, xs, readout=None):
    """||dL/dh_t|| (mean over the batch) for t = 1..T, with L = sum of readout(h_T)."""
    state, hs = None, []
    for t in range(xs.shape[1]):
        state = cell(xs[:, t], state)
        hs.append(state[0] if isinstance(state, tuple) else state)  # LSTM: (h, c) -> h
    L = (hs[-1] if readout is None else readout(hs[-1])).sum()
    grads = mg.autograd.grad(L, hs)
    return np.array([np.linalg.norm(g.numpy(), axis=1).mean() for g in grads])


def plot_norms(norms, title):
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, n in norms.items():
        ax.semilogy(np.arange(1, len(n) + 1), n, label=label, ls="--" if "×" in label else "-")
    ax.set_xlabel("time step t")
    ax.set_ylabel("||∂L/∂h_t||  (L depends on the last step)")
    ax.set_title(title)
    ax.legend()
    return fig


norms = {}
for name, cell_class in CELLS.items():
    mg.manual_seed(1)
    norms[name] = grad_norms(cell_class(2, H), xg)
mg.manual_seed(1)
big = nn.RNNCell(2, H)
with mg.no_grad():
    big.weight_hh.data *= 4  # a large recurrent matrix: gradients grow going back in time
norms["RNN, W_hh × 4"] = grad_norms(big, xg)

for name, n in norms.items():
    print(f"{name:14s} ||dL/dh_t|| at t = T: {n[-1]:9.2e}   at t = 1: {n[0]:9.2e}   "
          f"ratio {n[0] / n[-1]:9.2e}")
fig = plot_norms(norms, "untrained cells: how much gradient reaches step t")
savefig(fig, "03_gradient_norms.png")

# %% [markdown]
# 从右往左读这张图（右端是最后一步，损失所在）。初始化时，*三种*单元都按几何级数丢失梯度：
# LSTM 的遗忘门和 GRU 的更新门一开始都在 $\sigma(0) = 0.5$ 附近，而 0.5 连乘一百次就什么都
# 不剩了。把 $W_{hh}$ 放大，衰减就变成增长：另一种失败。到这里，带门的单元还没有优势；它们有的是
# 可以被训练*打开*的门。第 2 节训练它们，第 3 节再测一次。
#
# ## 2. 长距离依赖：不同长度的加法问题
#
# 现在分别训练三种单元（作为层：`nn.RNN`、`nn.LSTM`、`nn.GRU`，32 个隐藏单元，用一个 `Linear`
# 读出最后一步的输出），每次用新的随机批（每批 32 个），在固定的 500 个序列上测量测试 MSE。
# LSTM 有一个常用技巧：把遗忘门的偏置初始化为 1，这样 $f_t \approx \sigma(1) = 0.73$，训练
# 开始时默认保留记忆（Jozefowicz 等，2015）。PyTorch 的门顺序是 (i, f, g, o)，所以遗忘门的
# 偏置是 $b_{ih}$ 的第二个四分之一。

# %%
LENGTHS = [10] if QUICK else [10, 50, 100]
STEPS = 120 if QUICK else 1500
SOLVED = 0.01  # test MSE below this: the network found the two values


class AddingNet(nn.Module):
    def __init__(self, kind, hidden=32):
        super().__init__()
        self.rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](2, hidden,
                                                                       batch_first=True)
        self.out = nn.Linear(hidden, 1)
        if kind == "LSTM":
            with mg.no_grad():
                self.rnn.bias_ih_l0.data[hidden:2 * hidden] = 1.0  # forget gate, b_if
                self.rnn.bias_hh_l0.data[hidden:2 * hidden] = 0.0  # b_hf

    def forward(self, x):
        o, _ = self.rnn(x)  # (B, T, hidden)
        return self.out(o[:, -1])  # read out after the last step, (B, 1)


def train_adding(kind, T, steps=STEPS, seed=0):
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_test, y_test = adding_batch(np.random.default_rng(1234), 500, T)
    net = AddingNet(kind)
    opt = optim.Adam(net.parameters(), lr=1e-2)
    curve = []
    for step in progress(range(steps), desc=f"{kind} T={T}"):
        x, y = adding_batch(rng, 32, T)
        loss = F.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if (step + 1) % max(steps // 20, 1) == 0:
            with mg.no_grad():
                curve.append((step + 1, F.mse_loss(net(x_test), y_test).item()))
    return curve, net


results, trained = {}, {}
with Timer() as t_add:
    for T in LENGTHS:
        for kind in ["RNN", "LSTM", "GRU"]:
            curve, trained[kind] = train_adding(kind, T)  # keeps the nets of the longest T
            results[kind, T] = curve
            mse = curve[-1][1]
            print(f"T = {T:3d}  {kind:4s}  test MSE {mse:.4f}  "
                  f"({'solved' if mse < SOLVED else 'not solved'}; baseline {BASELINE_MSE:.3f})"
                  f"{caveat()}")
print(f"adding problem: {t_add.seconds:.0f} s")

fig, axes = plt.subplots(1, len(LENGTHS), figsize=(4 * len(LENGTHS), 3.6), squeeze=False)
for ax, T in zip(axes[0], LENGTHS):
    for kind in ["RNN", "LSTM", "GRU"]:
        steps_, mses = zip(*results[kind, T])
        ax.semilogy(steps_, mses, label=kind)
    ax.axhline(BASELINE_MSE, color="k", ls=":", label="predict the mean")
    ax.axhline(SOLVED, color="gray", ls="--", lw=0.8)
    ax.set_title(f"adding problem, T = {T}")
    ax.set_xlabel("training step")
axes[0, 0].set_ylabel("test MSE")
axes[0, 0].legend()
savefig(fig, "03_adding_problem.png")

# %% [markdown]
# 完整模式的结果（每次训练 1,500 步；我们测得的测试 MSE，预测均值的基线是 0.167）：
#
# | T | RNN | LSTM | GRU |
# |---|---|---|---|
# | 10 | 0.0034 | 0.0002 | 0.0001 |
# | 50 | 0.1556 | 0.0005 | 0.0003 |
# | 100 | 0.1854 | 0.0010 | 0.0004 |
#
# $T = 10$ 时每种单元都能解决：两个值离结尾都不远。随着 $T$ 增大，普通 RNN 停在基线上（它学会了
# 预测均值），而 LSTM 和 GRU 的梯度能到达被标记的步，把误差降低好几个数量级。快速模式只在
# $T = 10$ 上训练 120 步：太少，得不出任何结论，三种单元中任何一个都可能显示“没解决”。
#
# ## 3. 训练之后，沿时间传播的梯度
#
# 回到第 1 节的测量，这次用刚在 $T$ = `LENGTHS[-1]` 上训练好的网络，损失取它们的预测
# $\hat y = h_T W_{out}^T + b_{out}$（于是 $\partial L / \partial h_t$ 表示每一步还能在多大程度上
# 改变答案）。我们把每个训练好的层的权重复制到对应的单元里（`weight_ih_l0` 变成 `weight_ih`，
# 以此类推），再像之前一样展开。

# %%
xg_long, _ = adding_batch(np.random.default_rng(1), 16, LENGTHS[-1])
norms_trained = {}
for kind, net in trained.items():
    cell = CELLS[kind](2, net.rnn.hidden_size)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in net.rnn.state_dict().items()})
    norms_trained[kind] = grad_norms(cell, xg_long, readout=net.out)
for name, n in norms_trained.items():
    print(f"trained {name:5s} ||dL/dh_t|| at t = T: {n[-1]:9.2e}   at t = 1: {n[0]:9.2e}   "
          f"ratio {n[0] / n[-1]:9.2e}")
fig = plot_norms(norms_trained, f"trained on the adding problem, T = {LENGTHS[-1]}")
savefig(fig, "03_gradient_norms_trained.png")

# %% [markdown]
# 完整模式下（在 $T = 100$ 上训练），训练把门打开了：比值
# $\lVert \partial L / \partial h_1 \rVert / \lVert \partial L / \partial h_T \rVert$ 从初始化时的
# 1e-21 到 1e-20，变成了 LSTM 的 2e-2 和 GRU 的 0.16，所以它们现在能把梯度传回整个序列（它们必须
# 如此：第一个被标记的值可能在答案之前 100 步）；而没有这种通路的普通 RNN，这个比值在 float32 下
# 仍然是 0（梯度在几十步之内就没了）。快速模式下网络只在 $T = 10$ 上训练了 120 步，图里看不出
# 什么。
#
# ## 4. 梯度爆炸与梯度裁剪
#
# 另一种失败动静更大。给一个普通 RNN 一个比平常大一倍的循环矩阵（到第 1 节虚线的一半），
# 在它能解决的 $T = 10$ 的加法问题上用带动量的 SGD 训练：梯度范数在相邻两步之间能相差两个数量级，
# 每一个大梯度都把权重甩得很远。
#
# **梯度裁剪**在梯度 $g$（所有参数合在一起）的范数超过阈值 $c$ 时把它整体缩小：
#
# $$g \leftarrow g \cdot \min\Bigl(1, \frac{c}{\lVert g \rVert}\Bigr),$$
#
# 也就是 `nn.utils.clip_grad_norm_(model.parameters(), c)`；它返回裁剪之前的 $\lVert g \rVert$。
# 方向保持不变，只是限制了步长。我们用同样的起点、同样的批，分别在裁剪和不裁剪的情况下训练同一个
# 网络。

# %%
CLIP_T = 10
CLIP_STEPS = 60 if QUICK else 600


def train_exploding(clip, seed=0):
    mg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_test, y_test = adding_batch(np.random.default_rng(99), 500, CLIP_T)
    net = AddingNet("RNN", hidden=32)
    with mg.no_grad():
        net.rnn.weight_hh_l0.data *= 2  # towards the exploding regime of section 1
    opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    norms_, losses = [], []
    for _ in range(CLIP_STEPS):
        x, y = adding_batch(rng, 32, CLIP_T)
        loss = F.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        # clip to c = 1, or (clip=None) just measure the norm: max_norm = inf changes nothing
        total = nn.utils.clip_grad_norm_(net.parameters(), 1.0 if clip else float("inf"))
        opt.step()
        norms_.append(total.item())
        with mg.no_grad():
            losses.append(F.mse_loss(net(x_test), y_test).item())
    return np.array(norms_), np.array(losses)


runs = {"no clipping": train_exploding(clip=False), "clip_grad_norm_(c = 1)":
        train_exploding(clip=True)}
for name, (gn, ls) in runs.items():
    print(f"{name:24s} largest gradient norm {np.nanmax(gn):9.3g}   steps with ||g|| > 1: "
          f"{int((gn > 1).sum()):3d}   final test MSE {ls[-1]:.4f}{caveat()}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
for name, (gn, ls) in runs.items():
    ax1.semilogy(gn, label=name, alpha=0.8)
    ax2.semilogy(ls, label=name, alpha=0.8)
ax1.axhline(1.0, color="k", ls=":", lw=0.8)
ax1.set_title("gradient norm ||g|| before clipping")
ax1.set_xlabel("SGD step")
ax2.axhline(BASELINE_MSE, color="k", ls=":", label="predict the mean")
ax2.set_title(f"test MSE, adding problem T = {CLIP_T}")
ax2.set_xlabel("SGD step")
ax2.legend()
savefig(fig, "03_clipping.png")

# %% [markdown]
# 完整模式下（600 步），不裁剪时，每一个大梯度（左图，注意是对数坐标）都把损失踢高（右图）：
# 训练始终稳定不下来，最后比预测均值还差，测试 MSE 为 0.196。裁剪之后，同样会来大梯度，但每个
# 梯度造成的步长被限制住了，同一个网络就解决了这个任务：0.0082。快速模式 60 步就停了，两次训练
# 都还没稳定下来。（把学习率再调高一点，不裁剪的那次训练几百步之内就会溢出成 NaN。）
#
# ## 你看到了什么
#
# * 随时间反向传播每一步都把梯度乘上一个雅可比矩阵；在普通 RNN 里，这个乘积随距离按几何级数
#   消失或爆炸。
# * 带门的单元（LSTM、GRU）增加了一条沿时间几乎是加法的通路，由学出来的门控制，能学会跨越
#   100 步的依赖，而普通 RNN 做不到。
# * 梯度爆炸用裁剪梯度范数来处理，训练循环里一行代码（教程 5 和 6 都用到了）。

# %%
summary = ", ".join(f"{k} T={T}: {results[k, T][-1][1]:.4f}" for T in LENGTHS
                    for k in ["RNN", "LSTM", "GRU"])
print(f"RESULT: adding-problem test MSE (baseline {BASELINE_MSE:.3f}) {summary}; "
      f"exploding RNN final MSE without/with clipping {runs['no clipping'][1][-1]:.4g}/"
      f"{runs['clip_grad_norm_(c = 1)'][1][-1]:.4g}{caveat()}")


# %% [markdown]
# ## 练习
#
# 先自己做，再看解答：每道题的解答是 `tutorials/solutions/` 里的一个脚本，几秒钟跑完（`--quick`
# 是简短版），最后会检查它要说明的结论。
#
# 1. **按值裁剪。** 实现按值裁剪梯度（把每个梯度元素限制在 $[-c, c]$ 内），并与
#    `nn.utils.clip_grad_value_` 对照。测量之前先预测：两种裁剪各自会怎样改变第 4 节那个爆炸的
#    RNN 的梯度*方向*；然后测量梯度与裁剪后梯度之间的余弦，并分别用两种裁剪训练这个 RNN。
#    解答：tutorials/solutions/03_vanishing_gradients_ex1.py
# 2. **打开遗忘门。** 第 1 节未训练的 LSTM 像普通 RNN 一样丢失梯度。把遗忘门偏置 $b_{if}$ 设为 3
#    而不用默认初始化，粗略预测 30 步上
#    $\lVert \partial L / \partial h_1 \rVert / \lVert \partial L / \partial h_T \rVert$ 会怎样变化
#    （提示：沿着记忆，每往回一步就乘一次 $f_t$）。然后测量它。
#    解答：tutorials/solutions/03_vanishing_gradients_ex2.py
# 3. **手推 GRU 的反向传播。** 推出一个 `GRUCell` 步（PyTorch 的公式，门 r、z、n）的反向传播：
#    三个门、权重和偏置、$x_t$ 以及 $h_{t-1}$ 的梯度。$\partial L / \partial h_{t-1}$ 里哪一项是
#    第 1 节说的“直接通路”？把这一步写成带你的反向传播的 `mg.autograd.Function`，用 `gradcheck`
#    并与 `nn.GRUCell` 对照检查；再预测更新门饱和打开时的 $\partial h_t / \partial h_{t-1}$，
#    也检查一下。
#    解答：tutorials/solutions/03_vanishing_gradients_ex3.py
