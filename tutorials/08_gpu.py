# %% [markdown]
# # 8. The same model on a GPU
#
# minigrad runs on NumPy on the CPU and on CuPy on an NVIDIA GPU, with one code path: a
# tensor lives on a **device**, every op runs where its inputs are, and a module moves all
# its parameters with `.to(device)`. This tutorial takes the sentiment model of tutorial 5,
# moves it to the GPU with one line, and times a training step on both devices side by side.
#
# No GPU here? The tutorial still runs: it times the CPU, says so, and leaves the GPU column
# empty. (A GPU needs `pip install "minigrad-rnn[cuda12]"` or `[cuda13]`, which brings CuPy.)
#
# **Time**: under a minute on 2 CPU cores (full mode, no GPU); seconds with `--quick`.

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
from minigrad.data import (
    Vocab,
    basic_english_tokenize,
    bucket_batches,
    load_rotten_tomatoes,
    pad_batch,
)
from minigrad.utils.tutorial import Timer, banner, plt, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("08 GPU")
mg.manual_seed(0)

# %% [markdown]
# ## Is there a GPU?

# %%
HAS_GPU = mg.cuda.is_available()
devices = ["cpu", "cuda"] if HAS_GPU else ["cpu"]
if HAS_GPU:
    print(f"GPU available: {mg.cuda.device_count()} device(s); timing CPU and GPU")
else:
    print("No GPU found (or CuPy is not installed): running on the CPU only. "
          "The GPU column below stays empty.")

# %% [markdown]
# ## The data and the model of tutorial 5
#
# The same tokenizer, vocabulary and bucketed batches, and the same model:
# Embedding → bidirectional GRU → max over time → Linear.

# %%
train, _, _ = load_rotten_tomatoes()
vocab = Vocab((basic_english_tokenize(t) for t, _ in train), min_freq=2)
X = [vocab.encode(basic_english_tokenize(t)) for t, _ in train]
y = np.array([label for _, label in train])


class SentimentRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden, dropout=0.5):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.rnn = nn.GRU(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, 2)

    def forward(self, ids, lengths):
        o, _ = self.rnn(self.drop(self.embed(ids)), lengths=lengths)
        pad = np.arange(ids.shape[1])[None, :, None] >= np.asarray(lengths)[:, None, None]
        m = (o + mg.tensor(pad * -1e4, dtype=o.dtype, device=o.device)).amax(1)
        return self.out(self.drop(m))


# %% [markdown]
# ## One line to move it
#
# `model.to(device)` moves every parameter (and so the optimizer, created afterwards, works
# there too). The data must follow: each batch is created on the device with
# `mg.tensor(..., device=device)`. Everything else, the forward pass, `backward`, clipping,
# Adam, is the same code on either device.

# %%
def time_training(device, hidden, batch_size, n_batches):
    """Seconds per training step (forward, backward, clip, Adam) on `device`."""
    mg.manual_seed(0)
    model = SentimentRNN(len(vocab), hidden, hidden)
    model.to(device)  # <- the one line
    opt = optim.Adam(model.parameters(), lr=3e-3)
    batches = bucket_batches([len(x) for x in X], batch_size, shuffle=True, seed=0)
    batches = batches[: n_batches + 2]

    def step(idx):
        ids, lengths = pad_batch([X[i] for i in idx])
        logits = model(mg.tensor(ids, device=device), lengths)
        loss = F.cross_entropy(logits, mg.tensor(y[idx], device=device))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        return loss.item()  # .item() waits for the GPU to finish: honest timings

    for idx in batches[:2]:  # warm-up: GPU kernels compile and memory pools fill on first use
        step(idx)
    with Timer() as t:
        for idx in batches[2:]:
            step(idx)
    return t.seconds / n_batches


SETTINGS = [(32, 64)] if QUICK else [(128, 64), (512, 256)]  # (hidden, batch size)
N_BATCHES = 3 if QUICK else 20
timings = {}
for hidden, bs in SETTINGS:
    for device in devices:
        timings[hidden, bs, device] = time_training(device, hidden, bs, N_BATCHES)

print(f"\nseconds per training step ({N_BATCHES} steps each, bidirectional GRU):")
print(f"{'hidden':>7}{'batch':>7}{'CPU':>10}{'GPU':>10}{'speed-up':>10}")
for hidden, bs in SETTINGS:
    cpu = timings[hidden, bs, "cpu"]
    gpu = timings.get((hidden, bs, "cuda"))
    gpu_s = f"{gpu:10.3f}" if gpu else f"{'n/a':>10}"
    speed = f"{cpu / gpu:9.1f}x" if gpu else f"{'n/a':>10}"
    print(f"{hidden:>7}{bs:>7}{cpu:10.3f}{gpu_s}{speed}")

# %% [markdown]
# Small models are bound by the per-op overhead (each op on the GPU costs a kernel launch of
# a few microseconds, about what NumPy needs for a small product), so the GPU's advantage
# shows with larger hidden sizes and batches, where the matrix products dominate.

# %%
fig, ax = plt.subplots(figsize=(6, 3.6))
labels = [f"H={h}, B={b}" for h, b in SETTINGS]
pos = np.arange(len(SETTINGS))
ax.bar(pos - 0.2, [timings[h, b, "cpu"] for h, b in SETTINGS], 0.4, label="CPU")
if HAS_GPU:
    ax.bar(pos + 0.2, [timings[h, b, "cuda"] for h, b in SETTINGS], 0.4, label="GPU")
else:
    for p in pos:
        ax.text(p + 0.2, 0, "no GPU", rotation=90, ha="center", va="bottom", color="gray")
ax.set_xticks(pos, labels)
ax.set_ylabel("seconds per training step")
ax.set_title("bidirectional GRU sentiment model")
ax.legend()
savefig(fig, "08_gpu_timings.png")

# %%
h, b = SETTINGS[-1]
if HAS_GPU:
    cpu, gpu = timings[h, b, "cpu"], timings[h, b, "cuda"]
    print(f"RESULT: H={h}, B={b}: CPU {cpu:.3f} s/step, GPU {gpu:.3f} s/step ({cpu / gpu:.1f}x)")
else:
    print(f"RESULT: no GPU here; CPU {timings[h, b, 'cpu']:.3f} s/step at H={h}, B={b}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
# Both run without a GPU too (the first on minigrad's fake CUDA device, `MINIGRAD_FAKE_CUDA=1`).
#
# 1. **What follows the model to the device?** List every line of the model and of the
#    training step that must name the device once `model.to(device)` has moved the
#    parameters, and predict what happens if the padding mask in `forward` forgets it. Then
#    check that one training step from the same weights gives the same loss, gradients and
#    updated weights on `cpu` and `cuda`.
#    Solution: tutorials/solutions/08_gpu_ex1.py
# 2. **The fixed cost of an op.** Predict how much longer an elementwise add of 1,000,000
#    elements takes than an add of 1 element. Measure it on each device you have, fit
#    $t(n) \approx t_0 + n / r$, and find the size at which half the time is overhead: what
#    does it say about the small model of this tutorial?
#    Solution: tutorials/solutions/08_gpu_ex2.py
