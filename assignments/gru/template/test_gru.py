"""Checks you can run yourself: ``pytest test_gru.py`` in this folder.

They use minigrad's pytest fixtures: ``device`` (each available backend: cpu, and cuda on a
machine with a GPU) and ``rng`` (a seeded NumPy generator). Passing them is a good sign, not a
grade: the grader also compares your values and gradients with PyTorch's.
"""

from __future__ import annotations

import numpy as np
from gru import GRUCell, gru_cell, gru_sequence, tanh

import minigrad as mg
from minigrad.testing import assert_close, check_gradients

pytest_plugins = ["minigrad.testing.pytest_plugin"]

B, IN, H, T = 2, 3, 4, 5


def randn(rng: np.random.Generator, *shape: int, device: str = "cpu",
          requires_grad: bool = False) -> mg.Tensor:
    return mg.tensor(rng.standard_normal(shape), dtype=mg.float64, device=device,
                     requires_grad=requires_grad)


def test_tanh_values(device: str, rng: np.random.Generator) -> None:
    x = randn(rng, 3, 4, device=device)
    assert_close(tanh(x), np.tanh(x.numpy()))
    big = mg.tensor([-50.0, 50.0], device=device)
    assert_close(tanh(big), [-1.0, 1.0])  # no NaN for large |x|


def test_tanh_gradient(device: str, rng: np.random.Generator) -> None:
    x = randn(rng, 3, 4, device=device, requires_grad=True)
    check_gradients(tanh, [x], raise_exception=True)


def test_gru_cell_shapes_and_gradients(device: str, rng: np.random.Generator) -> None:
    inputs = {"x": randn(rng, B, IN, device=device, requires_grad=True),
              "h": randn(rng, B, H, device=device, requires_grad=True),
              "weight_ih": randn(rng, 3 * H, IN, device=device, requires_grad=True),
              "weight_hh": randn(rng, 3 * H, H, device=device, requires_grad=True),
              "bias_ih": randn(rng, 3 * H, device=device, requires_grad=True),
              "bias_hh": randn(rng, 3 * H, device=device, requires_grad=True)}
    assert gru_cell(**inputs).shape == (B, H)
    check_gradients(gru_cell, inputs, raise_exception=True)


def test_gru_sequence_shapes(device: str, rng: np.random.Generator) -> None:
    cell = GRUCell(IN, H).to(device)
    xs = randn(rng, T, B, IN, device=device).float()
    h0 = mg.zeros(B, H, device=device)
    out, h_t = gru_sequence(xs, h0, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    assert out.shape == (T, B, H) and h_t.shape == (B, H)
    assert_close(out[-1], h_t)


def test_gru_cell_module(rng: np.random.Generator) -> None:
    cell = GRUCell(IN, H)
    shapes = {name: p.shape for name, p in cell.named_parameters()}
    assert shapes == {"weight_ih": (3 * H, IN), "weight_hh": (3 * H, H),
                      "bias_ih": (3 * H,), "bias_hh": (3 * H,)}
    assert [name for name, _ in GRUCell(IN, H, bias=False).named_parameters()] == [
        "weight_ih", "weight_hh"]
    assert cell(mg.randn(B, IN)).shape == (B, H)
