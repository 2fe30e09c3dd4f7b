"""Optimizers and lr schedulers: PyTorch parity (fixtures), state_dict, zero_grad, errors.

The fixtures come from ``tests/reference/generate_optim.py`` (PyTorch 2.13, single-tensor
implementations), as bundles of ``mg.testing`` references; these tests read them without torch.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend, optim
from minigrad.nn.parameter import Parameter
from minigrad.optim import lr_scheduler
from minigrad.serialization import load, save
from minigrad.testing import assert_close, load_references

FIXTURES = Path(__file__).resolve().parent / "reference" / "fixtures"
RTOL = {"float64": 1e-10, "float32": 1e-6}


OPTIM = {dt: load_references(FIXTURES / f"optim_{dt}.npz") for dt in ("float64", "float32")}
CASES = [ref.meta["case"] for name, ref in OPTIM["float64"].items() if name != "data"]
SCHED = load_references(FIXTURES / "optim_lr_schedulers.npz")
SCHED_CASES = [ref.meta["case"] for ref in SCHED.values()]
PARAM_NAMES = OPTIM["float64"][CASES[0]["name"]].meta["parameters"]
N_STEPS = OPTIM["float64"][CASES[0]["name"]].meta["steps"]


def assert_matches(actual: Any, want: np.ndarray, dtype: str, msg: str) -> None:
    """rtol per element, plus an atol of rtol times the array's scale: a value that comes out
    of cancellation (a momentum buffer summing terms of both signs) is only as exact as the
    terms it was made from (float32 rounding of ~8.0 is ~5e-7)."""
    rtol = RTOL[dtype]
    atol = rtol * max(float(np.abs(want).max(initial=0.0)), 1e-2)
    assert_close(actual, want, rtol=rtol, atol=atol, name=msg)


def exactly(actual: Any, expected: Any) -> None:
    """Equal, element for element (Tensors or arrays, any device; shape and dtype too)."""
    assert_close(actual, expected, rtol=0, atol=0)


def make_params(data: dict[str, np.ndarray], device: str) -> dict[str, Parameter]:
    """The parameters' starting values (a reference's inputs ``w``, ``b``, ``c``)."""
    # .copy(): mg.tensor(array, device=...) may share memory with the array (reported)
    return {n: Parameter(mg.tensor(data[n].copy(), device=device))
            for n in PARAM_NAMES}


def make_optimizer(case: dict[str, Any], params: dict[str, Parameter]) -> optim.Optimizer:
    kwargs = dict(case["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    if case.get("groups"):
        groups: Any = [dict(g, params=[params[n] for n in g["params"]]) for g in case["groups"]]
    else:
        groups = list(params.values())
    return getattr(optim, case["optimizer"])(groups, **kwargs)


def set_grads(data: dict[str, np.ndarray], params: dict[str, Parameter], k: int,
              device: str) -> None:
    """The gradients of step ``k`` (a reference's inputs ``grad<k>_<p>``; absent: None)."""
    for n, p in params.items():
        key = f"grad{k}_{n}"
        p.grad = mg.tensor(data[key].copy(), device=device) if key in data else None


# ---------------------------------------------------------------------------- parity

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_matches_pytorch(case: dict[str, Any], dtype: str, device: str) -> None:
    name = case["name"]
    ref = OPTIM[dtype][name]
    data = OPTIM[dtype]["data"].inputs  # the starting values and gradients, shared by all
    params = make_params(data, device)
    opt = make_optimizer(case, params)
    for k in range(N_STEPS):
        set_grads(data, params, k, device)
        opt.step()
        for n, p in params.items():
            assert p.dtype == np.dtype(dtype) and p.device == mg.device(device)
            assert_matches(p, ref.outputs[f"step{k}_{n}"], dtype,
                           f"{name}: param {n} after step {k}")

    sd = opt.state_dict()
    expected = {k: v for k, v in ref.outputs.items() if k.startswith("state_")}
    got = {f"state_{i}_{key}": v for i, st in sd["state"].items() for key, v in st.items()}
    assert sorted(got) == sorted(expected)
    for key, want in expected.items():
        value = got[key]
        if key.endswith("_step"):
            assert value == int(want), key
        else:
            assert isinstance(value, mg.Tensor) and value.device == mg.device(device)
            assert value.dtype == np.dtype(dtype), key
            assert_matches(value, want, dtype, key)


@pytest.mark.parametrize("case", SCHED_CASES, ids=[c["name"] for c in SCHED_CASES])
def test_scheduler_matches_pytorch(case: dict[str, Any]) -> None:
    params = [Parameter(mg.zeros(2)) for _ in case["lrs"]]
    opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, case["lrs"])],
                    lr=case["lrs"][0])
    sched = getattr(lr_scheduler, case["scheduler"])(opt, **case["kwargs"])
    lrs = [sched.get_last_lr()]
    for _ in range(case["steps"]):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    # the same Python float arithmetic in the same order: bit-identical
    assert_close(np.array(lrs), SCHED[case["name"]].outputs["lrs"], rtol=0, atol=0)
    assert sched.last_epoch == case["steps"]
    assert [g["lr"] for g in opt.param_groups] == lrs[-1]


