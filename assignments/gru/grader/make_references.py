"""Write the grader's reference files (``references/*.npz``).

From the repository root::

    pip install torch==2.13.0                      # the pinned reference build, never another
    python -m assignments.gru.grader.make_references             # values from PyTorch
    python -m assignments.gru.grader.make_references --from-solution   # no torch needed

By default the values come from PyTorch (``torch.tanh``, ``torch.nn.GRUCell``,
``torch.nn.GRU``), in float64; ``--from-solution`` records them from ``solution/gru.py``
with :func:`minigrad.testing.record_reference` instead (for a new assignment without a PyTorch
counterpart). The inputs are the same either way (seeded). The files are small (a few KB);
commit them.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import minigrad as mg
from minigrad.testing import record_reference, write_reference
from minigrad.testing.grading import load_submission

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "references"
SOLUTION = HERE.parent / "solution" / "gru.py"
SEED = 20260101
B, IN, H, T = 3, 4, 5, 6
TANH_X = np.array([[-800.0, -400.0, -30.0, -3.0, -1.0, -0.5],
                   [-1e-8, 0.0, 1e-8, 0.25, 0.5, 1.0],
                   [1.5, 2.0, 3.0, 5.0, 19.0, 30.0],
                   [400.0, 800.0, -0.75, 0.75, -2.5, 2.5]])


def inputs(rng: np.random.Generator, bias: bool, seq: bool) -> dict[str, np.ndarray]:
    """The named inputs of gru_cell (or gru_sequence), float64, PyTorch's init scale."""
    k = 1 / np.sqrt(H)
    values = {"xs" if seq else "x": rng.standard_normal((T, B, IN) if seq else (B, IN)),
              "h0" if seq else "h": rng.standard_normal((B, H)) * 0.5,
              "weight_ih": rng.uniform(-k, k, (3 * H, IN)),
              "weight_hh": rng.uniform(-k, k, (3 * H, H))}
    if bias:
        values["bias_ih"] = rng.uniform(-k, k, 3 * H)
        values["bias_hh"] = rng.uniform(-k, k, 3 * H)
    return values


def cases() -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    return {"tanh": {"x": TANH_X},
            "gru_cell": inputs(rng, bias=True, seq=False),
            "gru_cell_nobias": inputs(rng, bias=False, seq=False),
            "gru_sequence": inputs(rng, bias=True, seq=True)}


def upstream(rng: np.random.Generator, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    return [rng.standard_normal(s) for s in shapes]


def from_torch() -> None:
    import torch

    torch.set_num_threads(1)
    meta = {"producer": f"torch {torch.__version__}", "seed": SEED}
    rng = np.random.default_rng(SEED + 1)
    for name, values in cases().items():
        ts = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in values.items()}
        leaves = dict(ts)  # where each input's gradient ends up
        if name == "tanh":
            outs = [torch.tanh(ts["x"])]
        else:
            if name.startswith("gru_cell"):
                module = torch.nn.GRUCell(IN, H, bias="bias_ih" in ts, dtype=torch.float64)
                suffix = ""
            else:
                module = torch.nn.GRU(IN, H, dtype=torch.float64)
                suffix = "_l0"
            with torch.no_grad():  # the module's parameters take the recorded values
                for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    if k in ts:
                        leaves[k] = getattr(module, k + suffix)
                        leaves[k].copy_(ts[k])
            if suffix:
                out, h_n = module(ts["xs"], ts["h0"].unsqueeze(0))
                outs = [out, h_n.squeeze(0)]
            else:
                outs = [module(ts["x"], ts["h"])]
        gouts = upstream(rng, *[tuple(o.shape) for o in outs])
        torch.autograd.backward(outs, [torch.from_numpy(g) for g in gouts])
        grads = {k: leaves[k].grad.numpy() for k in ts}
        single = len(outs) == 1
        write_reference(REFERENCES / f"{name}.npz",
                        [values["x"]] if name == "tanh" else values,
                        outs[0].detach().numpy() if single else
                        tuple(o.detach().numpy() for o in outs),
                        grads={0: grads["x"]} if name == "tanh" else grads,
                        grad_outputs=gouts[0] if single else tuple(gouts), meta=meta)
        print(f"wrote {REFERENCES / name}.npz")


def from_solution() -> None:
    sol = load_submission(SOLUTION)
    if isinstance(sol, BaseException):
        raise sol
    rng = np.random.default_rng(SEED + 1)
    for name, values in cases().items():
        ts = {k: mg.tensor(v, dtype=mg.float64, requires_grad=True) for k, v in values.items()}
        fn = {"tanh": sol.tanh, "gru_cell": sol.gru_cell, "gru_cell_nobias": sol.gru_cell,
              "gru_sequence": sol.gru_sequence}[name]
        outs = fn(**ts)
        outs = [outs] if isinstance(outs, mg.Tensor) else list(outs)
        gouts = upstream(rng, *[tuple(o.shape) for o in outs])
        record_reference(fn, [ts["x"]] if name == "tanh" else ts, REFERENCES / f"{name}.npz",
                         grad_outputs=gouts[0] if len(gouts) == 1 else tuple(gouts),
                         meta={"producer": "solution/gru.py", "seed": SEED})
        print(f"wrote {REFERENCES / name}.npz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-solution", action="store_true",
                        help="record from solution/gru.py instead of PyTorch")
    args = parser.parse_args()
    REFERENCES.mkdir(exist_ok=True)
    from_solution() if args.from_solution else from_torch()


if __name__ == "__main__":
    main()
