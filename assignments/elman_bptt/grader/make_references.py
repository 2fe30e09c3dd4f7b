"""Record the grader's reference files (``references/*.npz``) from ``solution/elman.py``.

    python assignments/elman_bptt/grader/make_references.py

The inputs are seeded, so running it again writes the same values. Each file holds one
function's inputs (replayed as NumPy arrays) and the solution's outputs, in minigrad's
reference format (:func:`minigrad.testing.write_reference`). The grader also checks every
submission against minigrad's autograd directly, which is what keeps the solution honest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minigrad.testing import load_submission, write_reference

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "references"
SOLUTION = HERE.parent / "solution" / "elman.py"
SEED = 20261128
B, IN, H, T = 3, 4, 5, 6


def cases() -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """Reference name -> (function of the solution, its named inputs)."""
    rng = np.random.default_rng(SEED)
    k = 1 / np.sqrt(H)  # PyTorch's init scale for the weights

    def weights() -> dict[str, np.ndarray]:
        return {"W_ih": rng.uniform(-k, k, (H, IN)), "W_hh": rng.uniform(-k, k, (H, H)),
                "b_ih": rng.uniform(-k, k, H), "b_hh": rng.uniform(-k, k, H)}

    step = {"x": rng.standard_normal((B, IN)), "h_prev": rng.uniform(-1, 1, (B, H)),
            **weights()}
    seq = {"xs": rng.standard_normal((T, B, IN)), "h0": rng.uniform(-1, 1, (B, H)),
           **weights()}
    back = {"dh": rng.standard_normal((B, H)), "x": rng.standard_normal((B, IN)),
            "h_prev": rng.uniform(-1, 1, (B, H)), "h": rng.uniform(-1, 1, (B, H)),
            "W_ih": rng.uniform(-k, k, (H, IN)), "W_hh": rng.uniform(-k, k, (H, H))}
    bptt = {"dhs": rng.standard_normal((T, B, H)), "xs": rng.standard_normal((T, B, IN)),
            "h0": rng.uniform(-1, 1, (B, H)), **weights()}
    return {"rnn_step": ("rnn_step", step), "rnn_forward": ("rnn_forward", seq),
            "rnn_step_backward": ("rnn_step_backward", back),
            "rnn_backward": ("rnn_backward", bptt)}


def main() -> None:
    solution = load_submission(SOLUTION, module="elman.py")
    if isinstance(solution, BaseException):
        raise solution
    REFERENCES.mkdir(exist_ok=True)
    for name, (fn, inputs) in cases().items():
        out = getattr(solution, fn)(**inputs)
        write_reference(REFERENCES / f"{name}.npz", inputs, out,
                        input_kinds={k: "array" for k in inputs},
                        meta={"producer": "solution/elman.py", "seed": SEED})
        print(f"wrote {REFERENCES / name}.npz")


if __name__ == "__main__":
    main()
