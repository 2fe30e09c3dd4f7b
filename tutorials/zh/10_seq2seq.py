# %% [markdown]
# # 10. 序列到序列：各种写法的日期，读回成 ISO 格式
#
# 教程 5 到 7 把一个序列映射到一个答案（一个类别、下一个字符、接下来的十二个数）。很多任务却要把
# 一个序列映射到*另一个*长度不同的序列：翻译、摘要、读出一个口述的数字。经典的循环网络解法是
# **编码器–解码器**（Sutskever、Vinyals & Le 2014；Cho 等 2014）：一个循环网络读输入，把它的最终
# 状态交给第二个循环网络，由后者一次一个词元地写出输出。本课程参考的文章中有三篇把机器翻译列为
# RNN 的用途，《递归神经网络》也提到了多对多的结构，但没有一篇真正搭出一个来。这里我们来搭一个，
# 任务的答案可以精确检查：
#
#     "Friday, 05 March 2021"   ->  "2021-03-05"
#     "03/05/2021"              ->  "2021-03-05"   （美国的顺序：月份在前）
#     "5 march 2021"            ->  "2021-03-05"
#
# **数据**：从 1900 年 1 月 1 日到 2099 年 12 月 31 日的每一天（Python 的 `datetime`，真实的
# 格里高利历，包括闰年），每天用人们常用的十几种格式之一写出来（`strftime`，英文的月份和星期名）。
# 不用下载：日历本身就是数据集。这些日子随机地一次性分成训练、验证和测试三部分，所以测试集里的
# 日期在*任何*格式下都没有出现过。
#
# **时间**：完整模式在 2 个 CPU 核上 3 到 8.5 分钟（约 2.5 分钟的 CPU 时间；机器繁忙时取长的
# 那个）；`--quick` 只要几秒，但它的准确率没有意义（只训练几十步）。

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import datetime as dt
import re

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.utils.tutorial import Timer, banner, caveat, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("10 seq2seq")
mg.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 数据：一本日历，十几种写法
#
# 每种格式是一个 `strftime` 模式，有些还按人们的书写习惯做了后处理（去掉前导零、全部小写）。其中
# 三种全是数字，只能靠分隔符和顺序区分日和月：`05.03.2021`（日在前，欧洲）、`03/05/2021`（月在前，
# 美国）和 `2021/03/05`（年在前）。模型必须从例子中学会这些约定。

# %%
FORMATS = [
    lambda d: d.strftime("%d %B %Y"),  # 05 March 2021
    lambda d: d.strftime("%B %d, %Y"),  # March 05, 2021
    lambda d: d.strftime("%d %b %Y"),  # 05 Mar 2021
    lambda d: d.strftime("%b %d %Y"),  # Mar 05 2021
    lambda d: d.strftime("%A, %d %B %Y"),  # Friday, 05 March 2021
    lambda d: d.strftime("%a %d %b %Y"),  # Fri 05 Mar 2021
    lambda d: f"{d.day} {d:%B %Y}".lower(),  # 5 march 2021
    lambda d: f"{d:%B} {d.day}, {d.year}",  # March 5, 2021
    lambda d: d.strftime("%d.%m.%Y"),  # 05.03.2021  (day first)
    lambda d: d.strftime("%m/%d/%Y"),  # 03/05/2021  (month first)
    lambda d: d.strftime("%Y/%m/%d"),  # 2021/03/05  (year first)
    lambda d: d.strftime("%d-%b-%Y").upper(),  # 05-MAR-2021
]

first = dt.date(1900, 1, 1)
days = [first + dt.timedelta(k) for k in range((dt.date(2099, 12, 31) - first).days + 1)]
order = rng.permutation(len(days))
n_test, n_val = 2000, 1000
test_days = [days[k] for k in order[:n_test]]
val_days = [days[k] for k in order[n_test:n_test + n_val]]
train_days = [days[k] for k in order[n_test + n_val:]]


def write(day_list, rng):
    """One (written, ISO) pair per day, each in a format drawn at random."""
    fmts = rng.integers(len(FORMATS), size=len(day_list))
    return [FORMATS[f](d) for d, f in zip(day_list, fmts)], [d.isoformat() for d in day_list]


