"""Write PyTorch reference fixtures for minigrad's optimizers and learning-rate schedulers.

Run from the repository root (needs ``torch==2.13.0``; the tests that read the fixtures do
not)::

    PYTHONPATH=$PWD python tests/reference/generate_optim.py

Both files are bundles of ``minigrad.testing`` references
(:func:`minigrad.testing.save_references`), one per case, named after it.

``fixtures/optim_<dtype>.npz`` (float64, float32): the reference ``data`` (what every case
starts from, stored once) and one reference per optimizer case:

    data     inputs only: <p>, the starting value of parameter <p> (PARAM_SHAPES), and
             grad<k>_<p>, its synthetic gradient at step k (absent: grad is None at that step)
    outputs  of each case: step<k>_<p>: the parameter after step k (k = 0 .. N_STEPS-1);
             state_<i>_<key>: the final ``optimizer.state_dict()["state"][i][key]`` ("step"
             as a float64 0-d array)
    meta     of each case: case: {"name", "optimizer", "kwargs", "groups"} ("groups" is
             null, one group of all params, or a list of {"params": [names], option:
             value...}); parameters: the parameter names in order; steps: N_STEPS

``fixtures/optim_lr_schedulers.npz``, for each scheduler case: no inputs; output ``lrs``, shape
(N_SCHED_STEPS + 1, n_groups): ``get_last_lr()`` after construction and after each of
N_SCHED_STEPS ``optimizer.step(); scheduler.step()``; meta ``case``: name, scheduler, kwargs,
lrs of the two groups, steps.

PyTorch's single-tensor ("for-loop") implementations are forced with ``foreach=False``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # minigrad, from the repo

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
PARAM_SHAPES: dict[str, tuple[int, ...]] = {"w": (3, 4), "b": (4,), "c": (2, 3)}
N_STEPS = 8
NO_GRAD = {("c", 2), ("c", 5)}  # (param, step) pairs whose grad is None: the step skips them
N_SCHED_STEPS = 30
SCHED_LRS = (0.1, 0.05)

TWO_GROUPS: list[dict[str, Any]] = [{"params": ["w", "c"]},
                                    {"params": ["b"], "lr": 0.01, "weight_decay": 0.05}]

OPTIM_CASES: list[dict[str, Any]] = [
    {"name": "sgd", "optimizer": "SGD", "kwargs": {"lr": 0.1}},
    {"name": "sgd_momentum", "optimizer": "SGD", "kwargs": {"lr": 0.1, "momentum": 0.9}},
    {"name": "sgd_dampening_wd", "optimizer": "SGD",
     "kwargs": {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}},
    {"name": "sgd_nesterov_wd", "optimizer": "SGD",
     "kwargs": {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001}},
    {"name": "sgd_groups", "optimizer": "SGD", "kwargs": {"lr": 0.1, "momentum": 0.8},
     "groups": TWO_GROUPS},
    {"name": "adam_default", "optimizer": "Adam", "kwargs": {}},
    {"name": "adam", "optimizer": "Adam", "kwargs": {"lr": 0.05}},
    {"name": "adam_amsgrad_wd", "optimizer": "Adam",
     "kwargs": {"lr": 0.05, "betas": [0.8, 0.9], "eps": 1e-3, "weight_decay": 0.1,
                "amsgrad": True}},
    {"name": "adam_low_betas_big_eps", "optimizer": "Adam",
     "kwargs": {"lr": 0.02, "betas": [0.3, 0.5], "eps": 0.1}},
    {"name": "adam_groups", "optimizer": "Adam", "kwargs": {"lr": 0.05}, "groups": TWO_GROUPS},
    {"name": "adamw", "optimizer": "AdamW", "kwargs": {"lr": 0.05}},
    {"name": "adamw_amsgrad_wd", "optimizer": "AdamW",
     "kwargs": {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-4}},
    {"name": "rmsprop_default", "optimizer": "RMSprop", "kwargs": {}},
    {"name": "rmsprop_centered_momentum_wd", "optimizer": "RMSprop",
     "kwargs": {"lr": 0.01, "alpha": 0.9, "momentum": 0.9, "centered": True,
                "weight_decay": 0.01}},
    {"name": "rmsprop_momentum_eps", "optimizer": "RMSprop",
     "kwargs": {"lr": 0.01, "momentum": 0.5, "eps": 1e-3}},
    {"name": "rmsprop_centered_half_alpha", "optimizer": "RMSprop",
     "kwargs": {"lr": 0.02, "alpha": 0.5, "centered": True}},
    {"name": "adagrad", "optimizer": "Adagrad", "kwargs": {"lr": 0.1}},
    {"name": "adagrad_all_options", "optimizer": "Adagrad",
     "kwargs": {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.1,
                "initial_accumulator_value": 0.1, "eps": 1e-3}},
    {"name": "adagrad_groups", "optimizer": "Adagrad", "kwargs": {"lr": 0.1},
     "groups": TWO_GROUPS},
]

SCHED_CASES: list[dict[str, Any]] = [
    {"name": "step_7_half", "scheduler": "StepLR", "kwargs": {"step_size": 7, "gamma": 0.5}},
    {"name": "step_3", "scheduler": "StepLR", "kwargs": {"step_size": 3}},
    {"name": "exponential", "scheduler": "ExponentialLR", "kwargs": {"gamma": 0.9}},
    {"name": "cosine_10_min", "scheduler": "CosineAnnealingLR",
     "kwargs": {"T_max": 10, "eta_min": 0.001}},
    {"name": "cosine_7", "scheduler": "CosineAnnealingLR", "kwargs": {"T_max": 7}},
    {"name": "cosine_30", "scheduler": "CosineAnnealingLR", "kwargs": {"T_max": 30}},
]


def make_data() -> dict[str, np.ndarray]:
    """Starting parameters (``<p>``) and the gradient sequence (``grad<k>_<p>``), in float64
    (fixed seed)."""
    rng = np.random.default_rng(1234)
    data = {p: rng.standard_normal(shape) for p, shape in PARAM_SHAPES.items()}
    for k in range(N_STEPS):
        for p, shape in PARAM_SHAPES.items():
            g = rng.standard_normal(shape) * (0.5 + k % 3)  # varying scale stresses v and m
            if (p, k) not in NO_GRAD:
                data[f"grad{k}_{p}"] = g
    return data


def _torch_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    kw = dict(case["kwargs"])
    if "betas" in kw:
        kw["betas"] = tuple(kw["betas"])
    return kw


def run_optim_case(case: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    params = {p: torch.nn.Parameter(torch.from_numpy(data[p].copy()))
              for p in PARAM_SHAPES}
    if case.get("groups"):
        groups: Any = [dict(g, params=[params[n] for n in g["params"]]) for g in case["groups"]]
    else:
        groups = list(params.values())
    opt = getattr(torch.optim, case["optimizer"])(groups, foreach=False, **_torch_kwargs(case))
    record: dict[str, np.ndarray] = {}
    for k in range(N_STEPS):
        for p, t in params.items():
            key = f"grad{k}_{p}"
            t.grad = torch.from_numpy(data[key].copy()) if key in data else None
        opt.step()
        for p, t in params.items():
            record[f"step{k}_{p}"] = t.detach().numpy().copy()
    for i, st in opt.state_dict()["state"].items():
        for key, v in st.items():
            if v is None:
                continue
            record[f"state_{i}_{key}"] = np.asarray(v.detach().numpy(), dtype=np.float64
                                                    if key == "step" else None).copy()
    return record


def run_sched_case(case: dict[str, Any]) -> np.ndarray:
    w = [torch.nn.Parameter(torch.zeros(2)) for _ in SCHED_LRS]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(w, SCHED_LRS)],
                          lr=SCHED_LRS[0])
    sched = getattr(torch.optim.lr_scheduler, case["scheduler"])(opt, **case["kwargs"])
    lrs = [sched.get_last_lr()]
    for _ in range(N_SCHED_STEPS):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return np.array(lrs, dtype=np.float64)


def generate(out_dir: Path = FIXTURE_DIR) -> list[Path]:
    from minigrad.testing import save_references, write_reference

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = {"torch_version": torch.__version__, "numpy_version": np.__version__}
    written = []
    data64 = make_data()
    for dtype in (np.float64, np.float32):
        data = {k: v.astype(dtype) for k, v in data64.items()}
        refs = {"data": write_reference(None, data, {})}
        refs.update({case["name"]: write_reference(
                        None, {}, run_optim_case(case, data),
                        meta={"case": case, "parameters": list(PARAM_SHAPES), "steps": N_STEPS})
                     for case in OPTIM_CASES})
        path = out_dir / f"optim_{np.dtype(dtype).name}.npz"
        save_references(refs, path, meta={**versions, "dtype": np.dtype(dtype).name})
        written.append(path)

    refs = {case["name"]: write_reference(
                None, {}, {"lrs": run_sched_case(case)},
                meta={"case": dict(case, lrs=list(SCHED_LRS), steps=N_SCHED_STEPS)})
            for case in SCHED_CASES}
    path = out_dir / "optim_lr_schedulers.npz"
    save_references(refs, path, meta=versions)
    written.append(path)
    return written


def main() -> int:
    for path in generate():
        with np.load(path, allow_pickle=False) as z:
            n = len(z.files)
        print(f"{path}: {n} arrays, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
