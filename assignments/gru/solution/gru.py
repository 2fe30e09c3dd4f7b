"""Assignment: a gated recurrent unit (GRU) in minigrad -- reference solution.

Same interface as ``template/gru.py``; see that file for the task as the students get it.
"""

from __future__ import annotations

import math

import minigrad as mg
from minigrad import Tensor
from minigrad.autograd import Function
from minigrad.nn import Module, Parameter


class Tanh(Function):
    """tanh as a custom autograd Function: forward and backward written by hand."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> Tensor:
        # tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}): e^{-2|x|} <= 1 never overflows
        e = (-2 * x.abs()).exp()
        y = x.sign() * (1 - e) / (1 + e)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        # d tanh(x) / dx = 1 - tanh(x)^2, from the saved output
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


def tanh(x: Tensor) -> Tensor:
    """Apply :class:`Tanh` (use this inside :func:`gru_cell`)."""
    return Tanh.apply(x)


def gru_cell(x: Tensor, h: Tensor, weight_ih: Tensor, weight_hh: Tensor,
             bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """One GRU step, PyTorch's parameterization; see the template for the equations."""
    gi = x @ weight_ih.T
    gh = h @ weight_hh.T
    if bias_ih is not None:
        gi = gi + bias_ih
    if bias_hh is not None:
        gh = gh + bias_hh
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def gru_sequence(xs: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor,
                 bias_ih: Tensor | None = None,
                 bias_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Run :func:`gru_cell` over a sequence (T, B, input_size); returns (outputs, h_T)."""
    h = h0
    outputs = []
    for t in range(xs.shape[0]):
        h = gru_cell(xs[t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        outputs.append(h)
    return mg.stack(outputs), h


class GRUCell(Module):
    """A GRU cell module with PyTorch's parameter names, shapes and initialisation."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        k = 1.0 / math.sqrt(hidden_size)

        def uniform(*shape: int) -> Parameter:
            return Parameter(mg.rand(*shape) * (2 * k) - k)

        self.weight_ih = uniform(3 * hidden_size, input_size)
        self.weight_hh = uniform(3 * hidden_size, hidden_size)
        if bias:
            self.bias_ih = uniform(3 * hidden_size)
            self.bias_hh = uniform(3 * hidden_size)
        else:
            self.bias_ih = None
            self.bias_hh = None

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        if h is None:
            h = mg.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
        return gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