test_src, test_tgt = write(test_days, rng)
val_src, val_tgt = write(val_days, rng)
print(f"{len(days)} days: train {len(train_days)}, validation {len(val_days)}, test {n_test}")
for s, t in list(zip(test_src, test_tgt))[:5]:
    print(f"  {s!r:28} -> {t}")


# %% [markdown]
# ## 字符到数字
#
# 我们按字符处理：输入词表是所有格式可能产生的字符，输出词表是 `0-9` 和 `-` 这十一个字符。编号 0
# 是填充（输入长短不一），起始词元 `^` 告诉解码器开始。每个答案正好 10 个字符，所以解码器写 10 个
# 就停；如果答案长度不定，就要再加一个结束词元，写出它时停止。

# %%
PAD, BOS = "\0", "^"
all_chars = sorted({c for d in days[::37] for f in FORMATS for c in f(d)})
itos = [PAD, BOS] + all_chars
stoi = {c: i for i, c in enumerate(itos)}
V = len(itos)
OUT_LEN = 10


def encode_inputs(texts):
    """Pad to the longest text: ids (B, T) and each text's length."""
    lengths = [len(s) for s in texts]
    ids = np.zeros((len(texts), max(lengths)), dtype=np.int64)
    for b, s in enumerate(texts):
        ids[b, : len(s)] = [stoi[c] for c in s]
    return ids, lengths


def encode_targets(texts):
    """(B, 10) ids of the answer, and the decoder's teacher-forced input: ^ then the answer
    shifted right by one."""
    y = np.array([[stoi[c] for c in s] for s in texts], dtype=np.int64)
    y_in = np.concatenate([np.full((len(texts), 1), stoi[BOS]), y[:, :-1]], axis=1)
    return y, y_in


print(f"vocabulary: {V} symbols (padding and start included)")

# %% [markdown]
# ## 先来一个基线
#
# 每个程序员最先写的办法：找出其中的数字，四位数的是年，其余按先日后月读；月份是单词时（这条规则
# 不读单词），就猜训练答案里最常见的月份。输入是日在前的数字时，或者猜中月份时，它能把日期写对。

# %%
common_month = int(np.bincount([d.month for d in train_days]).argmax())


def baseline(text):
    nums = re.findall(r"\d+", text)
    year = next(int(n) for n in nums if len(n) == 4)
    small = [int(n) for n in nums if len(n) != 4]
    day, month = (small + [common_month])[:2]
    return f"{year:04d}-{month:02d}-{day:02d}"


def exact_match(predicted, truth):
    return float(np.mean([p == t for p, t in zip(predicted, truth)]))


baseline_acc = exact_match([baseline(s) for s in test_src], test_tgt)
print(f"baseline exact-match accuracy on the test days: {baseline_acc:.1%}")

# %% [markdown]
# ## 编码器–解码器
#
# 记 $e(\cdot)$ 为嵌入。**编码器** GRU 读输入字符 $x_1 \dots x_S$，只保留最终状态，整个日期被压进
# H 个数里：
#
# $$h^{enc}_s = \operatorname{GRU}_{enc}(e(x_s), h^{enc}_{s-1}), \qquad h^{dec}_0 = h^{enc}_S .$$
#
# **解码器** GRU 从这个状态出发，在每个输出步 $k$ 读入前一个输出字符 $y_{k-1}$（$y_0$ = `^`），
# 给每个可能的下一个字符打分：
#
# $$h^{dec}_k = \operatorname{GRU}_{dec}(e(y_{k-1}), h^{dec}_{k-1}), \qquad
#   p(y_k \mid y_{<k}, x) = \operatorname{softmax}(h^{dec}_k W^T + b) .$$
#
# `lengths=` 让编码器的最终状态是每个输入在*它自己*最后一个字符处的状态，而不是读完填充之后的
# 状态（教程 5 用的是同一个参数）。

