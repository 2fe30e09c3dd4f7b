"""Tutorial 6, exercise 3 (predict, then measure): where truncated BPTT cuts the gradient.

The tutorial trains with windows of 64 characters and detaches the LSTM state between
windows. Run an LSTM language model over two consecutive windows of real text, and take the
loss of the *last* character only. Predict the gradient of that loss with respect to the
embedded inputs e_t of the first window:

  (a) when the state is detached between the windows, as `tbptt` does;
  (b) when it is not (full BPTT over both windows).

(Answers: (a) exactly zero: the graph of window 2 starts from a constant state. (b) not zero,
but small, and decaying with the distance: the part of the signal truncation throws away,
and the reason why a window of a few dozen characters loses little.)
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import Vocab, load_shakespeare
from minigrad.nn.tbptt import detach_state
from minigrad.utils.tutorial import QUICK, banner

banner("06 char LM, exercise 3: where truncation cuts the gradient")
mg.manual_seed(0)
corpus = load_shakespeare()
vocab = Vocab([corpus.train[: 200_000 if QUICK else None]])  # its characters are the tokens
K, B = (32, 8) if QUICK else (64, 16)  # window length, streams
start = 10_000
ids = np.array(vocab.encode(corpus.train[start : start + B * (2 * K + 1)])).reshape(B, -1)
x, y = mg.tensor(ids[:, : 2 * K]), mg.tensor(ids[:, 2 * K])

embed = nn.Embedding(len(vocab), 16)
lstm = nn.LSTM(16, 64, batch_first=True)
out = nn.Linear(64, len(vocab))
e = embed(x).detach().requires_grad_()  # the embedded inputs, as a leaf we can ask about


def last_char_loss(detach):
    o1, state = lstm(e[:, :K])  # window 1
    if detach:
        state = detach_state(state)  # what tbptt does between windows
    o2, _ = lstm(e[:, K:], state)  # window 2
    return F.cross_entropy(out(o2[:, -1]), y)


for detach in (True, False):
    (g,) = mg.autograd.grad(last_char_loss(detach), [e])
    per_step = np.linalg.norm(g.numpy(), axis=(0, 2))  # ||dL/de_t|| for t = 1..2K
    first, second = per_step[:K], per_step[K:]
    print(f"{'detached' if detach else 'full BPTT'}: ||dL/de_t|| window 1: max "
          f"{first.max():.2e}, at its last step {first[-1]:.2e}; window 2: at its first step "
          f"{second[0]:.2e}, at its last {second[-1]:.2e}")
    if detach:
        assert (first == 0).all(), "detached: window 1 must get no gradient at all"
    else:
        assert first[-1] > 0 and first[0] < second[-1], "full BPTT: a decaying gradient"
        assert first.max() < second.max()
print("Prediction confirmed: truncation zeroes the gradient beyond the window, where full "
      "BPTT has only a fading trickle.")
