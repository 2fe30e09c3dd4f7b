"""End to end against PyTorch: Embedding -> LSTM -> Linear trained 5 steps per optimizer.

Weights, batches and the expected trajectory come from ``tests/reference/generate_train.py``
(``fixtures/train_float64.npz``); torch is not needed here. Each step: zero_grad, forward,
cross-entropy, backward, ``clip_grad_norm_(max_norm=1.0)``, ``optimizer.step()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import backend, nn, optim
from minigrad.nn.utils import clip_grad_norm_
from minigrad.testing import assert_close

FIXTURE = Path(__file__).resolve().parent / "reference" / "fixtures" / "train_float64.npz"
with np.load(FIXTURE, allow_pickle=False) as _z:
    DATA = {k: _z[k] for k in _z.files}
CASES = json.loads(str(DATA["__cases__"]))
N_STEPS = sum(1 for k in DATA if k.startswith("tokens"))
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
    init = {k[len("init/"):]: v for k, v in DATA.items() if k.startswith("init/")}
    model.load_state_dict(init)
    opt = getattr(optim, case["optimizer"])(model.parameters(), **case["kwargs"])
    for k in range(N_STEPS):
        opt.zero_grad()
        logits = model(mg.tensor(DATA[f"tokens{k}"], device=device))
        loss = F.cross_entropy(logits, mg.tensor(DATA[f"targets{k}"], device=device))
        loss.backward()
        norm = clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        assert_close(loss.item(), DATA[f"{case['name']}/losses"][k], rtol=RTOL)
        assert_close(norm.item(), DATA[f"{case['name']}/norms"][k], rtol=RTOL)

    final = model.state_dict()
    assert sorted(final) == sorted(init)
    for name, value in final.items():
        assert value.dtype == mg.float64 and value.device == mg.device(device)
        assert_close(backend.to_host(value.data),
                                   DATA[f"{case['name']}/final/{name}"], rtol=RTOL,
                                   atol=1e-12, name=f"{case['name']}: {name}")
