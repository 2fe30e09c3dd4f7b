"""Write the PyTorch reference fixture for the edge cases in ``edge_cases.py``.

Run from the repository root (needs torch; the tests that read the fixture do not)::

    PYTHONPATH=$PWD python tests/reference/generate_edge.py

It writes ``tests/reference/fixtures/edge_float64.npz``, a bundle of ``minigrad.testing``
references (:func:`minigrad.testing.save_references`), one per case and named after it:
inputs ``0``, ``1``, ... (float64, requiring grad, or int64 targets), the output ``output``
(which may hold NaN: a mean of nothing, a loss whose every target is ignored), its upstream
gradient, and the gradient of every float input. The bundle's meta holds the torch and numpy
versions.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # minigrad, from the repo

from edge_cases import CASES, Case, rng

from minigrad.testing import Reference, save_references, write_reference

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "edge_float64.npz"


def run_case(case: Case) -> Reference:
    """Evaluate one case with torch in float64; return it as a reference."""
    tensors = [torch.from_numpy(a.copy()).requires_grad_(a.dtype.kind == "f")
               for a in case.inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's mean of nothing warns
        out = case.fn(torch, *tensors)
    shape = tuple(out.shape)
    if case.upstream == "ones":
        gout = np.ones(shape)
    else:
        gout = rng(case.name + " upstream").standard_normal(shape)
    out.backward(torch.from_numpy(gout.copy()))
    grads: list[np.ndarray | None] = []
    for t in tensors:
        if t.requires_grad and t.grad is None:
            raise RuntimeError(f"{case.name}: an input got no gradient (unused input?)")
        grads.append(t.grad.numpy().copy() if t.requires_grad else None)
    return write_reference(None, list(case.inputs), out.detach().numpy().copy(), grads=grads,
                           grad_outputs=gout)


def generate(path: Path = FIXTURE) -> Path:
    """Write the bundle; return its path."""
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    refs = {case.name: run_case(case) for case in CASES}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_references(refs, path, meta={"torch_version": torch.__version__,
                                      "numpy_version": np.__version__, "dtype": "float64"})
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)
    path = generate(args.out)
    print(f"{len(CASES)} cases, {path.stat().st_size} bytes -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
