"""Tutorial 6, exercise 2 (predict): what the temperature does to a distribution.

Sampling uses p_τ = softmax(z / τ). Predict, before running:

  (a) the entropy of p_τ (in bits) as τ -> 0, at τ = 1, and as τ -> ∞;
  (b) the validation bits per character of the model *rescaled* by τ, i.e. scored with p_τ
      instead of p, for τ = 0.5, 1 and 2: which τ gives the lowest bpc?

(Answers: (a) entropy grows with τ, from 0 (all mass on the argmax) to log2 V (uniform);
(b) τ = 1, or close to it, for a model fitted by maximum likelihood: sharpening (τ < 1) is
punished every time the model's top choice is wrong, flattening (τ > 1) wastes probability
on implausible characters. Temperature is a knob for *sampling*, not a better model.)

The model is a character bigram (add-one smoothed counts of the training text, scores
z = log p), so the exercise runs in seconds; the same holds for the tutorial's LSTM.
"""

import math

import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import Vocab, load_shakespeare
from minigrad.utils.tutorial import QUICK, banner, plt, savefig

banner("06 char LM, exercise 2: temperature")
corpus = load_shakespeare()
train_text = corpus.train[:300_000] if QUICK else corpus.train
val_text = corpus.validation[:20_000] if QUICK else corpus.validation
vocab = Vocab([train_text])  # its characters are the tokens
V = len(vocab)
tr, va = np.array(vocab.encode(train_text)), np.array(vocab.encode(val_text))
pairs = np.ones((V, V))
np.add.at(pairs, (tr[:-1], tr[1:]), 1)
z = mg.tensor(np.log(pairs / pairs.sum(1, keepdims=True)))  # scores after each character

taus = [0.05, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0, 50.0]
after = vocab.encode(["e"])[0]  # the distribution of the character after "e"
entropy, bpc = [], []
for tau in taus:
    p = F.softmax(z[after] / tau, -1).numpy()
    entropy.append(float(-(p * np.log2(np.maximum(p, 1e-300))).sum()))
    nats = F.cross_entropy(z[mg.tensor(va[:-1])] / tau, mg.tensor(va[1:])).item()
    bpc.append(nats / math.log(2))
    print(f"tau = {tau:5.2f}: entropy after 'e' {entropy[-1]:.3f} bits   "
          f"validation {bpc[-1]:.3f} bpc")
print(f"(log2 V = {math.log2(V):.3f} bits: the uniform distribution)")

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.semilogx(taus, entropy, "o-", label="entropy after 'e' (bits)")
ax.semilogx(taus, bpc, "s-", label="validation bpc of p_τ")
ax.axhline(math.log2(V), color="k", ls=":", label="log2 V")
ax.set_xlabel("temperature τ")
ax.legend()
savefig(fig, "06_ex2_temperature.png")

assert all(a < b for a, b in zip(entropy, entropy[1:])), "entropy should grow with tau"
assert entropy[0] < 0.05 and abs(entropy[-1] - math.log2(V)) < 0.1  # the two limits
i1 = taus.index(1.0)
assert bpc[i1] < bpc[taus.index(0.5)] and bpc[i1] < bpc[taus.index(2.0)]
print("Predictions confirmed: entropy rises from 0 to log2 V, and tau = 1 scores best.")
