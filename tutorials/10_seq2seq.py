# %% [markdown]
# # 10. Sequence to sequence: dates written many ways, read back in ISO form
#
# Tutorials 5 to 7 map a sequence to one answer (a class, the next character, the next twelve
# numbers). Many tasks map a sequence to *another sequence* of a different length: translation,
# summarising, reading a spoken number. The classic recurrent answer is the **encoder–decoder**
# (Sutskever, Vinyals & Le 2014; Cho et al. 2014): one recurrent network reads the input and
# hands its final state to a second one that writes the output, one token at a time. Three of
# the articles the course draws on list machine translation among the uses of RNNs, and
# *递归神经网络* names the many-to-many shape; none of them builds one. Here we do, on a task
# whose answers can be checked exactly:
#
#     "Friday, 05 March 2021"   ->  "2021-03-05"
#     "03/05/2021"              ->  "2021-03-05"   (US order: month first)
#     "5 march 2021"            ->  "2021-03-05"
#
# **Data**: every calendar day from 1 January 1900 to 31 December 2099 (Python's `datetime`,
# the real Gregorian calendar with its leap years), each written in one of a dozen formats that
# people use (`strftime` with English month and day names). No download: the calendar is the
# data set. The days are split once, at random, into training, validation and test days, so a
# test date has never been seen in *any* format.
#
# **Time**: 3 to 8.5 minutes on 2 CPU cores in full mode (about 2.5 minutes of CPU time; the
# longer figure on a busy machine); seconds with `--quick`, whose accuracy means nothing (it
# trains for a few dozen steps only).

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
# ## The data: a calendar, written a dozen ways
#
# Each format is a `strftime` pattern, some of them post-processed the way people write (no
# leading zero, all lower case). Three of them are all digits and tell day from month only by
# their separator and order: `05.03.2021` (day first, European), `03/05/2021` (month first, US)
# and `2021/03/05` (year first). The model has to learn those conventions from examples.

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
# ## Characters to numbers
#
# We work on characters: the input vocabulary is every character any format can produce, the
# output one the eleven characters `0-9` and `-`. Index 0 is padding (inputs differ in length)
# and a start token `^` tells the decoder to begin. Every answer has exactly 10 characters, so
# the decoder writes 10 and stops; a task with answers of varying length would add an
# end token and stop when it is written.

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
# ## A baseline first
#
# The answer every programmer writes first: find the numbers, the four-digit one is the year,
# read the others as day then month, and when the month is a word (which this rule does not
# read) guess the month that is most frequent in the training answers. It gets a date right
# when the input is day-first digits, or when the guessed month happens to be right.

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
# ## The encoder–decoder
#
# With $e(\cdot)$ an embedding, the **encoder** GRU reads the input characters $x_1 \dots x_S$
# and keeps only its final state, the whole date squeezed into $H$ numbers:
#
# $$h^{enc}_s = \operatorname{GRU}_{enc}(e(x_s), h^{enc}_{s-1}), \qquad h^{dec}_0 = h^{enc}_S .$$
#
# The **decoder** GRU starts from that state and, at each output step $k$, reads the previous
# output character $y_{k-1}$ ($y_0 =$ `^`) and scores every possible next character:
#
# $$h^{dec}_k = \operatorname{GRU}_{dec}(e(y_{k-1}), h^{dec}_{k-1}), \qquad
#   p(y_k \mid y_{<k}, x) = \operatorname{softmax}(h^{dec}_k W^T + b) .$$
#
# `lengths=` makes the encoder's final state the state at each input's *own* last character,
# not after the padding (tutorial 5 uses the same argument).

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
# ## Training with teacher forcing
#
# During training the decoder is given the *true* previous character, not its own guess:
# **teacher forcing**. All 10 output steps then run as one call of the GRU, and the loss is the
# mean cross-entropy over the 10 characters. Without it, an early wrong guess would feed
# every later step and the first thousands of updates would learn from garbage.
#
# Each batch draws fresh training days and fresh formats, so the model never sees the same
# list twice (the training days are 70,000; days × formats about 840,000 pairs). Every tenth
# of the way we measure exact match on the validation days with greedy decoding (next
# section).

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
# ## Greedy decoding on the test days
#
# At test time there is no teacher: the decoder feeds back its own most likely character at
# each step (**greedy decoding**; beam search would keep several candidates). A date counts
# only if all ten characters are right.

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
# ## What to look for
#
# In full mode (3,000 steps of 64 examples, hidden size 128) we measured a test exact match
# of **100.0%** (all 2,000 held-out days) against 14.0% for the baseline; validation had
# passed 99% after 900 steps. Training took 120 s on 2 CPU cores, 335 s when they were
# shared with other jobs. Quick mode trains 40 steps and reads nothing right. The task is
# easy for a GRU because a date is short: the whole of it fits in the $H = 128$ numbers of one
# state vector. For long inputs such as sentences that single hand-over becomes the
# bottleneck, which attention removes: the last section tries it.
#
# ## Optional: attention
#
# Without attention, the decoder sees the input only through $h^{enc}_S$, one vector. With
# **attention** (Bahdanau, Cho & Bengio 2015; here the simpler "dot" form of Luong, Pham &
# Manning 2015), every output step also looks back at all encoder outputs $o_1 \dots o_S$: it
# scores each against its own state $d_k = h^{dec}_k$, turns the scores into weights that sum
# to 1, and reads their weighted mean, the **context** $c_k$:
#
# $$\alpha_{k,s} = \frac{\exp(d_k \cdot o_s)}{\sum_{s'} \exp(d_k \cdot o_{s'})}, \qquad
#   c_k = \sum_s \alpha_{k,s}\, o_s, \qquad
#   p(y_k \mid y_{<k}, x) = \operatorname{softmax}([d_k; c_k]\, W^T + b) .$$
#
# Padding positions get a score of $-10^4$, so a weight of 0. Only the read-out changes, so
# the subclass overrides `read_out`; teacher forcing and greedy decoding are inherited. We
# train it for half as many steps.

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
# In full mode we measured 98.9% test exact match after 1,500 steps (the model without
# attention: 100.0% after 3,000, and already 100.0% on the validation days at step 1,500).
# So on dates, at most 28 characters long, one state vector is enough and attention adds no
# accuracy; what it adds is a window into the model. The weights $\alpha$ for one test date,
# one row per output character: in full mode, to write the year it looks at the year's
# digits, to
# write the month at the month's name or number, wherever the format put them.

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
# ## What you have seen
#
# * An encoder–decoder is two recurrent networks and one hand-over: the encoder's final state
#   is the decoder's first.
# * Teacher forcing trains all output steps in one pass; greedy decoding feeds the model's
#   own output back, one step at a time.
# * Exact match on held-out days, against a baseline, is the honest measure: a date is right
#   or it is not.

# %%
print(f"RESULT: test exact match {test_acc:.1%} (seq2seq GRU), {attn_acc:.1%} (with attention, "
      f"half the steps) vs {baseline_acc:.1%} (baseline){caveat()}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **Where the baseline fails.** Measure the baseline's exact match format by format. On
#    which formats is it always right, on which never, and where does it score about 1/12?
#    Explain each from the rule.
#    Solution: tutorials/solutions/10_seq2seq_ex1.py
# 2. **Teacher forcing is parallel.** Show that one call of the decoder GRU on the
#    teacher-forced input (all 10 steps at once) gives the same scores as 10 calls of one
#    step each, feeding the true previous character and carrying the state by hand. Why
#    can greedy decoding not be written as one call?
#    Solution: tutorials/solutions/10_seq2seq_ex2.py