# ---------------------------------------------------------------------------- behaviour

def _quadratic_params(device: str, dtype: Any = mg.float32) -> list[Parameter]:
    return [Parameter(mg.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=dtype, device=device)),
            Parameter(mg.tensor([0.3, -0.7, 1.1], dtype=dtype, device=device))]


def _loss(params: list[Parameter]) -> mg.Tensor:
    return (params[0] * params[0]).sum() + (params[1] ** 3).sum() * 0.1


ALL = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.2)),
    (optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    (optim.AdamW, dict(lr=0.05)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]
ALL_IDS = ["sgd_nesterov", "sgd_dampening", "adam_amsgrad", "adamw", "rmsprop", "adagrad"]


@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_step_in_place_keeps_dtype_and_builds_no_graph(cls: Any, kwargs: dict, device: str
                                                       ) -> None:
    params = _quadratic_params(device)
    opt = cls(params, **kwargs)
    data_ids = [id(p.data) for p in params]
    for _ in range(3):
        opt.zero_grad()
        _loss(params).backward()
        versions = [p._version[0] for p in params]
        state_ids = {(id(p), k): id(v) for p in params for k, v in opt.state[p].items()
                     if backend.is_array(v)}
        grads = [p.grad.clone() for p in params]
        opt.step()
        for p, v, g in zip(params, versions, grads):
            assert p._version[0] > v  # a stale saved value would be detected
            assert p.is_leaf and p.grad_fn is None and p.requires_grad
            assert p.dtype == mg.float32 and p.device == mg.device(device)
            exactly(p.grad, g)  # grad is not modified
            for k, v2 in opt.state[p].items():
                if backend.is_array(v2):
                    assert v2.dtype == np.float32 and backend.device_of(v2) == p.device
                    if (id(p), k) in state_ids:  # buffers are updated in place
                        assert id(v2) == state_ids[(id(p), k)]
    assert [id(p.data) for p in params] == data_ids


def test_numpy_scalar_hyperparameters_do_not_promote() -> None:
    params = _quadratic_params("cpu")
    opt = optim.Adam(params, lr=np.float64(0.1), betas=(np.float64(0.9), np.float64(0.99)))
    _loss(params).backward()
    opt.step()
    assert all(p.dtype == mg.float32 for p in params)
    assert all(v.dtype == np.float32 for p in params for v in opt.state[p].values()
               if backend.is_array(v))


def test_skips_params_without_grad(device: str) -> None:
    a, b = _quadratic_params(device)
    before = b.detach().clone()
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    exactly(b, before)
    assert b not in opt.state or not opt.state[b]
    assert opt.state_dict()["state"].keys() == {0}


def test_zero_grad(device: str) -> None:
    params = _quadratic_params(device)
    opt = optim.SGD(params, lr=0.1)
    _loss(params).backward()
    grad = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad  # same tensor, zeroed in place
    exactly(grad, mg.zeros_like(grad))
    exactly(params[1].grad, mg.zeros_like(params[1].grad))
    assert grad.device == mg.device(device)
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.zero_grad()  # nothing to do: fine


def test_closure_returns_loss(device: str) -> None:
    params = _quadratic_params(device)
    opt = optim.SGD(params, lr=0.1)

    def closure() -> mg.Tensor:
        opt.zero_grad()
        loss = _loss(params)
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, mg.Tensor) and params[0].grad is not None


def test_param_groups_and_add_param_group(device: str) -> None:
    a, b = _quadratic_params(device)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["params"] == [b]
    c = Parameter(mg.ones(2, device=device))
    opt.add_param_group({"params": [c], "lr": 1.0, "momentum": 0.0})
    c.grad = mg.ones(2, device=device)
    opt.step()
    assert_close(c, [0.0, 0.0])
    assert "Parameter Group 2" in repr(opt)


