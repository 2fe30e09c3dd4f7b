"""End to end against PyTorch: Embedding -> LSTM -> Linear trained 5 steps per optimizer.

Weights, batches and the expected trajectory come from ``tests/reference/generate_train.py``
(``fixtures/train_float64.npz``, a bundle of ``mg.testing`` references); torch is not needed
here. Each step: zero_grad, forward,
cross-entropy, backward, ``clip_grad_norm_(max_norm=1.0)``, ``optimizer.step()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.nn.utils import clip_grad_norm_
from minigrad.testing import assert_close, load_references

FIXTURE = Path(__file__).resolve().parent / "reference" / "fixtures" / "train_float64.npz"
REFS = load_references(FIXTURE)
DATA = REFS["data"].inputs  # starting weights and batches, shared by every case
PARAMS = REFS["data"].meta["parameters"]  # the model's parameter name -> its input's name
N_STEPS = REFS["data"].meta["steps"]
CASES = [ref.meta["case"] for name, ref in REFS.items() if name != "data"]
RTOL = 1e-9


class Model(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 16)
        self.fc = nn.Linear(16, 3)

    def forward(self, tokens: mg.Tensor) -> mg.Tensor:
        _, (h_n, _) = self.lstm(self.emb(tokens))
        return self.fc(h_n[-1])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_training_matches_pytorch(case: dict[str, Any], device: str) -> None:
    model = Model().double().to(device)
    init = {k: DATA[v] for k, v in PARAMS.items()}
    want = REFS[case["name"]].outputs
    model.load_state_dict(init)
    opt = getattr(optim, case["optimizer"])(model.parameters(), **case["kwargs"])
    for k in range(N_STEPS):
        opt.zero_grad()
        logits = model(mg.tensor(DATA[f"tokens{k}"], device=device))
        loss = F.cross_entropy(logits, mg.tensor(DATA[f"targets{k}"], device=device))
        loss.backward()
        norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        assert_close(loss.item(), want["losses"][k], rtol=RTOL)
        assert_close(norm.item(), want["norms"][k], rtol=RTOL)

    final = model.state_dict()
    assert sorted(final) == sorted(init)
    for name, value in final.items():
        assert value.dtype == mg.float64 and value.device == mg.device(device)
        final_key = "final_" + PARAMS[name].removeprefix("init_")
        assert_close(value, want[final_key], rtol=RTOL, atol=1e-12,
                     name=f"{case['name']}: {name}")