# %%
class Seq2Seq(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.encoder = nn.GRU(embed_dim, hidden, batch_first=True)
        self.decoder = nn.GRU(embed_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def encode(self, ids, lengths):
        """The encoder's outputs with a mask of the padding (the attention model of the last
        section reads them; this one does not), and its final state h (1, B, hidden)."""
        o, h = self.encoder(self.embed(mg.tensor(ids)), lengths=lengths)
        pad = np.arange(ids.shape[1])[None, None, :] >= np.asarray(lengths)[:, None, None]
        return (o, pad), h

    def read_out(self, dec, memory):
        """Scores of the next character from the decoder's states dec (B, K, hidden)."""
        return self.out(dec)

    def forward(self, ids, lengths, y_in):
        """Teacher forcing: the decoder reads the true previous characters y_in (B, 10) and
        returns the scores of the next ones, (B, 10, vocab)."""
        memory, h = self.encode(ids, lengths)
        dec, _ = self.decoder(self.embed(mg.tensor(y_in)), h)
        return self.read_out(dec, memory)

    def greedy(self, ids, lengths, steps=OUT_LEN):
        """Write the answer one character at a time, each time feeding back the most likely
        character: (B, steps) ids."""
        with mg.no_grad():
            memory, h = self.encode(ids, lengths)
            y = np.full((len(lengths), 1), stoi[BOS])
            written = []
            for _ in range(steps):
                dec, h = self.decoder(self.embed(mg.tensor(y)), h)
                y = self.read_out(dec, memory).argmax(-1).numpy()  # (B, 1)
                written.append(y)
        return np.concatenate(written, axis=1)


def translate(model, texts, batch=500):
    out = []
    for k in range(0, len(texts), batch):
        ids, lengths = encode_inputs(texts[k:k + batch])
        out += ["".join(itos[i] for i in row) for row in model.greedy(ids, lengths)]
    return out


CONFIG = dict(embed_dim=32, hidden=128, batch_size=64, steps=3000, lr=3e-3, clip=1.0)
if QUICK:  # the same code, tiny: a smoke test, not a result
    CONFIG.update(hidden=32, steps=40)
    test_src, test_tgt, val_src, val_tgt = test_src[:200], test_tgt[:200], val_src[:200], \
        val_tgt[:200]
model = Seq2Seq(V, CONFIG["embed_dim"], CONFIG["hidden"])
print(model)

# %% [markdown]
# ## 用教师强制训练
#
# 训练时给解码器的是*真实的*前一个字符，而不是它自己的猜测：这叫**教师强制**（teacher forcing）。
# 于是 10 个输出步可以用一次 GRU 调用全部算完，损失是 10 个字符交叉熵的平均。没有它，一开始猜错
# 一个字符就会影响后面所有的步，最初的几千次更新都在从垃圾里学习。
#
# 每一批都抽取新的训练日和新的格式，所以模型不会把同一批数据看两遍（训练日有 70,000 个；日×格式
# 约 840,000 对）。每完成十分之一，就用贪心解码（见下一节）在验证日上测一次完全匹配率。

# %%
def fit(model, steps):
    """Adam with a cosine-decaying learning rate; returns the validation history."""
    opt = optim.Adam(model.parameters(), lr=CONFIG["lr"])
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    history = {"step": [], "loss": [], "val": []}
    losses = []
    with Timer() as t:
        for step in progress(range(1, steps + 1), desc="training"):
            pick = rng.integers(len(train_days), size=CONFIG["batch_size"])
            src, tgt = write([train_days[k] for k in pick], rng)
            ids, lengths = encode_inputs(src)
            y, y_in = encode_targets(tgt)
            scores = model(ids, lengths, y_in)  # (B, 10, V)
            loss = F.cross_entropy(scores.reshape(-1, V), mg.tensor(y.reshape(-1)))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), CONFIG["clip"])
            opt.step()
            sched.step()
            losses.append(loss.item())
            if step % (steps // 10) == 0:
                val_acc = exact_match(translate(model, val_src), val_tgt)
                history["step"].append(step)
                history["loss"].append(float(np.mean(losses)))
                history["val"].append(val_acc)
                losses = []
                print(f"step {step}: train loss {history['loss'][-1]:.3f}, validation exact "
                      f"match {val_acc:.1%} ({t.elapsed():.0f} s)")
    print(f"training took {t.seconds:.0f} s")
    history["seconds"] = t.seconds
    return history


history = fit(model, CONFIG["steps"])

# %% [markdown]
# ## 在测试日上贪心解码
#
# 测试时没有老师：解码器在每一步把自己最可能的字符喂回去（**贪心解码**；束搜索会保留几个候选）。
# 十个字符全对，才算这个日期对。

# %%
predicted = translate(model, test_src)
test_acc = exact_match(predicted, test_tgt)
print(f"test exact match: seq2seq GRU {test_acc:.1%}   baseline {baseline_acc:.1%}{caveat()}")

wrong = [(s, p, t) for s, p, t in zip(test_src, predicted, test_tgt) if p != t]
print(f"{len(wrong)} wrong; the first few:")
for s, p, t in wrong[:6]:
    print(f"  {s!r:28} -> {p}   (true {t})")

# which formats are hardest? accuracy per format on the test days
per_format = {}
for s, p, t in zip(test_src, predicted, test_tgt):
    d = dt.date.fromisoformat(t)
    f = next(k for k, fmt in enumerate(FORMATS) if fmt(d) == s)
    per_format.setdefault(f, []).append(p == t)
example = dt.date(2021, 3, 5)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
ax1.plot(history["step"], history["val"], "o-", label="seq2seq GRU (validation)")
ax1.axhline(baseline_acc, color="C2", ls="--", label="baseline (test)")
ax1.set_xlabel("training step")
ax1.set_ylabel("exact-match accuracy")
ax1.set_ylim(0, 1)
ax1.legend(loc="lower right")
keys = sorted(per_format)
ax2.barh([FORMATS[k](example) for k in keys], [np.mean(per_format[k]) for k in keys])
ax2.set_xlim(0, 1)
ax2.set_xlabel("test exact match, by format")
ax2.tick_params(axis="y", labelsize=8)
savefig(fig, "10_seq2seq.png")

# %% [markdown]
# ## 看什么
#
# 完整模式下（3,000 步，每步 64 个样本，隐藏维数 128），我们测得测试完全匹配率 **100.0%**（全部
# 2,000 个留出的日子），基线为 14.0%；验证集在 900 步之后就超过了 99%。训练在 2 个 CPU 核上用了
# 120 秒，与其他任务共用时为 335 秒。快速模式只训练 40 步，一个也读不对。这个任务对 GRU 来说很
# 容易，因为日期很短：整个日期放得进一个状态向量的 H = 128 个数。对句子这样的长输入，这唯一的
# 一次交接就成了瓶颈，注意力机制正是为了去掉它：最后一节来试试。
#
# ## 选读：注意力
#
# 没有注意力时，解码器只能通过 $h^{enc}_S$ 这一个向量看到输入。有了**注意力**（Bahdanau、Cho &
# Bengio 2015；这里用 Luong、Pham & Manning 2015 更简单的“点积”形式），每个输出步还会回头看所有
# 编码器输出 $o_1 \dots o_S$：用自己的状态 $d_k = h^{dec}_k$ 给每个输出打分，把分数变成和为 1 的
# 权重，再读出它们的加权平均，即**上下文** $c_k$：
#
# $$\alpha_{k,s} = \frac{\exp(d_k \cdot o_s)}{\sum_{s'} \exp(d_k \cdot o_{s'})}, \qquad
#   c_k = \sum_s \alpha_{k,s}\, o_s, \qquad
#   p(y_k \mid y_{<k}, x) = \operatorname{softmax}([d_k; c_k]\, W^T + b) .$$
#
# 填充位置的分数为 $-10^4$，于是权重为 0。只有读出部分变了，所以子类只重写 `read_out`；教师强制
# 和贪心解码都是继承来的。我们只训练它一半的步数。

# %%
class AttentionSeq2Seq(Seq2Seq):
    def __init__(self, vocab_size, embed_dim, hidden):
        super().__init__(vocab_size, embed_dim, hidden)
        self.out = nn.Linear(2 * hidden, vocab_size)  # reads [d_k; c_k]

    def attention(self, dec, memory):
        """alpha (B, K, S): how much output step k looks at input position s."""
        enc, pad = memory
        scores = dec @ enc.transpose(1, 2)  # d_k . o_s
        return F.softmax(scores + mg.tensor(pad * -1e4, dtype=scores.dtype), -1)

    def read_out(self, dec, memory):
        context = self.attention(dec, memory) @ memory[0]  # (B, K, hidden)
        return self.out(mg.cat([dec, context], -1))


mg.manual_seed(1)
attn_model = AttentionSeq2Seq(V, CONFIG["embed_dim"], CONFIG["hidden"])
attn_history = fit(attn_model, CONFIG["steps"] // 2)
attn_acc = exact_match(translate(attn_model, test_src), test_tgt)
print(f"test exact match with attention: {attn_acc:.1%} after {CONFIG['steps'] // 2} steps "
      f"(without: {test_acc:.1%} after {CONFIG['steps']}){caveat()}")


# %% [markdown]
# 完整模式下，训练 1,500 步后我们测得测试完全匹配率 98.9%（不带注意力的模型：3,000 步后 100.0%，
# 在第 1,500 步时验证集上已经是 100.0%）。所以对最多 28 个字符的日期，一个状态向量就够了，注意力
# 并没有提高准确率；它带来的是一扇观察模型的窗口。下面是一个测试日期的权重 $\alpha$，每个输出字符
# 一行：完整模式下，写年份时它看年份的数字，写月份时看月份的名字或数字，不管格式把它们放在哪里。

# %%
sample_src, sample_tgt = test_src[0], test_tgt[0]
ids, lengths = encode_inputs([sample_src])
y, y_in = encode_targets([sample_tgt])
with mg.no_grad():
    memory, h = attn_model.encode(ids, lengths)
    dec, _ = attn_model.decoder(attn_model.embed(mg.tensor(y_in)), h)
    alpha = attn_model.attention(dec, memory).numpy()[0]  # (10, S)
assert np.allclose(alpha.sum(-1), 1)
fig, ax = plt.subplots(figsize=(0.3 * len(sample_src) + 2, 3.6))
ax.imshow(alpha, cmap="Greys", aspect="auto", vmin=0, vmax=1)
ax.set_xticks(range(len(sample_src)), list(sample_src))
ax.set_yticks(range(OUT_LEN), list(sample_tgt))
ax.set_xlabel("input character")
ax.set_ylabel("output character")
ax.set_title("attention weights α (dark = looked at)")
savefig(fig, "10_attention.png")

# %% [markdown]
# ## 你看到了什么
#
# * 编码器–解码器就是两个循环网络加一次交接：编码器的最终状态是解码器的初始状态。
# * 教师强制让所有输出步一次算完；贪心解码把模型自己的输出喂回去，一次一步。
# * 在留出的日子上、和基线比较的完全匹配率，才是诚实的衡量：一个日期要么对，要么错。

# %%
print(f"RESULT: test exact match {test_acc:.1%} (seq2seq GRU), {attn_acc:.1%} (with attention, "
      f"half the steps) vs {baseline_acc:.1%} (baseline){caveat()}")


# %% [markdown]
# ## 练习
#
# 先自己做，再看解答：每道题的解答是 `tutorials/solutions/` 里的一个脚本，几秒钟跑完（`--quick`
# 是简短版），最后会检查它要说明的结论。
#
# 1. **基线在哪里失败。** 按格式分别测量基线的完全匹配率。它在哪些格式上总是对，哪些总是错，
#    哪些大约是 1/12？用规则解释每一种情况。
#    解答：tutorials/solutions/10_seq2seq_ex1.py
# 2. **教师强制是并行的。** 证明：在教师强制的输入上调用一次解码器 GRU（10 步一起）得到的分数，
#    与调用 10 次、每次一步、手动传递状态并喂入真实的前一个字符得到的分数相同。为什么贪心解码
#    不能写成一次调用？
#    解答：tutorials/solutions/10_seq2seq_ex2.py
