"""Write PyTorch reference fixtures for the operator cases in ``op_cases.py``.

Run from the repository root (needs torch; the tests that read the fixtures do not)::

    python tests/reference/generate_ops.py

For every case and for float64 and float32 it stores, in
``tests/reference/fixtures/ops_<dtype>.npz`` (compressed, plain arrays, no pickles):

    <case>/in<i>     the i-th input (floating inputs in the file's dtype; int64 / bool as is)
    <case>/out       the output, or <case>/out<k> for each element of a tuple output
    <case>/gout      the upstream gradient fed to backward (gout<k> for tuple outputs; only for
                     floating outputs that require grad)
    <case>/grad<i>   d(sum_k out_k * gout_k)/d(in_i) for every input that requires grad
    __meta__/...     torch and numpy versions, dtype
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from op_cases import CASES, Case, cases_by_name, make_inputs, make_upstream

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
DTYPES: dict[str, tuple[np.dtype[Any], torch.dtype]] = {
    "float64": (np.dtype(np.float64), torch.float64),
    "float32": (np.dtype(np.float32), torch.float32),
}


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def run_case(case: Case, dtype: str) -> dict[str, np.ndarray]:
    """Evaluate one case with torch in ``dtype``; return its fixture arrays (keys sans prefix)."""
    np_dtype, _ = DTYPES[dtype]
    arrays = make_inputs(case)
    record: dict[str, np.ndarray] = {}
    tensors: list[torch.Tensor] = []
    for i, (spec, arr) in enumerate(zip(case.inputs, arrays, strict=True)):
        if spec.is_float:
            arr = arr.astype(np_dtype)
        record[f"in{i}"] = arr
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
    gouts = make_upstream(case, [tuple(outs[k].shape) for k in diff_idx])
    for k, o in enumerate(outs):
        record["out" if single else f"out{k}"] = _to_numpy(o)
    for k, g in zip(diff_idx, gouts, strict=True):
        record["gout" if single else f"gout{k}"] = g.astype(np_dtype)

    # Outputs like argmax or comparisons are not differentiable even when inputs require grad:
    # then the case is forward-only and stores no gout/grad arrays.
    wants_grad = [i for i, spec in enumerate(case.inputs) if spec.differentiable]
    if diff_idx:
        torch.autograd.backward(
            [outs[k] for k in diff_idx],
            [torch.from_numpy(g.astype(np_dtype)) for g in gouts],
        )
        for i in wants_grad:
            grad = tensors[i].grad
            if grad is None:
                raise RuntimeError(f"{case.name}: input {i} got no gradient (unused input?)")
            if grad.dtype != tensors[i].dtype:
                raise RuntimeError(f"{case.name}: grad{i} dtype {grad.dtype}")
            record[f"grad{i}"] = _to_numpy(grad)
    return record


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
        payload: dict[str, np.ndarray] = {
            "__meta__/torch_version": np.array(torch.__version__),
            "__meta__/numpy_version": np.array(np.__version__),
            "__meta__/dtype": np.array(dtype),
        }
        for name in names:
            for key, arr in run_case(table[name], dtype).items():
                payload[f"{name}/{key}"] = np.asarray(arr)
        path = out_dir / f"ops_{dtype}.npz"
        np.savez_compressed(path, **payload)  # type: ignore[arg-type]
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
