"""Record the grader's reference file from the solution: ``references/softplus.npz``.

    python assignments/tiny/grader/make_references.py

The inputs are fixed (large |x| included, where a naive forward overflows); the outputs and
gradients come from ``solution/softplus.py`` through ``minigrad.testing.record_reference``,
in float64. The file is a few KB: commit it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import minigrad as mg
from minigrad.testing import load_submission, record_reference

HERE = Path(__file__).resolve().parent
SOLUTION = HERE.parent / "solution" / "softplus.py"
X = np.array([[-100.0, -20.0, -3.0, -0.5, -1e-3],
              [0.0, 1e-3, 0.5, 3.0, 20.0],
              [100.0, 700.0, -700.0, 1.5, -1.5]])


def main() -> None:
    solution = load_submission(SOLUTION, module="softplus.py")
    if isinstance(solution, BaseException):
        raise solution
    x = mg.tensor(X, dtype=mg.float64, requires_grad=True)
    upstream = np.random.default_rng(0).standard_normal(X.shape)  # dL/dy, fixed
    path = HERE / "references" / "softplus.npz"
    path.parent.mkdir(exist_ok=True)
    record_reference(solution.softplus, [x], path, grad_outputs=upstream,
                     meta={"producer": "solution/softplus.py"})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
