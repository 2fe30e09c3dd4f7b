"""Tutorial 8, exercise 1 (predict, then check): what must follow the model to the device?

`model.to(device)` moves the parameters. Predict which other lines of the tutorial's
sentiment model and training step must name the device, and what happens if one forgets:

  * the batch: `mg.tensor(ids, device=device)` and the labels likewise;
  * inside `forward`, the padding mask, a tensor built from NumPy:
    `mg.tensor(pad * -1e4, ..., device=o.device)`;
  * not `lengths`: a plain host array of ints, used only to build masks.

(Forgetting the mask's device mixes a CPU tensor with a GPU one, and minigrad refuses with
an error naming both devices, as PyTorch does.)

Then check that device-agnostic code gives the same numbers on both devices: one training
step (forward, backward, clipping, SGD) from the same weights on the same real batch, on
the CPU and on `cuda`. Without a GPU, this script uses minigrad's fake CUDA device
(`MINIGRAD_FAKE_CUDA=1`), which runs the device code path on the CPU and refuses the same
mistakes a real GPU does.
"""

import importlib.util
import os
import sys

if importlib.util.find_spec("cupy") is None:  # no CuPy: the fake device stands in for it
    os.environ.setdefault("MINIGRAD_FAKE_CUDA", "1")
import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import Vocab, basic_english_tokenize, load_rotten_tomatoes, pad_batch
from minigrad.testing import assert_close
from minigrad.utils.tutorial import QUICK, banner

banner("08 GPU, exercise 1: what follows the model to the device")
if not mg.cuda.is_available():
    sys.exit("CuPy is installed but no GPU is usable: run with MINIGRAD_FAKE_CUDA=1")
fake = os.environ.get("MINIGRAD_FAKE_CUDA", "") not in ("", "0")
print("device 'cuda':", "minigrad's fake CUDA device (no GPU here)" if fake else "a real GPU")

train, _, _ = load_rotten_tomatoes()
vocab = Vocab((basic_english_tokenize(t) for t, _ in train), min_freq=2)
batch = train[:32]
ids, lengths = pad_batch([vocab.encode(basic_english_tokenize(t)) for t, _ in batch])
labels = np.array([y for _, y in batch])


class SentimentRNN(nn.Module):
    """The tutorial's model, without dropout so that both devices compute the same thing."""

    def __init__(self, vocab_size, dim, mask_on_device=True):
        super().__init__()
        self.mask_on_device = mask_on_device
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.rnn = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * dim, 2)

    def forward(self, ids, lengths):
        o, _ = self.rnn(self.embed(ids), lengths=lengths)
        pad = np.arange(ids.shape[1])[None, :, None] >= np.asarray(lengths)[:, None, None]
        device = o.device if self.mask_on_device else None  # None: the CPU, the mistake
        m = (o + mg.tensor(pad * -1e4, dtype=o.dtype, device=device)).amax(1)
        return self.out(m)


def train_step(model, device):
    """One step on `device`; returns the loss, the gradients and the new weights (NumPy)."""
    model.to(device)
    # SGD, not the tutorial's Adam: Adam's first step is about lr * sign(g), which would
    # blow a rounding-level difference of a near-zero gradient up to a difference of 2 lr
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss = F.cross_entropy(model(mg.tensor(ids, device=device), lengths),
                           mg.tensor(labels, device=device))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    grads = {k: p.grad.cpu().numpy() for k, p in model.named_parameters()}
    opt.step()
    weights = {k: p.detach().cpu().numpy() for k, p in model.named_parameters()}
    return loss.item(), grads, weights


dim = 16 if QUICK else 64
mg.manual_seed(0)
reference = SentimentRNN(len(vocab), dim)
start = {k: v.numpy().copy() for k, v in reference.state_dict().items()}

# the forgotten device= of the mask: refused, with both devices named
broken = SentimentRNN(len(vocab), dim, mask_on_device=False)
broken.load_state_dict(start)
broken.to("cuda")
try:
    broken(mg.tensor(ids, device="cuda"), lengths)
    raise AssertionError("mixing a CPU mask with cuda outputs should have been refused")
except (RuntimeError, TypeError, ValueError) as e:
    mixed_error = str(e)
print("mask left on the CPU ->", mixed_error.splitlines()[0][:160])

results = {}
for device in ("cpu", "cuda"):
    model = SentimentRNN(len(vocab), dim)
    model.load_state_dict(start)
    results[device] = train_step(model, device)
    print(f"{device:4s}: loss {results[device][0]:.6f}")

(loss_c, grads_c, w_c), (loss_g, grads_g, w_g) = results["cpu"], results["cuda"]
assert "cpu" in mixed_error and "cuda" in mixed_error
assert_close(loss_g, loss_c, rtol=1e-5, atol=1e-6, name="loss, cuda vs cpu")
assert_close(grads_g, grads_c, rtol=1e-4, atol=1e-6, name="gradients, cuda vs cpu")
assert_close(w_g, w_c, rtol=1e-4, atol=1e-6, name="weights after one SGD step, cuda vs cpu")
print("The same code gives the same step on both devices; the forgotten device= is refused.")
