"""Record the grader's reference files (``references/*.npz``) from minigrad itself.

    python assignments/build_engine/grader/make_references.py

Students build their own engine; it is graded against minigrad's results for the same
operations (values and gradients, through :func:`minigrad.testing.record_reference`), the same
RNN loss, and the same training run on sunspots. The data windows and initial parameters come
from the solution's ``sunspot_windows`` and ``init_params`` (given code in the template too).
The inputs are seeded, so running this again writes the same values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

import minigrad as mg
from minigrad.testing import load_submission, record_reference, write_reference

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "references"
SOLUTION = HERE.parent / "solution" / "engine.py"
SEED = 20261201
TRAIN = {"steps": 60, "lr": 0.1, "hidden_size": 8, "seed": 0}  # train_rnn's defaults

# name -> (operation, shapes of its inputs); the add cases also grade stage 1 (sum_to_shape)
OPS: dict[str, tuple[Callable[..., Any], list[tuple[int, ...]]]] = {
    "add_rows": (lambda a, b: a + b, [(3, 4), (4,)]),
    "add_prepend": (lambda a, b: a + b, [(2, 1, 3), (4, 3)]),
    "add_outer": (lambda a, b: a + b, [(5, 1), (1, 6)]),
    "mul": (lambda a, b: a * b, [(2, 1, 3), (4, 3)]),
    "matmul": (lambda a, b: a @ b, [(3, 4), (4, 2)]),
    "sum": (lambda a: a.sum(), [(3, 4)]),
    "tanh": (lambda a: a.tanh(), [(3, 4)]),
    "sigmoid": (lambda a: a.sigmoid(), [(3, 4)]),
}


def rnn_loss(xs: np.ndarray, ys: np.ndarray, **params: mg.Tensor) -> mg.Tensor:
    """The assignment's RNN loss, with minigrad's tensors."""
    T, B, _ = xs.shape
    h = mg.zeros(B, params["W_hh"].shape[0], dtype=mg.float64)
    total = mg.zeros((), dtype=mg.float64)
    for t in range(T):
        x = mg.tensor(xs[t])
        h = (x @ params["W_ih"].T + params["b_ih"] + h @ params["W_hh"].T
             + params["b_hh"]).tanh()
        diff = h @ params["W_hy"].T + params["b_y"] - mg.tensor(ys[t])
        total = total + (diff * diff).sum()
    return total / (T * B)


def main() -> None:
    solution = load_submission(SOLUTION, module="engine.py")
    if isinstance(solution, BaseException):
        raise solution
    REFERENCES.mkdir(exist_ok=True)
    meta = {"producer": f"minigrad {mg.__version__}", "seed": SEED}
    rng = np.random.default_rng(SEED)
    for name, (op, shapes) in OPS.items():
        scale = 3.0 if name in ("tanh", "sigmoid") else 1.0  # reach the saturated tails
        inputs = [mg.tensor(rng.standard_normal(s) * scale, requires_grad=True) for s in shapes]
        record_reference(op, inputs, REFERENCES / f"{name}.npz", seed=SEED, meta=meta)
        print(f"wrote {REFERENCES / name}.npz")

    xs, ys = solution.sunspot_windows()
    params = {n: mg.tensor(v, requires_grad=True)
              for n, v in solution.init_params(TRAIN["hidden_size"], seed=1).items()}
    record_reference(rnn_loss, {"xs": xs, "ys": ys, **params}, REFERENCES / "rnn_loss.npz",
                     seed=SEED, meta=meta)
    print(f"wrote {REFERENCES / 'rnn_loss'}.npz")

    # the training run of train_rnn, with minigrad's autograd and SGD
    params = {n: mg.nn.Parameter(mg.tensor(v)) for n, v in solution.init_params(
        TRAIN["hidden_size"], TRAIN["seed"]).items()}
    opt = mg.optim.SGD(list(params.values()), lr=TRAIN["lr"])
    losses = []
    for _ in range(TRAIN["steps"]):
        opt.zero_grad()
        loss = rnn_loss(xs, ys, **params)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    write_reference(REFERENCES / "train_rnn.npz", TRAIN, np.array(losses), meta=meta)
    print(f"wrote {REFERENCES / 'train_rnn'}.npz (loss {losses[0]:.4f} -> {losses[-1]:.4f})")


if __name__ == "__main__":
    main()
