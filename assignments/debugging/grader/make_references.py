"""Record the grader's reference files (``references/*.npz``) from ``solution/recurrent.py``.

    python assignments/debugging/grader/make_references.py

Each case is built so that exactly one of the planted bugs shows in it (see INSTRUCTOR.md):
``lstm_step_nobias`` has zero biases (a bias added twice changes nothing there),
``lstm_step_tied_if`` gives the input and forget gates the same rows (so reusing one gate's
rows for the other changes nothing there), ``rnn_step`` has a non-symmetric W_hh. The inputs
are seeded, so running this again writes the same values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minigrad.testing import load_submission, write_reference

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "references"
SOLUTION = HERE.parent / "solution" / "recurrent.py"
SEED = 20261130
B, IN, H = 3, 4, 5


def cases() -> dict[str, tuple[str, dict[str, np.ndarray]]]:
    """Reference name -> (function of the solution, its named inputs)."""
    rng = np.random.default_rng(SEED)
    k = 1 / np.sqrt(H)

    def lstm(bias: bool) -> dict[str, np.ndarray]:
        return {"x": rng.standard_normal((B, IN)), "h_prev": rng.uniform(-1, 1, (B, H)),
                "c_prev": rng.standard_normal((B, H)),
                "W_ih": rng.uniform(-k, k, (4 * H, IN)), "W_hh": rng.uniform(-k, k, (4 * H, H)),
                "b_ih": rng.uniform(-k, k, 4 * H) if bias else np.zeros(4 * H),
                "b_hh": rng.uniform(-k, k, 4 * H) if bias else np.zeros(4 * H)}

    tied = lstm(bias=True)
    for name in ("W_ih", "W_hh", "b_ih", "b_hh"):  # forget-gate rows := input-gate rows
        tied[name][H:2 * H] = tied[name][:H]
    rnn = {"x": rng.standard_normal((B, IN)), "h_prev": rng.uniform(-1, 1, (B, H)),
           "W_ih": rng.uniform(-k, k, (H, IN)), "W_hh": rng.uniform(-k, k, (H, H)),
           "b_ih": rng.uniform(-k, k, H), "b_hh": rng.uniform(-k, k, H)}
    return {"lstm_step_nobias": ("lstm_step", lstm(bias=False)),
            "lstm_step_tied_if": ("lstm_step", tied), "rnn_step": ("rnn_step", rnn)}


def main() -> None:
    solution = load_submission(SOLUTION, module="recurrent.py")
    if isinstance(solution, BaseException):
        raise solution
    REFERENCES.mkdir(exist_ok=True)
    for name, (fn, inputs) in cases().items():
        out = getattr(solution, fn)(**inputs)
        write_reference(REFERENCES / f"{name}.npz", inputs, out,
                        input_kinds={k: "array" for k in inputs},
                        meta={"producer": "solution/recurrent.py", "seed": SEED})
        print(f"wrote {REFERENCES / name}.npz")


if __name__ == "__main__":
    main()