def test_adagrad_state_is_created_eagerly(device: str) -> None:
    params = _quadratic_params(device)
    opt = optim.Adagrad(params, initial_accumulator_value=0.5)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1] and sd["state"][0]["step"] == 0
    exactly(sd["state"][1]["sum"], [0.5, 0.5, 0.5])


def test_grad_shape_mismatch_is_an_error() -> None:
    p = Parameter(mg.zeros(3))
    p.grad = mg.zeros(1, 3)
    with pytest.raises(RuntimeError, match=r"gradient of shape \(1, 3\) does not match"):
        optim.SGD([p], lr=0.1).step()


# ---------------------------------------------------------------------------- state_dict

def _train(opt: optim.Optimizer, params: list[Parameter], steps: int,
           sched: Any = None) -> None:
    for _ in range(steps):
        opt.zero_grad()
        _loss(params).backward()
        opt.step()
        if sched is not None:
            sched.step()


@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_checkpoint_mid_training_continues_identically(cls: Any, kwargs: dict, device: str,
                                                       tmp_path: Path) -> None:
    # reference: 8 uninterrupted steps
    ref = _quadratic_params(device, mg.float64)
    ref_opt = cls(ref, **kwargs)
    ref_sched = lr_scheduler.StepLR(ref_opt, step_size=3, gamma=0.5)
    _train(ref_opt, ref, 8, ref_sched)

    # 4 steps, save params + optimizer + scheduler, restore into fresh objects, 4 more steps
    params = _quadratic_params(device, mg.float64)
    opt = cls(params, **kwargs)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    _train(opt, params, 4, sched)
    save({"params": [p.detach() for p in params], "optim": opt.state_dict(),
          "sched": sched.state_dict()}, tmp_path / "ckpt.npz")
    _train(opt, params, 2, sched)  # training on must not change the saved checkpoint

    ckpt = load(tmp_path / "ckpt.npz", map_location=device)
    assert sorted(ckpt["optim"]["state"]) == [0, 1]  # int keys survive
    params2 = [Parameter(t) for t in ckpt["params"]]
    opt2 = cls(params2, **kwargs)
    sched2 = lr_scheduler.StepLR(opt2, step_size=3, gamma=0.5)
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    _train(opt2, params2, 4, sched2)
    for p, r in zip(params2, ref):
        assert p.device == mg.device(device)
        exactly(p, r)
    assert sched2.get_last_lr() == ref_sched.get_last_lr() and sched2.last_epoch == 8
    for s2, s_ref in zip(opt2.state.values(), ref_opt.state.values()):
        assert s2.keys() == s_ref.keys()
        for k in s2:
            exactly(s2[k], s_ref[k])


def test_state_dict_layout_and_round_trip(device: str) -> None:
    a, b = _quadratic_params(device)
    opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.01}], betas=(0.8, 0.9))
    _train(opt, [a, b], 2)
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        {"lr": 0.001, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0.0,
         "amsgrad": False, "params": [0]},
        {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-8, "weight_decay": 0.0,
         "amsgrad": False, "params": [1]}]
    assert sd["state"][1]["step"] == 2 and sorted(sd["state"][1]) == [
        "exp_avg", "exp_avg_sq", "step"]

    # loading copies (no aliasing with the dict) and takes the saved options
    a2, b2 = _quadratic_params(device)
    opt2 = optim.Adam([a2, b2], lr=0.5)
    with pytest.raises(ValueError, match="1 parameter groups, this optimizer has 2|2 parameter"
                                         " groups, this optimizer has 1"):
        opt2.load_state_dict(sd)
    opt2 = optim.Adam([{"params": [a2]}, {"params": [b2]}], lr=0.5)
    opt2.load_state_dict(sd)
    assert [g["lr"] for g in opt2.param_groups] == [0.001, 0.01]
    assert opt2.param_groups[0]["params"] == [a2]
    assert opt2.state[b2]["exp_avg"] is not sd["state"][1]["exp_avg"].data
    exactly(opt2.state[b2]["exp_avg"], sd["state"][1]["exp_avg"])


