"""Tutorial 10, exercise 2: teacher forcing runs all output steps in one call.

With teacher forcing the decoder's input at step k is the *true* character y_{k-1}, known in
advance for every k. So the whole input sequence exists before the decoder starts, and one
GRU call over 10 steps computes exactly what 10 calls of one step each compute when we carry
the state by hand. Greedy decoding cannot do this: its input at step k is its own output at
step k - 1, which does not exist until step k - 1 has run.

This script builds a decoder like tutorial 10's (embedding, GRU, linear read-out), gives it
a random start state and a teacher-forced input, and compares the two ways in float64.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils.tutorial import QUICK, banner

banner("10 seq2seq, exercise 2: teacher forcing is parallel")
mg.manual_seed(2)
V, E, H, B, K = 13, 8, 16 if QUICK else 64, 5, 10
F64 = mg.float64
embed = nn.Embedding(V, E, dtype=F64)
decoder = nn.GRU(E, H, batch_first=True, dtype=F64)
out = nn.Linear(H, V, dtype=F64)

rng = np.random.default_rng(2)
y_in = rng.integers(V, size=(B, K))  # ^ then the true answer shifted right by one
h0 = mg.tensor(rng.normal(size=(1, B, H)), dtype=F64)  # the encoder's hand-over

with mg.no_grad():
    o, _ = decoder(embed(mg.tensor(y_in)), h0)  # all K steps in one call
    scores_once = out(o).numpy()  # (B, K, V)
    h, steps = h0, []
    for k in range(K):  # one step at a time, the state carried by hand
        o_k, h = decoder(embed(mg.tensor(y_in[:, k:k + 1])), h)
        steps.append(out(o_k).numpy())
    scores_loop = np.concatenate(steps, axis=1)
err = np.abs(scores_once - scores_loop).max()
print(f"decoder scores, one call over {K} steps vs {K} calls of one step: largest difference "
      f"{err:.1e}")
assert err < 1e-12
