"""Tensor creation, dtype rules, devices, errors and broadcasting properties."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import assert_close


def test_creation_defaults() -> None:
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor(True).dtype == mg.bool
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).shape == (2, 3)
    assert mg.arange(5).dtype == mg.int64 and mg.arange(0.0, 1.0, 0.25).shape == (4,)
    assert mg.full((2,), 7).dtype == mg.int64
    assert mg.eye(3, dtype=mg.float64).dtype == mg.float64
    assert mg.randn(4, requires_grad=True).requires_grad
    assert_close(mg.ones_like(mg.zeros(2, 2)), np.ones((2, 2), np.float32), rtol=0, atol=0)


def test_manual_seed_makes_randn_repeatable(device: str) -> None:
    mg.manual_seed(7)
    a = mg.randn(3, device=device).cpu().numpy()
    mg.manual_seed(7)
    b = mg.randn(3, device=device).cpu().numpy()
    assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("a_dtype,b,expected", [
    ("float32", 2.5, "float32"),  # Python scalars never upcast
    ("int64", 2.5, "float32"),  # int tensor with a Python float: the default float
    ("int64", 2, "int64"),
    ("float32", np.float64(2.0), "float32"),  # a NumPy scalar is treated as a 0-d tensor
])
def test_scalar_promotion(a_dtype: str, b: object, expected: str) -> None:
    assert (mg.ones(3, dtype=a_dtype) * b).dtype == mg.dtypes.to_dtype(expected)


@pytest.mark.parametrize("da,db,expected", [
    ("float32", "float64", "float64"),
    ("int64", "float32", "float32"),  # NumPy would say float64
    ("bool", "int64", "int64"),
])
def test_tensor_promotion(da: str, db: str, expected: str) -> None:
    assert (mg.ones(2, dtype=da) + mg.ones(2, dtype=db)).dtype == mg.dtypes.to_dtype(expected)


def test_zero_dim_tensor_does_not_upcast_same_kind() -> None:
    assert (mg.ones(3, dtype=mg.float32) * mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float32
    assert (mg.ones(3, dtype=mg.int64) * mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float64


def test_true_division_of_integers_is_float() -> None:
    assert (mg.tensor([1, 2]) / 2).dtype == mg.float32


def test_clear_errors_for_bad_input() -> None:
    with pytest.raises(RuntimeError, match=r"\(2, 3\) and \(4, 5\)"):
        mg.ones(2, 3) @ mg.ones(4, 5)
    with pytest.raises(RuntimeError, match=r"Add failed on inputs of shape \(2, 3\)"):
        mg.ones(2, 3) + mg.ones(4)
    with pytest.raises(TypeError, match="unknown dtype 'floot32'"):
        mg.zeros(2, dtype="floot32")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        mg.zeros(2, device="gpu")
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 2"):
        mg.ones(2, 3)[5]
    with pytest.raises(RuntimeError, match=r"shape \(4, 4\) is invalid for a tensor of shape"):
        mg.ones(2, 3).reshape(4, 4)
    with pytest.raises(RuntimeError, match="stack expects tensors of equal shape"):
        mg.stack([mg.ones(2), mg.ones(3)])


def test_broadcast_error_names_both_shapes() -> None:
    with pytest.raises(Exception) as info:
        mg.ones(2, 3) + mg.ones(4)
    assert "(2,3)" in str(info.value).replace(" ", "") and "(4,)" in str(info.value)


def test_device_mismatch_names_both_devices() -> None:
    a = mg.ones(2)
    b = mg.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match=r"different devices \(cpu, cuda:0\)"):
        a + b


def test_to_device_round_trip_and_gradient_flows_back() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == mg.device("cuda") and y.device.type == "cuda"
    (y * y).sum().backward()
    assert x.grad.device == mg.device("cpu")
    assert_close(x.grad, [2.0, 4.0])
    assert y.detach().numpy().tolist() == [1.0, 2.0]  # numpy() copies off the device


def test_fake_device_is_strict() -> None:
    data = mg.ones(3, device="cuda").data
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(data)
    with pytest.raises(TypeError):
        data + np.ones(3)
    with pytest.raises(TypeError):
        float(data)
    assert float(data.sum()) == 3.0


def test_set_default_device() -> None:
    try:
        mg.set_default_device("cuda")
        assert mg.zeros(2).device.type == "cuda"
    finally:
        mg.set_default_device("cpu")
    assert mg.zeros(2).device.type == "cpu"


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "MINIGRAD_FAKE_CUDA"}
    clean.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=clean, timeout=60)


def test_import_is_light_and_lazy() -> None:
    r = _run_python("import sys, minigrad; "
                    "print(sorted(m for m in ('cupy', 'matplotlib', 'torch', 'tqdm') "
                    "if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_cuda_without_cupy_gives_install_hint() -> None:
    code = ("import sys; sys.modules['cupy'] = None\nimport minigrad as mg\n"
            "print(mg.cuda.is_available())\n"
            "try:\n    mg.zeros(2, device='cuda')\nexcept RuntimeError as e:\n    print(e)")
    r = _run_python(code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("False")
    assert "pip install 'minigrad-rnn[cuda12]'" in r.stdout


def test_cuda_synchronize() -> None:
    """``mg.cuda.synchronize()`` (as ``torch.cuda.synchronize``): a no-op on the fake device,
    after its work; without a device, an error that says what is missing."""
    code = ("import minigrad as mg\n(mg.ones(3, device='cuda') * 2).sum()\n"
            "print(mg.cuda.synchronize())")
    r = _run_python(code, MINIGRAD_FAKE_CUDA="1")
    assert r.returncode == 0 and r.stdout.strip() == "None", r.stderr
    code = ("import sys; sys.modules['cupy'] = None\nimport minigrad as mg\n"
            "try:\n    mg.cuda.synchronize()\nexcept RuntimeError as e:\n    print(e)")
    r = _run_python(code)
    assert r.returncode == 0, r.stderr
    assert "no CUDA device is available" in r.stdout and "MINIGRAD_FAKE_CUDA" in r.stdout


def test_item_tolist_and_repr() -> None:
    t = mg.tensor([[1.0, 2.0]])
    assert t[0, 1].item() == 2.0 and t.tolist() == [[1.0, 2.0]]
    assert "tensor([[1., 2.]])" == repr(t)
    assert "requires_grad=True" in repr(mg.ones(1, requires_grad=True))
    with pytest.raises(RuntimeError, match="detach"):
        mg.ones(1, requires_grad=True).numpy()


shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4)


@settings(max_examples=60, deadline=None)
@given(shapes=shapes, op=st.sampled_from(["add", "sub", "mul", "div"]))
def test_broadcast_gradients_sum_back_to_input_shapes(shapes, op: str) -> None:
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal(sa), rng.uniform(0.5, 2.0, sb)
    a = mg.tensor(a_np, dtype=mg.float64, requires_grad=True)
    b = mg.tensor(b_np, dtype=mg.float64, requires_grad=True)
    y = {"add": a + b, "sub": a - b, "mul": a * b, "div": a / b}[op]
    g = rng.standard_normal(out_shape)
    y.backward(mg.tensor(g, dtype=mg.float64))
    assert a.grad.shape == tuple(sa) and b.grad.shape == tuple(sb)
    da, db = {"add": (1, 1), "sub": (1, -1), "mul": (b_np, a_np),
              "div": (1 / b_np, -a_np / b_np**2)}[op]

    def sum_to(x: np.ndarray, shape: tuple) -> np.ndarray:
        x = np.broadcast_to(x, out_shape)
        while x.ndim > len(shape):
            x = x.sum(0)
        return x.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True)

    assert_close(a.grad, sum_to(g * da, sa), rtol=1e-12, atol=1e-12)
    assert_close(b.grad, sum_to(g * db, sb), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(arr=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                      elements=st.floats(-10, 10)),
       dim=st.integers(-3, 2), keep=st.booleans())
def test_sum_and_mean_over_any_dim(arr: np.ndarray, dim: int, keep: bool) -> None:
    if not -arr.ndim <= dim < arr.ndim:
        with pytest.raises(IndexError, match="out of range"):
            mg.tensor(arr).sum(dim)
        return
    x = mg.tensor(arr, requires_grad=True)
    s = x.sum(dim, keepdim=keep)
    assert_close(s, arr.sum(dim, keepdims=keep))
    x.mean(dim=dim, keepdim=keep).sum().backward()
    assert_close(x.grad, np.full(arr.shape, 1 / arr.shape[dim]))
