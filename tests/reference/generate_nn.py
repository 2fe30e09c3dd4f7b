"""PyTorch reference fixtures for ``mg.nn``: functional ops, losses, clipping, an MLP.

Run from the repository root (needs torch==2.13.0; the tests that read the fixtures do not)::

    PYTHONPATH=$PWD python tests/reference/generate_nn.py

The case table ``CASES`` below is shared with ``tests/test_nn_reference.py``: each case is ONE
expression ``fn(m, F, *tensors)`` evaluated here with ``m = torch, F = torch.nn.functional``
and in the test with ``m = minigrad, F = minigrad.nn.functional``. This module imports torch
only inside :func:`main`, so the test can import the table without torch.

``fixtures/nn_<dtype>.npz`` (float64 and float32) is a bundle of ``minigrad.testing``
references (:func:`minigrad.testing.save_references`)::

    <case>       one expression: inputs 0, 1, ..., its output, upstream gradient and the
                 gradient of every input that requires grad
    clip_<norm>  clip_grad_norm_: inputs grad0, grad1, grad2 (the .grad of three parameters);
                 outputs total (the norm returned) and clipped0..2 (the .grad afterwards)
    mlp          a torch MLP: inputs x, target and its state_dict (``0.weight`` stored as
                 state_0_weight, see MLP_INPUTS); outputs out and loss (upstream 1 on the
                 loss); the gradient of every parameter
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Spec:
    """One input: kind R (normal, requires grad), P (positive, requires grad), C (positive
    constant), U (uniform [0, 1) constant), I (int64 in [0, high)), V (exact values)."""

    kind: str
    shape: tuple = ()
    arg: Any = None

    @property
    def is_float(self) -> bool:
        return self.kind in "RPCU" or (self.kind == "V" and np.asarray(self.arg).dtype.kind == "f")

    @property
    def differentiable(self) -> bool:
        return self.kind in "RP" or (self.kind == "V" and self.is_float)


def R(*shape: int, scale: float = 1.0) -> Spec:
    return Spec("R", shape, scale)


def P(*shape: int) -> Spec:
    return Spec("P", shape)


def C(*shape: int) -> Spec:
    return Spec("C", shape)


def U(*shape: int) -> Spec:
    return Spec("U", shape)


def I(high: int, *shape: int) -> Spec:  # noqa: E743 - short like the other spec names
    return Spec("I", shape, high)


def V(values: Any) -> Spec:
    return Spec("V", np.asarray(values).shape, values)


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable[..., Any]
    inputs: tuple[Spec, ...]


def make_inputs(case: Case) -> list[np.ndarray]:
    """The case's inputs (float64 / int64), seeded by the case name only."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    out = []
    for s in case.inputs:
        if s.kind == "R":
            out.append(rng.standard_normal(s.shape) * s.arg)
        elif s.kind in "PC":
            out.append(rng.uniform(0.5, 2.0, s.shape))
        elif s.kind == "U":
            out.append(rng.uniform(0.0, 1.0, s.shape))
        elif s.kind == "I":
            out.append(rng.integers(0, s.arg, s.shape).astype(np.int64))
        else:
            a = np.asarray(s.arg)
            out.append(a.astype(np.float64) if a.dtype.kind == "f" else a.astype(np.int64))
    return out


