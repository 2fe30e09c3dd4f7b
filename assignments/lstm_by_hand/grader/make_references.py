"""Record the grader's reference files (``references/*.npz``) from ``solution/lstm.py``.

    python assignments/lstm_by_hand/grader/make_references.py

The inputs are seeded, so running it again writes the same values. Each file holds one
function's inputs (replayed as NumPy arrays) and the solution's outputs, in minigrad's
reference format (:func:`minigrad.testing.write_reference`). The grader also checks every
submission against minigrad's ``nn.LSTMCell``, ``nn.LSTM`` and autograd directly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minigrad.testing import load_submission, write_reference

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "references"
SOLUTION = HERE.parent / "solution" / "lstm.py"
SEED = 20261129
B, IN, H, T = 3, 4, 5, 6


def cases() -> dict[str, dict[str, np.ndarray]]:
    """Reference name (= the solution's function) -> its named inputs."""
    rng = np.random.default_rng(SEED)
    k = 1 / np.sqrt(H)  # PyTorch's init scale for the weights

    def weights() -> dict[str, np.ndarray]:
        return {"W_ih": rng.uniform(-k, k, (4 * H, IN)),
                "W_hh": rng.uniform(-k, k, (4 * H, H)),
                "b_ih": rng.uniform(-k, k, 4 * H), "b_hh": rng.uniform(-k, k, 4 * H)}

    def state(*lead: int) -> dict[str, np.ndarray]:
        return {"x" if not lead else "xs": rng.standard_normal((*lead, B, IN)),
                "h_prev" if not lead else "h0": rng.uniform(-1, 1, (B, H)),
                "c_prev" if not lead else "c0": rng.standard_normal((B, H))}

    return {"lstm_step": {**state(), **weights()},
            "lstm_step_backward": {"dh": rng.standard_normal((B, H)),
                                   "dc": rng.standard_normal((B, H)), **state(), **weights()},
            "lstm_forward": {**state(T), **weights()},
            "lstm_backward": {"dhs": rng.standard_normal((T, B, H)),
                              "dc_T": rng.standard_normal((B, H)), **state(T), **weights()}}


def main() -> None:
    solution = load_submission(SOLUTION, module="lstm.py")
    if isinstance(solution, BaseException):
        raise solution
    REFERENCES.mkdir(exist_ok=True)
    for name, inputs in cases().items():
        out = getattr(solution, name)(**inputs)
        write_reference(REFERENCES / f"{name}.npz", inputs, out,
                        input_kinds={k: "array" for k in inputs},
                        meta={"producer": "solution/lstm.py", "seed": SEED})
        print(f"wrote {REFERENCES / name}.npz")


if __name__ == "__main__":
    main()
