"""Ops on 0-d and empty tensors, forward and backward, as PyTorch computes them.

Property tests: hypothesis draws shapes that include ``()`` and dimensions of size 0 (and
broadcasts between them), runs each op in minigrad and in PyTorch (float64), and compares
values and gradients. An empty tensor must give an empty result and an empty gradient, never
an error or a NaN where PyTorch has none; a 0-d tensor must stay 0-d.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import assert_close

torch = pytest.importorskip("torch")

SHAPES = st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple)

UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "square": lambda t: t * t,
    "pow3": lambda t: t ** 3,
    "sum": lambda t: t.sum(),
    "mean": lambda t: t.mean(),
    "sum_last": lambda t: t.sum(-1) if t.ndim else t.sum(),
    "mean_first": lambda t: t.mean(0) if t.ndim else t.mean(),
    "flatten": lambda t: t.reshape(-1),
    "transpose": lambda t: t.transpose(0, -1) if t.ndim else t,
    "unsqueeze": lambda t: t.unsqueeze(0),
    "clone": lambda t: t.clone(),
    "clamp": lambda t: t.clamp(-0.5, 0.5),
    "sqrt": lambda t: (t * t + 1).sqrt(),
    "log": lambda t: (t * t + 1).log(),
    "slice": lambda t: t[..., :1] if t.ndim else t,
    "var": lambda t: t.var() if t.numel() > 1 else t.sum(),
    "max": lambda t: t.max() if t.numel() else t.sum(),  # an empty max raises in both
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
}


def _both(shape: tuple, seed: int) -> tuple[Any, Any]:
    x = np.random.default_rng(seed).standard_normal(shape)
    return mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def _run(fn: Callable[..., Any], ours: list[Any], theirs: list[Any],
         torch_fn: Callable[..., Any] | None = None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's mean of nothing warns; so may NumPy
        ym, yt = fn(*ours), (torch_fn or fn)(*theirs)
    assert tuple(ym.shape) == tuple(yt.shape)
    assert_close(ym, yt.detach().numpy(), equal_nan=True)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        assert a.grad is not None and a.grad.shape == a.shape
        assert_close(a.grad, b.grad.numpy(), equal_nan=True)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8, deadline=None)
@given(shape=SHAPES)
def test_unary_on_empty_and_zero_dim(name: str, shape: tuple) -> None:
    xm, xt = _both(shape, 0)
    _run(UNARY[name], [xm], [xt])


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div"])
@settings(max_examples=15, deadline=None)
@given(shape=SHAPES, drop=st.integers(0, 3), ones=st.lists(st.booleans(), min_size=3,
                                                            max_size=3))
def test_binary_broadcast_on_empty_and_zero_dim(name: str, shape: tuple, drop: int,
                                                ones: list[bool]) -> None:
    # the second operand: a suffix of the first's shape, some dimensions set to 1
    other = tuple(1 if o else d for d, o in zip(shape[drop:], ones))
    (am, at), (bm, bt) = _both(shape, 0), _both(other, 2)
    _run(BINARY[name], [am, bm], [at, bt])


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 3), k=st.integers(0, 3), m=st.integers(0, 3))
def test_matmul_with_empty_dimensions(n: int, k: int, m: int) -> None:
    (am, at), (bm, bt) = _both((n, k), 0), _both((k, m), 1)
    _run(lambda a, b: a @ b, [am, bm], [at, bt])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(0, 3), (2, 0), (0,), (3, 0, 2)])
def test_softmax_of_empty(fn: str, shape: tuple) -> None:
    xm, xt = _both(shape, 0)
    ym = getattr(mg.nn.functional, fn)(xm, dim=-1)
    yt = getattr(torch.nn.functional, fn)(xt, dim=-1)
    assert tuple(ym.shape) == tuple(yt.shape)
    ym.sum().backward()
    yt.sum().backward()
    assert_close(xm.grad, xt.grad.numpy())


def test_zero_dim_stays_zero_dim() -> None:
    x = mg.tensor(2.0, requires_grad=True)
    y = (x * 3).exp().sum()
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    assert_close(x.grad, np.array(3 * np.exp(6.0), np.float32))


@pytest.mark.parametrize("x_shape, w_shape", [((0, 3), (2, 3)), ((4, 0), (2, 0)),
                                              ((4, 3), (0, 3)), ((2, 0, 3), (5, 3)),
                                              ((3,), (2, 3))])
def test_linear_with_empty_dimensions(x_shape: tuple, w_shape: tuple) -> None:
    (xm, xt), (wm, wt), (bm, bt) = _both(x_shape, 0), _both(w_shape, 1), _both(w_shape[:1], 2)
    _run(mg.nn.functional.linear, [xm, wm, bm], [xt, wt, bt], torch.nn.functional.linear)
