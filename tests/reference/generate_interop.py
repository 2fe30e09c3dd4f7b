"""Write the PyTorch fixture for the safetensors interoperability test (tests/test_interop.py).

Run from the repository root (needs torch==2.13.0 and safetensors; the test needs neither
torch nor, when it skips, safetensors)::

    pip install torch==2.13.0 safetensors      # never another torch version
    PYTHONPATH=$PWD python tests/reference/generate_interop.py

It trains nothing: a seeded ``LSTM(3, 4, batch_first=True) + Linear(4, 2)`` model (the same
module names as :class:`tests.test_interop.Model`) is saved with
``safetensors.torch.save_file(model.state_dict(), ...)`` to
``fixtures/interop_lstm_linear.safetensors``, and ``fixtures/interop_lstm_linear.npz`` is a
``minigrad.testing`` reference file (:func:`minigrad.testing.write_reference`) of the call
``model(x)``: input ``x`` (2, 5, 3); outputs ``out`` (2, 5, 2), ``h_n`` and ``c_n`` (1, 2, 4),
all float32, no gradients; meta: the torch version.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # minigrad, from the repo

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NAME = "interop_lstm_linear"


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        out, (h_n, c_n) = self.lstm(x)
        return self.head(out), h_n, c_n


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    model = Model().eval()
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        out, h_n, c_n = model(x)
    FIXTURES.mkdir(exist_ok=True)
    save_file(model.state_dict(), str(FIXTURES / f"{NAME}.safetensors"),
              metadata={"producer": f"torch {torch.__version__}"})
    from minigrad.testing import write_reference

    write_reference(FIXTURES / f"{NAME}.npz", {"x": x.numpy()},
                    {"out": out.numpy(), "h_n": h_n.numpy(), "c_n": c_n.numpy()},
                    meta={"torch_version": torch.__version__})
    print(f"wrote {FIXTURES / NAME}.safetensors and .npz")


if __name__ == "__main__":
    main()