_IGN = [[1, -100, 3, 0], [2, 2, -100, 4]]
CASES: list[Case] = [
    # linear
    Case("linear", lambda m, F, x, w, b: F.linear(x, w, b), (R(3, 4), R(5, 4), R(5))),
    Case("linear_nobias", lambda m, F, x, w: F.linear(x, w), (R(3, 4), R(5, 4))),
    Case("linear_3d", lambda m, F, x, w, b: F.linear(x, w, b), (R(2, 3, 4), R(5, 4), R(5))),
    # embedding (repeated indices accumulate; the padding row gets no gradient)
    Case("embedding", lambda m, F, i, w: F.embedding(i, w), (V([[0, 2, 2], [1, 0, 2]]), R(4, 3))),
    Case("embedding_pad", lambda m, F, i, w: F.embedding(i, w, padding_idx=2),
         (V([[0, 2, 2], [1, 0, 3]]), R(4, 3))),
    # softmax / log_softmax
    Case("softmax_d1", lambda m, F, x: F.softmax(x, dim=1), (R(3, 5),)),
    Case("softmax_d0", lambda m, F, x: F.softmax(x, dim=0), (R(3, 5),)),
    Case("softmax_3d_last", lambda m, F, x: F.softmax(x, dim=-1), (R(2, 3, 4),)),
    Case("softmax_large", lambda m, F, x: F.softmax(x, dim=1), (R(3, 4, scale=300.0),)),
    Case("log_softmax_d1", lambda m, F, x: F.log_softmax(x, dim=1), (R(3, 5),)),
    Case("log_softmax_3d_mid", lambda m, F, x: F.log_softmax(x, dim=1), (R(2, 3, 4),)),
    Case("log_softmax_large", lambda m, F, x: F.log_softmax(x, dim=-1), (R(3, 4, scale=300.0),)),
    # cross_entropy
    Case("ce_mean", lambda m, F, x, t: F.cross_entropy(x, t), (R(4, 5), I(5, 4))),
    Case("ce_sum", lambda m, F, x, t: F.cross_entropy(x, t, reduction="sum"), (R(4, 5), I(5, 4))),
    Case("ce_none", lambda m, F, x, t: F.cross_entropy(x, t, reduction="none"),
         (R(4, 5), I(5, 4))),
    Case("ce_large", lambda m, F, x, t: F.cross_entropy(x, t), (R(4, 5, scale=500.0), I(5, 4))),
    Case("ce_ignore", lambda m, F, x, t: F.cross_entropy(x, t), (R(4, 5), V([1, -100, 3, 0]))),
    Case("ce_ignore_custom", lambda m, F, x, t: F.cross_entropy(x, t, ignore_index=3),
         (R(4, 5), V([1, 3, 3, 0]))),
    Case("ce_weight", lambda m, F, x, t, w: F.cross_entropy(x, t, weight=w),
         (R(6, 5), I(5, 6), C(5))),
    Case("ce_weight_ignore_none",
         lambda m, F, x, t, w: F.cross_entropy(x, t, weight=w, reduction="none"),
         (R(4, 5), V([1, -100, 3, 0]), C(5))),
    Case("ce_smooth", lambda m, F, x, t: F.cross_entropy(x, t, label_smoothing=0.1),
         (R(4, 5), I(5, 4))),
    Case("ce_smooth_ignore_sum",
         lambda m, F, x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.3),
         (R(4, 5), V([1, -100, 3, 0]))),
    Case("ce_smooth_weight_ignore",
         lambda m, F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.2),
         (R(4, 5), V([1, -100, 3, 0]), C(5))),
    Case("ce_smooth_weight_none",
         lambda m, F, x, t, w: F.cross_entropy(x, t, weight=w, reduction="none",
                                               label_smoothing=0.2),
         (R(4, 5), V([1, -100, 3, 0]), C(5))),
    Case("ce_nd", lambda m, F, x, t: F.cross_entropy(x, t), (R(2, 5, 4), V(_IGN))),
    Case("ce_2d_spatial", lambda m, F, x, t: F.cross_entropy(x, t), (R(2, 5, 2, 3), I(5, 2, 2, 3))),
    Case("ce_nd_none", lambda m, F, x, t: F.cross_entropy(x, t, reduction="none"),
         (R(2, 5, 3), I(5, 2, 3))),
    Case("ce_nd_smooth_weight",
         lambda m, F, x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
         (R(2, 5, 4), V(_IGN), C(5))),
    Case("ce_unbatched", lambda m, F, x, t: F.cross_entropy(x, t), (R(5), V(3))),
    Case("ce_unbatched_none", lambda m, F, x, t: F.cross_entropy(x, t, reduction="none"),
         (R(5), V(1))),
    # nll_loss
    Case("nll_mean", lambda m, F, x, t: F.nll_loss(x, t), (R(4, 5), I(5, 4))),
    Case("nll_ignore_sum", lambda m, F, x, t: F.nll_loss(x, t, reduction="sum"),
         (R(4, 5), V([1, -100, 3, 0]))),
    Case("nll_weight_ignore", lambda m, F, x, t, w: F.nll_loss(x, t, weight=w),
         (R(4, 5), V([1, -100, 3, 0]), C(5))),
    Case("nll_nd_none", lambda m, F, x, t: F.nll_loss(x, t, reduction="none"),
         (R(2, 5, 3), I(5, 2, 3))),
    Case("nll_of_log_softmax", lambda m, F, x, t: F.nll_loss(F.log_softmax(x, dim=1), t),
         (R(4, 5), I(5, 4))),
    # mse_loss
    Case("mse_mean", lambda m, F, x, y: F.mse_loss(x, y), (R(3, 4), R(3, 4))),
    Case("mse_sum", lambda m, F, x, y: F.mse_loss(x, y, reduction="sum"), (R(3, 4), R(3, 4))),
    Case("mse_none", lambda m, F, x, y: F.mse_loss(x, y, reduction="none"), (R(5,), R(5,))),
    # binary_cross_entropy_with_logits
    Case("bce_mean", lambda m, F, x, y: F.binary_cross_entropy_with_logits(x, y),
         (R(3, 4), U(3, 4))),
    Case("bce_target_grad", lambda m, F, x, y: F.binary_cross_entropy_with_logits(x, y),
         (R(3, 4), R(3, 4))),
    Case("bce_pos_weight",
         lambda m, F, x, y, p: F.binary_cross_entropy_with_logits(x, y, pos_weight=p),
         (R(3, 4), U(3, 4), C(4))),
    Case("bce_weight_sum",
         lambda m, F, x, y, w: F.binary_cross_entropy_with_logits(x, y, weight=w,
                                                                  reduction="sum"),
         (R(3, 4), U(3, 4), C(3, 4))),
    Case("bce_extreme_none",
         lambda m, F, x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
         (V([-200.0, -40.0, -1e-3, 0.0, 30.0, 200.0]), V([1.0, 0.0, 1.0, 0.5, 0.0, 1.0]))),
    # layer_norm
    Case("layer_norm", lambda m, F, x, w, b: F.layer_norm(x, (4,), w, b), (R(3, 4), R(4), R(4))),
    Case("layer_norm_2d", lambda m, F, x, w, b: F.layer_norm(x, (3, 4), w, b),
         (R(2, 3, 4), R(3, 4), R(3, 4))),
    Case("layer_norm_plain", lambda m, F, x: F.layer_norm(x, (5,)), (R(2, 3, 5, scale=10.0),)),
    Case("layer_norm_eps", lambda m, F, x, w: F.layer_norm(x, (4,), w, None, eps=0.1),
         (R(3, 4), R(4))),
    # activations through F
    Case("relu_tanh_sigmoid", lambda m, F, x: F.relu(x) + F.tanh(x) * F.sigmoid(x), (R(3, 4),)),
]