def test_load_state_dict_moves_to_param_device_and_dtype(device: str) -> None:
    src = _quadratic_params("cpu", mg.float64)
    opt = optim.RMSprop(src, momentum=0.5)
    _train(opt, src, 2)
    dst = _quadratic_params(device, mg.float32)
    opt2 = optim.RMSprop(dst, momentum=0.5)
    opt2.load_state_dict(opt.state_dict())
    for p in dst:
        for k, v in opt2.state[p].items():
            if k != "step":
                assert backend.device_of(v) == mg.device(device) and v.dtype == np.float32
    _train(opt2, dst, 1)
    assert opt2.state[dst[0]]["step"] == 3


def test_load_state_dict_errors() -> None:
    a, b = _quadratic_params("cpu")
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    _train(opt, [a, b], 1)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="group 0 has 2 parameters, this optimizer's has 1"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    bad = {"state": {0: {"momentum_buffer": mg.zeros(5)}}, "param_groups": sd["param_groups"]}
    with pytest.raises(ValueError, match=r"has shape \(5,\), the parameter has shape \(2, 2\)"):
        opt.load_state_dict(bad)


# ---------------------------------------------------------------------------- errors

def test_constructor_errors() -> None:
    p = Parameter(mg.zeros(2))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got a Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors, but parameter 1 of group 0"
                                        " is a int"):
        optim.SGD([p, 3], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([mg.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="same parameter twice"):
        optim.SGD([p, p], lr=0.1)
    q = Parameter(mg.zeros(2))
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p, q]}, {"params": [q]}], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['betas'\] in parameter group 0"):
        optim.SGD([{"params": [p], "betas": (0.9, 0.99)}], lr=0.1)
    with pytest.raises(TypeError):
        optim.Adam([p], lr=0.1, momentum=0.9)  # not an Adam option
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        optim.Adam([p], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.SGD([{"params": [p], "lr": -1}], lr=0.1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.AdamW([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid epsilon value"):
        optim.RMSprop([p], eps=-1.0)
    with pytest.raises(ValueError, match="Invalid lr_decay value"):
        optim.Adagrad([p], lr_decay=-1.0)
    with pytest.raises(ValueError, match="Invalid weight_decay value"):
        optim.SGD([p], lr=0.1, weight_decay=-1e-3)


# ---------------------------------------------------------------------------- schedulers

def test_scheduler_basics_and_state_dict() -> None:
    p = Parameter(mg.zeros(2))
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    assert sched.last_epoch == 0 and sched.get_last_lr() == [1.0]
    assert opt.param_groups[0]["initial_lr"] == 1.0
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.125] and opt.param_groups[0]["lr"] == 0.125
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 3

    # resume into a fresh optimizer + scheduler
    opt2 = optim.SGD([Parameter(mg.zeros(2))], lr=1.0)
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.ExponentialLR(opt2, gamma=0.5)
    sched2.load_state_dict(sd)
    opt2.step()
    sched2.step()
    assert sched2.get_last_lr() == [0.0625] and sched2.last_epoch == 4


def test_scheduler_resume_with_last_epoch_needs_initial_lr() -> None:
    opt = optim.SGD([Parameter(mg.zeros(2))], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    opt.param_groups[0]["initial_lr"] = 1.0
    # values from torch 2.13: resuming continues recursively from the group's current lr
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
    assert sched.get_last_lr() == [1.0] and sched.last_epoch == 5
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.6909830056250527] and sched.last_epoch == 6
    opt2 = optim.SGD([Parameter(mg.zeros(2))], lr=1.0)
    opt2.param_groups[0]["initial_lr"] = 1.0
    assert lr_scheduler.StepLR(opt2, step_size=2, last_epoch=3).get_last_lr() == [0.1]


def test_scheduler_warns_when_stepped_before_optimizer() -> None:
    opt = optim.SGD([Parameter(mg.zeros(2))], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()


def test_scheduler_errors() -> None:
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)  # type: ignore[arg-type]
    opt = optim.SGD([Parameter(mg.zeros(2))], lr=1.0)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        lr_scheduler.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max must be positive"):
        lr_scheduler.CosineAnnealingLR(opt, T_max=0)


@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_step_allocates_no_parameter_sized_temporaries(cls: Any, kwargs: dict) -> None:
    """After the first step, updates reuse the state and scratch buffers (fresh large arrays
    cost page faults: see benchmarks/README.md)."""
    import tracemalloc

    p = Parameter(mg.randn(256, 256))
    p.grad = mg.randn(256, 256)
    opt = cls([p], **kwargs)
    opt.step()  # creates state and scratch
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            opt.step()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < p.data.nbytes // 8, f"step allocated {peak} bytes (param: {p.data.nbytes})"
