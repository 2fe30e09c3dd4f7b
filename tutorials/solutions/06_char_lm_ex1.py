"""Tutorial 6, exercise 1 (compute): bits per character, nats, and perplexity.

Language models are reported in several units; convert between them and check the
conversions on real numbers.

  * cross-entropy in nats: H_e = -(1/N) sum_n ln p(x_n | x_<n)  (what F.cross_entropy returns)
  * bits per character:   bpc = H_e / ln 2
  * per-character perplexity: PPL_char = 2^bpc = e^{H_e} (the "effective number of equally
    likely next characters")
  * per-word perplexity: with N characters making W words (spaces and newlines counted with
    the characters), the same total information spread over words: PPL_word = 2^{bpc N / W}.

1. Build a bigram model p(x_n | x_{n-1}) from add-one smoothed counts of character pairs in
   the training text (the tutorial's unigram baseline, with one character of context).
2. Compute its validation cost in all four units, with NumPy, and the nats once more with
   `F.cross_entropy` given log p as the scores (softmax(log p) = p).
3. Compare with the unigram model, and with the uniform model, whose bpc is log2 V.
"""

import math

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import Vocab, load_shakespeare
from minigrad.utils.tutorial import QUICK, banner

banner("06 char LM, exercise 1: bpc, nats and perplexity")
corpus = load_shakespeare()
train_text = corpus.train[:200_000] if QUICK else corpus.train
val_text = corpus.validation[:20_000] if QUICK else corpus.validation
vocab = Vocab([train_text])  # its characters are the tokens
V = len(vocab)
tr, va = np.array(vocab.encode(train_text)), np.array(vocab.encode(val_text))

unigram = np.bincount(tr, minlength=V) + 1.0
unigram /= unigram.sum()
pairs = np.ones((V, V))  # add-one smoothing: no pair has probability 0
np.add.at(pairs, (tr[:-1], tr[1:]), 1)
bigram = pairs / pairs.sum(1, keepdims=True)  # row a: p(next | previous = a)

n_words = len(val_text.split())
models = {"uniform": np.full(len(va) - 1, 1 / V), "unigram": unigram[va[1:]],
          "bigram": bigram[va[:-1], va[1:]]}
print(f"validation: {len(va) - 1:,} characters, {n_words:,} words "
      f"({(len(va) - 1) / n_words:.2f} characters per word)")
bpc = {}
for name, p in models.items():
    nats = -np.log(p).mean()
    bpc[name] = nats / math.log(2)
    ppl_char, ppl_word = 2 ** bpc[name], 2 ** (bpc[name] * (len(va) - 1) / n_words)
    print(f"{name:8s} {nats:.4f} nats  {bpc[name]:.4f} bpc  perplexity per character "
          f"{ppl_char:6.2f}  per word {ppl_word:12,.0f}")

# the same nats through F.cross_entropy: scores log p, targets the next characters
scores = mg.tensor(np.log(bigram[va[:-1]]), dtype=mg.float64)  # (N, V)
nats_mg = F.cross_entropy(scores, mg.tensor(va[1:])).item()
print(f"F.cross_entropy(log p) = {nats_mg:.6f} nats = {nats_mg / math.log(2):.6f} bpc")

assert abs(nats_mg / math.log(2) - bpc["bigram"]) < 1e-10  # the units, converted right
assert abs(bpc["uniform"] - math.log2(V)) < 1e-10
assert bpc["bigram"] < bpc["unigram"] < bpc["uniform"]  # context helps
print("One character of context already saves "
      f"{bpc['unigram'] - bpc['bigram']:.2f} bits per character over the unigram model.")
