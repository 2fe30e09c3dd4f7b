"""Tutorial 5, exercise 1 (change and predict): what does `lengths=` buy?

The tutorial passes `lengths=` to the bidirectional GRU and masks the padded steps before
the max over time. Take one review snippet and classify it twice: alone (no padding), and
in a batch beside a much longer snippet (so it gets padded). Predict, for the model as
written and for the model with `lengths=` removed (and the max taken over every step):

  * does the padded copy get the same scores as the snippet alone?

(Answer: with `lengths=` and the mask, yes, to float32 rounding: the forward direction stops
at the snippet's end and the backward direction starts there. Without them, no: the
<pad> embedding is zero, but the GRU still updates its state on a zero input (biases, and
W_hh h), the backward direction reads all the pads *before* the real words, and the max sees
the padded steps. The scores then depend on what else is in the batch.)

The model is the tutorial's (smaller and untrained: the effect is a property of the
architecture, not of training), on snippets of the Rotten Tomatoes validation split.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.data import Vocab, basic_english_tokenize, load_rotten_tomatoes, pad_batch
from minigrad.utils.tutorial import QUICK, banner

banner("05 sentiment, exercise 1: what lengths= buys")
mg.manual_seed(0)
train, val, _ = load_rotten_tomatoes()
# quick mode: the vocabulary of the first 2,000 training snippets (the same code, faster)
vocab = Vocab((basic_english_tokenize(t) for t, _ in train[: 2000 if QUICK else None]),
              min_freq=2)
encoded = [vocab.encode(basic_english_tokenize(t)) for t, _ in val]
order = np.argsort([len(x) for x in encoded])
short, long_ = encoded[order[len(order) // 4]], encoded[order[-1]]  # a short and the longest
print(f"short snippet ({len(short)} tokens): {' '.join(vocab.lookup_tokens(short))}")
print(f"batched beside one of {len(long_)} tokens: {len(long_) - len(short)} pads added")


class SentimentRNN(nn.Module):
    """Embedding -> bidirectional GRU -> max over time -> Linear, as in the tutorial."""

    def __init__(self, vocab_size, dim=32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.rnn = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * dim, 2)

    def forward(self, ids, lengths, use_lengths=True):
        if not use_lengths:  # the change: no lengths, and the max over every step
            o, _ = self.rnn(self.embed(ids))
            return self.out(o.amax(1))
        o, _ = self.rnn(self.embed(ids), lengths=lengths)
        pad = np.arange(ids.shape[1])[None, :, None] >= np.asarray(lengths)[:, None, None]
        return self.out((o + mg.tensor(pad * -1e4, dtype=o.dtype)).amax(1))


model = SentimentRNN(len(vocab))
model.eval()
alone_ids, alone_len = pad_batch([short])
batch_ids, batch_len = pad_batch([short, long_])
diffs = {}
with mg.no_grad():
    for use_lengths in (True, False):
        alone = model(mg.tensor(alone_ids), alone_len, use_lengths).numpy()[0]
        padded = model(mg.tensor(batch_ids), batch_len, use_lengths).numpy()[0]
        diffs[use_lengths] = np.abs(alone - padded).max()
        print(f"{'with' if use_lengths else 'without'} lengths=: scores alone {alone.round(4)}, "
              f"padded {padded.round(4)}, max difference {diffs[use_lengths]:.1e}")

# which direction is hurt? Without lengths=, compare the GRU outputs at the real steps only
n, dim = len(short), model.rnn.hidden_size
with mg.no_grad():
    o_alone = model.rnn(model.embed(mg.tensor(alone_ids)))[0].numpy()[0]
    o_padded = model.rnn(model.embed(mg.tensor(batch_ids)))[0].numpy()[0, :n]
hurt = {d: float(np.abs(o_alone[:, sl] - o_padded[:, sl]).max())
        for d, sl in [("forward", slice(0, dim)), ("backward", slice(dim, 2 * dim))]}
print(f"without lengths=, outputs at the {n} real steps change by: forward direction "
      f"{hurt['forward']:.1e}, backward direction {hurt['backward']:.1e} (it read the pads first)")

assert hurt["forward"] < 1e-6 and hurt["backward"] > 1e-3
assert diffs[True] < 1e-5, "with lengths= the padding must not change the scores"
assert diffs[False] > 1e-3, "without lengths= the padding was expected to change the scores"
print("Prediction confirmed: with lengths= a snippet's scores do not depend on its batch.")
