"""Write PyTorch reference fixtures for the operator cases in ``op_cases.py``.

Run from the repository root (needs torch; the tests that read the fixtures do not)::

    PYTHONPATH=$PWD python tests/reference/generate_ops.py

For float64 and float32 it writes ``tests/reference/fixtures/ops_<dtype>.npz``, a bundle of
``minigrad.testing`` references (:func:`minigrad.testing.save_references`), one per case and
named after it: inputs ``0``, ``1``, ... (floating inputs in the file's dtype, int64 indices,
bool masks; those that require grad are the ones with a gradient), the output (``output``, or
``0``, ``1``, ... for a tuple), the upstream gradient of each floating output that requires
grad, and the gradient of each input that requires grad. Forward-only cases (comparisons,
argmax) have no gradients but still replay their differentiable inputs with
``requires_grad=True``. The bundle's meta holds the torch and numpy versions and the dtype.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # minigrad, from the repo

from op_cases import CASES, Case, cases_by_name, make_inputs, make_upstream

from minigrad.testing import Reference, save_references, write_reference

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
DTYPES: dict[str, tuple[np.dtype[Any], torch.dtype]] = {
    "float64": (np.dtype(np.float64), torch.float64),
    "float32": (np.dtype(np.float32), torch.float32),
}


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def run_case(case: Case, dtype: str) -> Reference:
    """Evaluate one case with torch in ``dtype``; return it as a reference."""
    np_dtype, _ = DTYPES[dtype]
    arrays = make_inputs(case)
    values: list[np.ndarray] = []
    tensors: list[torch.Tensor] = []
    for spec, arr in zip(case.inputs, arrays, strict=True):
        if spec.is_float:
            arr = arr.astype(np_dtype)
        values.append(arr)
        t = torch.from_numpy(arr.copy())
        if spec.differentiable:
            t.requires_grad_(True)
        tensors.append(t)

    result = case.fn(torch, *tensors)
    single = isinstance(result, torch.Tensor)
    outs: list[torch.Tensor] = [result] if single else list(result)
    if not all(isinstance(o, torch.Tensor) for o in outs):
        raise TypeError(f"{case.name}: expected tensor outputs, got {type(result)}")

    diff_idx = [k for k, o in enumerate(outs) if o.requires_grad]
    gouts = [g.astype(np_dtype)
             for g in make_upstream(case, [tuple(outs[k].shape) for k in diff_idx])]
    upstream: list[np.ndarray | None] = [None] * len(outs)
    for k, g in zip(diff_idx, gouts, strict=True):
        upstream[k] = g

    # Outputs like argmax or comparisons are not differentiable even when inputs require grad:
    # then the case is forward-only and stores no upstream or input gradients.
    wants_grad = [i for i, spec in enumerate(case.inputs) if spec.differentiable]
    grads: list[np.ndarray | None] = [None] * len(tensors)
    if diff_idx:
        torch.autograd.backward([outs[k] for k in diff_idx],
                                [torch.from_numpy(g) for g in gouts])
        for i in wants_grad:
            grad = tensors[i].grad
            if grad is None:
                raise RuntimeError(f"{case.name}: input {i} got no gradient (unused input?)")
            if grad.dtype != tensors[i].dtype:
                raise RuntimeError(f"{case.name}: grad{i} dtype {grad.dtype}")
            grads[i] = _to_numpy(grad)
    out_arrays = [_to_numpy(o) for o in outs]
    ref = write_reference(None, values, out_arrays[0] if single else out_arrays,
                          grads=grads if diff_idx else None,
                          grad_outputs=(upstream[0] if single else upstream) if diff_idx else None)
    for i in wants_grad:  # replayed requiring grad, as torch ran them, even when forward-only
        ref.requires_grad[str(i)] = True
    return ref


def generate(out_dir: Path = FIXTURE_DIR, only: list[str] | None = None) -> dict[str, Path]:
    """Write ``ops_float64.npz`` and ``ops_float32.npz``; return the written paths by dtype."""
    torch.manual_seed(0)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    table = cases_by_name()
    names = only if only else [c.name for c in CASES]
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for dtype in DTYPES:
        refs = {name: run_case(table[name], dtype) for name in names}
        path = out_dir / f"ops_{dtype}.npz"
        save_references(refs, path, meta={"torch_version": torch.__version__,
                                          "numpy_version": np.__version__, "dtype": dtype})
        written[dtype] = path
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=FIXTURE_DIR)
    args = parser.parse_args(argv)
    written = generate(args.out_dir)
    for dtype, path in written.items():
        with np.load(path, allow_pickle=False) as data:
            n_keys = len(data.files)
        print(
            f"{dtype}: {len(CASES)} cases, {n_keys} arrays, {path.stat().st_size} bytes -> {path}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
