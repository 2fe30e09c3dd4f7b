"""Every op: forward against NumPy, backward against finite differences (float64), per device.

One declarative table: each case names the op, the input shapes, and one expression written
once for minigrad tensors and once for NumPy arrays (the reference for the forward values).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import assert_close

# name, input shapes, minigrad fn, numpy fn (None: forward checked elsewhere), positive inputs
Case = tuple[str, list[tuple], Callable[..., Any], Callable[..., Any] | None, bool]

CASES: list[Case] = [
    ("add_broadcast", [(3, 1, 4), (2, 4)], lambda a, b: a + b, lambda a, b: a + b, False),
    ("add_scalar", [(2, 3)], lambda a: 2.5 + a, lambda a: 2.5 + a, False),
    ("sub_broadcast", [(4,), (3, 4)], lambda a, b: a - b, lambda a, b: a - b, False),
    ("rsub_scalar", [(3,)], lambda a: 1 - a, lambda a: 1 - a, False),
    ("mul_broadcast", [(2, 1), (1, 3)], lambda a, b: a * b, lambda a, b: a * b, False),
    ("mul_0d", [(), (2, 3)], lambda a, b: a * b, lambda a, b: a * b, False),
    ("div", [(2, 3), (2, 3)], lambda a, b: a / b, lambda a, b: a / b, True),
    ("rdiv_scalar", [(4,)], lambda a: 3.0 / a, lambda a: 3.0 / a, True),
    ("pow_scalar", [(2, 3)], lambda a: a**3, lambda a: a**3, False),
    ("pow_half", [(2, 3)], lambda a: a**0.5, lambda a: a**0.5, True),
    ("pow_tensor", [(2, 3), (2, 3)], lambda a, b: a**b, lambda a, b: a**b, True),
    ("rpow", [(3,)], lambda a: 2.0**a, lambda a: 2.0**a, False),
    ("neg", [(2, 2)], lambda a: -a, lambda a: -a, False),
    ("exp", [(3, 2)], lambda a: a.exp(), np.exp, False),
    ("log", [(3, 2)], lambda a: a.log(), np.log, True),
    ("sqrt", [(3, 2)], lambda a: a.sqrt(), np.sqrt, True),
    ("abs", [(5,)], lambda a: a.abs(), np.abs, False),
    ("tanh", [(3, 4)], lambda a: a.tanh(), np.tanh, False),
    ("sigmoid", [(3, 4)], lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), False),
    ("relu", [(3, 4)], lambda a: a.relu(), lambda a: np.maximum(a, 0), False),
    ("clamp", [(3, 4)], lambda a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), False),
    ("clamp_min", [(3, 4)], lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), False),
    ("where", [(3, 4), (3, 4)], lambda a, b: mg.where(a > 0, a, b),
     lambda a, b: np.where(a > 0, a, b), False),
    ("matmul_2d", [(3, 4), (4, 2)], lambda a, b: a @ b, lambda a, b: a @ b, False),
    ("matmul_batched", [(2, 3, 4), (4, 5)], lambda a, b: a @ b, lambda a, b: a @ b, False),
    ("matmul_bcast", [(2, 1, 3, 4), (3, 4, 2)], lambda a, b: a @ b, lambda a, b: a @ b, False),
    ("matmul_vec_mat", [(4,), (4, 3)], lambda a, b: a @ b, lambda a, b: a @ b, False),
    ("matmul_mat_vec", [(3, 4), (4,)], lambda a, b: a @ b, lambda a, b: a @ b, False),
    ("matmul_vec_vec", [(4,), (4,)], lambda a, b: a @ b, lambda a, b: a @ b, False),
    ("sum_all", [(3, 4)], lambda a: a.sum(), lambda a: a.sum(), False),
    ("sum_dim", [(3, 4, 2)], lambda a: a.sum(1), lambda a: a.sum(1), False),
    ("sum_tuple_keep", [(3, 4, 2)], lambda a: a.sum((0, -1), keepdim=True),
     lambda a: a.sum((0, 2), keepdims=True), False),
    ("sum_axis_alias", [(3, 4)], lambda a: a.sum(axis=-1, keepdims=True),
     lambda a: a.sum(-1, keepdims=True), False),
    ("mean", [(3, 4)], lambda a: a.mean(0), lambda a: a.mean(0), False),
    ("var", [(3, 4)], lambda a: a.var(1), lambda a: a.var(1, ddof=1), False),
    ("var_biased", [(3, 4)], lambda a: a.var(unbiased=False), lambda a: a.var(), False),
    ("max_all", [(3, 4)], lambda a: a.max(), lambda a: a.max(), False),
    ("max_dim", [(3, 4)], lambda a: a.max(1)[0], lambda a: a.max(1), False),
    ("min_dim_keep", [(3, 4)], lambda a: a.min(0, keepdim=True).values,
     lambda a: a.min(0, keepdims=True), False),
    ("amax_tuple", [(2, 3, 4)], lambda a: a.amax((0, 2)), lambda a: a.max((0, 2)), False),
    ("reshape", [(3, 4)], lambda a: a.reshape(2, -1) * 2, lambda a: a.reshape(2, -1) * 2, False),
    ("transpose", [(2, 3, 4)], lambda a: a.transpose(0, 2) * 1, lambda a: a.swapaxes(0, 2),
     False),
    ("permute", [(2, 3, 4)], lambda a: a.permute(2, 0, 1) * 1,
     lambda a: a.transpose(2, 0, 1), False),
    ("T", [(2, 3)], lambda a: a.T * 1, lambda a: a.T, False),
    ("unsqueeze_squeeze", [(3, 1, 2)], lambda a: a.squeeze(1).unsqueeze(0) * 1,
     lambda a: a.squeeze(1)[None], False),
    ("flatten", [(2, 3, 4)], lambda a: a.flatten(1) * 1, lambda a: a.reshape(2, 12), False),
    ("expand", [(3, 1)], lambda a: a.expand(2, 3, 4) * 1,
     lambda a: np.broadcast_to(a, (2, 3, 4)), False),
    ("chunk", [(6, 2)], lambda a: a.chunk(3)[1] * 2, lambda a: a[2:4] * 2, False),
    ("split_sizes_two_used", [(5, 2)], lambda a: a.split([2, 3])[0].sum() * a.split([2, 3])[1],
     lambda a: a[:2].sum() * a[2:], False),
    ("getitem_basic", [(4, 5)], lambda a: a[1:3, ::2] * 1, lambda a: a[1:3, ::2], False),
    ("getitem_int_none_ellipsis", [(2, 3, 4)], lambda a: a[1, None, ..., -1] * 1,
     lambda a: a[1, None, ..., -1], False),
    ("getitem_repeated", [(4, 3)], lambda a: a[[0, 2, 0, 0]] * 1, lambda a: a[[0, 2, 0, 0]],
     False),
    ("getitem_mask", [(3, 4)], lambda a: a[a > 0] * 1, lambda a: a[a > 0], False),
    ("cat", [(2, 3), (1, 3)], lambda a, b: mg.cat([a, b, a]), lambda a, b: np.concatenate(
        [a, b, a]), False),
    ("stack", [(2, 3), (2, 3)], lambda a, b: mg.stack([a, b], dim=1),
     lambda a, b: np.stack([a, b], 1), False),
    ("clone", [(2, 3)], lambda a: a.clone() * 1, lambda a: a, False),
    ("chain", [(3, 4), (4,)], lambda a, b: ((a * b + b).tanh() ** 2).sum(0) / a.shape[0],
     lambda a, b: (np.tanh(a * b + b) ** 2).sum(0) / 3, False),
]


def _inputs(shapes: list[tuple], positive: bool, device: str, seed: int) -> list[mg.Tensor]:
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = rng.standard_normal(s)
        if positive:
            a = np.abs(a) + 0.5
        out.append(mg.tensor(a, dtype=mg.float64, device=device, requires_grad=True))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_forward_matches_numpy(case: Case, device: str) -> None:
    name, shapes, fn, np_fn, positive = case
    xs = _inputs(shapes, positive, device, seed=len(name))
    out = fn(*xs)
    assert out.device == mg.device(device)
    if np_fn is not None:
        expected = np_fn(*[x.detach().numpy() for x in xs])
        assert_close(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_backward_matches_finite_differences(case: Case, device: str) -> None:
    name, shapes, fn, _, positive = case
    xs = _inputs(shapes, positive, device, seed=len(name))
    assert mg.autograd.gradcheck(fn, xs, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float32_stays_float32(case: Case, device: str) -> None:
    name, shapes, fn, _, positive = case
    xs = [x.detach().float().requires_grad_() for x in
          _inputs(shapes, positive, device, seed=len(name))]
    out = fn(*xs)
    assert out.dtype == mg.float32
    out.sum().backward()
    for x in xs:
        if x.grad is not None:
            assert x.grad.dtype == mg.float32, f"{name}: gradient became {x.grad.dtype}"
            assert x.grad.shape == x.shape


def test_max_ties_split_like_pytorch() -> None:
    x = mg.tensor([[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]], requires_grad=True)
    x.max().backward()
    assert_close(x.grad, [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])
    x.grad = None
    x.max(1).values.sum().backward()  # with dim: all of it to the first maximal index
    assert_close(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_repeated_indices_accumulate(device: str) -> None:
    x = mg.zeros(3, device=device, requires_grad=True)
    idx = mg.tensor([0, 0, 2, 0], device=device)
    (x[idx] * mg.tensor([1.0, 2.0, 3.0, 4.0], device=device)).sum().backward()
    assert_close(x.grad, [7.0, 0.0, 3.0])


def test_empty_tensors(device: str) -> None:
    x = mg.zeros(0, 3, device=device, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    assert x.grad.shape == (0, 3)
    assert float(y.item()) == 0.0
    w = mg.ones(3, 2, device=device, requires_grad=True)
    assert (x @ w).shape == (0, 2)


# Second derivatives: the same backward rules run on Tensors under create_graph=True.
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_finite_differences(case: Case, device: str) -> None:
    name, shapes, fn, _, positive = case
    xs = _inputs(shapes, positive, device, seed=len(name))
    assert mg.autograd.gradgradcheck(fn, xs, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_hessian_vector_product() -> None:
    """For f(x) = sum(x^3), H = diag(6 x), so H v = 6 x v."""
    x = mg.tensor([1.0, -2.0, 0.5], dtype=mg.float64, requires_grad=True)
    v = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64)
    (g,) = mg.autograd.grad((x**3).sum(), x, create_graph=True)
    (hv,) = mg.autograd.grad((g * v).sum(), x)
    assert_close(hv, 6 * x.detach().numpy() * v.numpy())


def test_gradient_penalty_through_backward_create_graph() -> None:
    w = mg.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=mg.float64, requires_grad=True)
    x = mg.tensor([[1.0, 2.0]], dtype=mg.float64, requires_grad=True)
    out = (x @ w).tanh().sum()
    out.backward(create_graph=True)
    assert x.grad.grad_fn is not None
    penalty = (x.grad**2).sum()
    w.grad = None
    penalty.backward()
    assert mg.autograd.gradcheck(
        lambda w: (mg.autograd.grad((x.detach() @ w).tanh().sum(), w, create_graph=True)[0]
                   ** 2).sum(), [w.detach().requires_grad_()])
    assert w.grad is not None and w.grad.shape == (2, 2)


def test_user_function_double_backward() -> None:
    from tests.test_core_autograd import Cube

    x = mg.tensor([1.0, -2.0], dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradgradcheck(Cube.apply, [x])


def test_op_without_tensor_rule_names_itself() -> None:
    emb = mg.nn.Embedding(5, 3)
    out = emb(mg.tensor([1, 2])).sum()
    with pytest.raises(RuntimeError, match="Embedding does not support create_graph"):
        mg.autograd.grad(out, emb.weight, create_graph=True)
