"""Tutorial 5, exercise 3 (derive and implement): the gradient of the bag-of-words baseline.

The baseline scores a snippet x with distinct word ids S(x) by z_c(x) = b_c + sum_{w in S(x)}
θ_{w,c}, and is trained on the mean cross-entropy over a batch of N snippets,
L = -(1/N) sum_n log softmax(z(x_n))_{y_n}.

1. Derive dL/dθ and dL/db. (Answer: with p_n = softmax(z(x_n)) and e_y the one-hot vector
   of the label, dL/dz_n = (p_n - e_{y_n}) / N; each θ_w receives the sum of dL/dz_n over the
   snippets that contain w, and b the sum over all of them:
   dL/dθ_w = sum_{n: w in S(x_n)} (p_n - e_{y_n}) / N, dL/db = sum_n (p_n - e_{y_n}) / N.
   The <pad> row gets nothing: padding_idx=0.)
2. Implement it in NumPy (np.add.at scatters the rows) and check it against autograd through
   `nn.Embedding(..., padding_idx=0)` and `F.cross_entropy`, in float64, on a real batch.
3. Take a few plain gradient-descent steps with your gradient and with autograd's, and check
   that the two models stay equal.
"""


import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.data import Vocab, basic_english_tokenize, load_rotten_tomatoes, pad_batch
from minigrad.testing import assert_close
from minigrad.utils.tutorial import QUICK, banner

banner("05 sentiment, exercise 3: the bag-of-words gradient by hand")
train, _, _ = load_rotten_tomatoes()
# quick mode: the vocabulary of the first 2,000 training snippets (the same code, faster)
vocab = Vocab((basic_english_tokenize(t) for t, _ in train[: 2000 if QUICK else None]),
              min_freq=2)
N = 64 if QUICK else 512
batch = train[:N]
words = [sorted(set(vocab.encode(basic_english_tokenize(t)))) or [1] for t, _ in batch]
ids, _ = pad_batch(words)  # (N, T), 0 = <pad>
labels = np.array([y for _, y in batch])

mg.manual_seed(0)
theta = nn.Embedding(len(vocab), 2, padding_idx=0, dtype=mg.float64)
b = nn.Parameter(mg.zeros(2, dtype=mg.float64))


def hand_loss_and_grads(theta_np, b_np):
    z = theta_np[ids].sum(1) + b_np  # the <pad> row of theta is 0
    z = z - z.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    loss = -np.log(p[np.arange(N), labels]).mean()
    d_z = p.copy()
    d_z[np.arange(N), labels] -= 1
    d_z /= N  # (N, 2): dL/dz_n
    d_theta = np.zeros_like(theta_np)
    for n in range(N):  # each distinct word of snippet n receives dL/dz_n
        np.add.at(d_theta, ids[n][ids[n] != 0], d_z[n])
    return loss, d_theta, d_z.sum(0)


theta_np, b_np = theta.weight.detach().numpy().copy(), b.detach().numpy().copy()
lr = 0.5
for step in range(5):
    loss = F.cross_entropy(theta(mg.tensor(ids)).sum(1) + b, mg.tensor(labels))
    theta.weight.grad, b.grad = None, None
    loss.backward()
    hand_loss, d_theta, d_b = hand_loss_and_grads(theta_np, b_np)
    assert_close(hand_loss, loss.item(), rtol=1e-12, atol=1e-12, name="loss")
    assert_close(d_theta, theta.weight.grad.numpy(), rtol=1e-12, atol=1e-14, name="dL/dtheta")
    assert_close(d_b, b.grad.numpy(), rtol=1e-12, atol=1e-14, name="dL/db")
    if step == 0:
        used = int((np.abs(d_theta).sum(1) > 0).sum())
        print(f"{N} snippets: {used} of {len(vocab)} rows of theta get a gradient; "
              f"max |hand - autograd| = {np.abs(d_theta - theta.weight.grad.numpy()).max():.1e}")
    with mg.no_grad():  # the same gradient step, both ways
        theta.weight.data[...] -= lr * theta.weight.grad.data
        b.data[...] -= lr * b.grad.data
    theta_np -= lr * d_theta
    b_np -= lr * d_b
    print(f"step {step + 1}: loss autograd {loss.item():.10f}   by hand {hand_loss:.10f}")

assert_close(theta_np, theta.weight.detach().numpy(), rtol=1e-12, atol=1e-14,
             name="theta after 5 steps")
print("The hand-derived gradient equals autograd's, and so do five training steps.")