CLIP_NORMS = {"l2": 2.0, "l1": 1.0, "linf": float("inf"), "l3": 3.0}
CLIP_SHAPES = ((3, 4), (4,), (2, 2, 2))
CLIP_MAX_NORM = 0.7
MLP_STATE_KEYS = ("0.weight", "0.bias", "2.weight", "2.bias")


def clip_grads() -> list[np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(b"clip"))
    return [rng.standard_normal(s) for s in CLIP_SHAPES]


def mlp_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(zlib.crc32(b"mlp"))
    return rng.standard_normal((6, 4)), rng.integers(0, 3, 6).astype(np.int64)


#: the MLP's state_dict keys -> input names in the ``mlp`` reference (identifiers)
MLP_INPUTS = {key: "state_" + key.replace(".", "_") for key in MLP_STATE_KEYS}


def main() -> None:
    import torch
    import torch.nn.functional as TF

    from minigrad.testing import Reference, save_references, write_reference

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    FIXTURE_DIR.mkdir(exist_ok=True)
    for dtype_name, np_dt, t_dt in (("float64", np.float64, torch.float64),
                                    ("float32", np.float32, torch.float32)):
        refs: dict[str, Reference] = {}

        def host(t: Any) -> np.ndarray:
            return t.detach().cpu().numpy().copy()

        for case in CASES:
            values, tensors = [], []
            for spec, a in zip(case.inputs, make_inputs(case)):
                if spec.is_float:
                    a = a.astype(np_dt)
                values.append(a)
                t = torch.from_numpy(a.copy())
                tensors.append(t.requires_grad_(True) if spec.differentiable else t)
            out = case.fn(torch, TF, *tensors)
            gout = np.random.default_rng(zlib.crc32(case.name.encode()) + 1).standard_normal(
                tuple(out.shape)).astype(np_dt)
            out.backward(torch.from_numpy(gout))
            grads = [host(t.grad) if t.requires_grad else None for t in tensors]
            refs[case.name] = write_reference(None, values, host(out), grads=grads,
                                              grad_outputs=gout)

        for name, norm in CLIP_NORMS.items():
            params, given = [], {}
            for k, g in enumerate(clip_grads()):
                p = torch.zeros(g.shape, dtype=t_dt, requires_grad=True)
                p.grad = torch.from_numpy(g.astype(np_dt))
                given[f"grad{k}"] = g.astype(np_dt)
                params.append(p)
            total = torch.nn.utils.clip_grad_norm_(params, CLIP_MAX_NORM, norm_type=norm)
            outs = {"total": host(total)} | {f"clipped{k}": host(p.grad)
                                             for k, p in enumerate(params)}
            refs[f"clip_{name}"] = write_reference(None, given, outs)

        torch.manual_seed(0)
        mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
                                  torch.nn.Linear(8, 3)).to(t_dt)
        x, target = mlp_data()
        x = torch.from_numpy(x.astype(np_dt))
        out = mlp(x)
        loss = TF.cross_entropy(out, torch.from_numpy(target))
        loss.backward()
        state = {MLP_INPUTS[k]: host(v) for k, v in mlp.state_dict().items()}
        grads = {MLP_INPUTS[k]: host(p.grad) for k, p in mlp.named_parameters()}
        refs["mlp"] = write_reference(
            None, {"x": host(x), "target": target, **state}, {"out": host(out),
                                                              "loss": host(loss)},
            grads=grads, grad_outputs={"out": None, "loss": np.ones((), np_dt)})

        path = FIXTURE_DIR / f"nn_{dtype_name}.npz"
        save_references(refs, path, meta={"torch_version": torch.__version__,
                                          "numpy_version": np.__version__,
                                          "dtype": dtype_name})
        print(f"wrote {path} ({len(refs)} references, {path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
