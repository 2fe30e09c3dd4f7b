"""Write the end-to-end training fixture: Embedding -> LSTM -> Linear, 5 steps per optimizer.

Run from the repository root (needs ``torch==2.13.0``; the test does not)::

    PYTHONPATH=$PWD python tests/reference/generate_train.py

Model: ``Embedding(20, 8) -> LSTM(8, 16) -> Linear(16, 3)`` on the last hidden state, float64,
cross-entropy loss, ``clip_grad_norm_(max_norm=1.0)`` before every ``optimizer.step()``.
Every optimizer starts from the same torch-initialised weights and sees the same 5 batches.

``fixtures/train_float64.npz`` is a bundle of ``minigrad.testing`` references
(:func:`minigrad.testing.save_references`):

    data      inputs only: init_<param>, the starting weights (``<param>`` is PyTorch's name
              with ``.`` as ``_``; meta ``parameters`` maps PyTorch's names, in order, to
              them); tokens<k>, targets<k>: batch k, int64 (T, B) token ids and (B,) labels
    <case>    one per optimizer, meta ``case``: {"name", "optimizer", "kwargs"}; outputs
              losses (5,): the loss of each step, before the update; norms (5,): the total
              gradient norm returned by clip_grad_norm_; final_<param>: the weights after
              the 5 steps
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # minigrad, from the repo

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
VOCAB, EMB, HIDDEN, CLASSES = 20, 8, 16, 3
SEQ_LEN, BATCH, N_STEPS = 6, 4, 5

CASES: list[dict[str, Any]] = [
    {"name": "sgd_nesterov", "optimizer": "SGD",
     "kwargs": {"lr": 0.5, "momentum": 0.9, "nesterov": True}},
    {"name": "adam", "optimizer": "Adam", "kwargs": {"lr": 0.01}},
    {"name": "adamw", "optimizer": "AdamW", "kwargs": {"lr": 0.01, "weight_decay": 0.1}},
    {"name": "rmsprop_centered_momentum", "optimizer": "RMSprop",
     "kwargs": {"lr": 0.01, "momentum": 0.9, "centered": True}},
    {"name": "adagrad", "optimizer": "Adagrad", "kwargs": {"lr": 0.1}},
]


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(VOCAB, EMB)
        self.lstm = torch.nn.LSTM(EMB, HIDDEN)
        self.fc = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(self.emb(tokens))
        return self.fc(h_n[-1])


def _ident(name: str) -> str:
    """A parameter's name as part of an input name, ``lstm.weight_ih_l0`` -> ``lstm_weight_ih_l0``
    (the names of a dict of inputs must be identifiers)."""
    return name.replace(".", "_")


def generate(out_dir: Path = FIXTURE_DIR) -> Path:
    from minigrad.testing import Reference, save_references, write_reference

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)
    init = {k: v.detach().numpy().copy() for k, v in Model().double().state_dict().items()}
    rng = np.random.default_rng(7)
    data: dict[str, np.ndarray] = {f"init_{_ident(k)}": v for k, v in init.items()}
    for k in range(N_STEPS):
        data[f"tokens{k}"] = rng.integers(0, VOCAB, size=(SEQ_LEN, BATCH), dtype=np.int64)
        data[f"targets{k}"] = rng.integers(0, CLASSES, size=(BATCH,), dtype=np.int64)
    refs: dict[str, Reference] = {"data": write_reference(
        None, data, {}, meta={"parameters": {k: f"init_{_ident(k)}" for k in init},
                              "steps": N_STEPS})}

    for case in CASES:
        model = Model().double()
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in init.items()})
        opt = getattr(torch.optim, case["optimizer"])(model.parameters(), foreach=False,
                                                      **case["kwargs"])
        losses, norms = [], []
        for k in range(N_STEPS):
            opt.zero_grad()
            logits = model(torch.from_numpy(data[f"tokens{k}"]))
            loss = torch.nn.functional.cross_entropy(
                logits, torch.from_numpy(data[f"targets{k}"]))
            loss.backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
            opt.step()
            losses.append(float(loss.detach()))
        outputs = {"losses": np.array(losses), "norms": np.array(norms)}
        outputs.update({f"final_{_ident(name)}": v.detach().numpy().copy()
                        for name, v in model.state_dict().items()})
        refs[case["name"]] = write_reference(None, {}, outputs, meta={"case": case})

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "train_float64.npz"
    save_references(refs, path, meta={"torch_version": torch.__version__,
                                      "numpy_version": np.__version__})
    return path


if __name__ == "__main__":
    p = generate()
    print(f"{p}: {p.stat().st_size} bytes")
