"""Assignment: softplus as a custom autograd Function (the instructor guide's worked example).

softplus(x) = log(1 + e^x) is a smooth ReLU. Write its forward and backward by hand, as
a ``minigrad.autograd.Function`` (PyTorch's ``torch.autograd.Function`` API):

- ``forward(ctx, x)`` returns y = softplus(x) and saves what backward needs with
  ``ctx.save_for_backward(...)``. It must stay finite for large x: e^x overflows (float32
  from x = 89), but log(1 + e^x) = max(x, 0) + log(1 + e^(-|x|)), and e^(-|x|) <= 1.
- ``backward(ctx, grad)`` returns dL/dx given grad = dL/dy. Derive d softplus(x) / dx first:
  it is e^x / (1 + e^x), better known as sigmoid(x).

Inside ``forward`` and ``backward`` operations are not recorded: use any Tensor methods
(``.exp()``, ``.log()``, ``.abs()``, ``.relu()``, ``.sigmoid()``), but not ``F.softplus``.
Check your work with ``python -m minigrad.testing.grade`` as your instructor tells you.
"""

from __future__ import annotations

from minigrad import Tensor
from minigrad.autograd import Function


class Softplus(Function):
    """softplus(x) = log(1 + e^x), forward and backward written by hand."""

    @staticmethod
    def forward(ctx: Function, x: Tensor) -> Tensor:
        """Return softplus(x), finite for every finite x; save what backward needs."""
        # YOUR CODE HERE
        raise NotImplementedError()

    @staticmethod
    def backward(ctx: Function, grad: Tensor) -> Tensor:
        """Given grad = dL/dy, return dL/dx (same shape as x)."""
        # YOUR CODE HERE
        raise NotImplementedError()


def softplus(x: Tensor) -> Tensor:
    """Apply :class:`Softplus`."""
    return Softplus.apply(x)
