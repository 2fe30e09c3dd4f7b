"""Assignment: a gated recurrent unit (GRU) in minigrad.

Fill in every function and method that raises NotImplementedError (``# YOUR CODE HERE``).
Use minigrad operations only (``+ - * / @``, ``.sigmoid()``, ``.chunk()``, ``.T``, indexing,
``mg.stack``, ...): no NumPy on tensor values, no ``.data``, no ``.numpy()`` -- otherwise no
gradient can flow. Do not use ``Tensor.tanh`` or ``mg.nn.GRUCell``: part 1 asks you to write
tanh yourself, and the grader checks that your GRU uses it.

Part 1 -- ``Tanh``, a custom autograd Function (PyTorch's ``torch.autograd.Function`` API):
``forward(ctx, x)`` computes y = tanh(x) and saves what backward needs with
``ctx.save_for_backward(...)``; ``backward(ctx, grad)`` returns dL/dx given grad = dL/dy.
Inside ``forward`` and ``backward`` operations are not recorded, so compute freely. Make
forward accurate for large |x| (tanh(50) is 1, not NaN): e^(2x) overflows, e^(-2|x|) does not.

Part 2 -- ``gru_cell``: one step of a GRU, with PyTorch's parameterization. For an input x of
shape (B, input_size) and a state h of shape (B, H)::

    r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)          reset gate
    z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)          update gate
    n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))       candidate state (use YOUR tanh)
    h' = (1 - z) * n + z * h

``weight_ih`` (3H, input_size) stacks [W_ir; W_iz; W_in] (in this order: r, z, n),
``weight_hh`` (3H, H) stacks [W_hr; W_hz; W_hn], and ``bias_ih``, ``bias_hh`` (3H,) the
biases likewise; either bias may be None (no bias). "W x" for a batch is ``x @ W.T``.

Part 3 -- ``gru_sequence``: run the cell over a sequence xs of shape (T, B, input_size) from
the state h0 (B, H); return the stacked states (T, B, H) and the last state (B, H).
Backpropagation through time then comes for free from the graph.

Part 4 -- ``GRUCell``: a module holding the parameters, named and shaped as in PyTorch
(``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``, registered in that order, as
``mg.nn.Parameter``), each initialised from U(-1/sqrt(H), 1/sqrt(H)); ``bias=False`` means
no bias parameters at all. ``forward(x, h=None)`` starts from zeros when h is None (same dtype
and device as x). Weights trained in PyTorch then load with ``cell.load_state_dict(...)``.

Check your work with ``pytest test_gru.py`` in this folder; your instructor grades it with more
tests, comparing your results and gradients with PyTorch's.
"""

from __future__ import annotations

import math  # noqa: F401  (you may need it)

import minigrad as mg  # noqa: F401
from minigrad import Tensor
from minigrad.autograd import Function
from minigrad.nn import Module, Parameter  # noqa: F401


class Tanh(Function):
    """tanh as a custom autograd Function: forward and backward written by hand."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> Tensor:
        """Return tanh(x), computed without Tensor.tanh; save what backward needs."""
        # YOUR CODE HERE
        raise NotImplementedError()

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        """Given grad = dL/dy, return dL/dx (same shape as x)."""
        # YOUR CODE HERE
        raise NotImplementedError()


def tanh(x: Tensor) -> Tensor:
    """Apply :class:`Tanh` (use this inside :func:`gru_cell`)."""
    return Tanh.apply(x)


def gru_cell(x: Tensor, h: Tensor, weight_ih: Tensor, weight_hh: Tensor,
             bias_ih: Tensor | None = None, bias_hh: Tensor | None = None) -> Tensor:
    """One GRU step: return h' of shape (B, H). See the module docstring for the equations."""
    # YOUR CODE HERE
    raise NotImplementedError()


def gru_sequence(xs: Tensor, h0: Tensor, weight_ih: Tensor, weight_hh: Tensor,
                 bias_ih: Tensor | None = None,
                 bias_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Run :func:`gru_cell` over xs (T, B, input_size) from h0 (B, H).

    Returns ``(outputs, h_T)``: every step's state stacked, (T, B, H), and the last one, (B, H).
    """
    # YOUR CODE HERE
    raise NotImplementedError()


class GRUCell(Module):
    """A GRU cell module with PyTorch's parameter names, shapes and initialisation."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        # YOUR CODE HERE
        raise NotImplementedError()

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        """Return h' for x (B, input_size) and h (B, H), or zeros for h when it is None."""
        # YOUR CODE HERE
        raise NotImplementedError()
