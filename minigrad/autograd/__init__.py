"""Reverse-mode automatic differentiation: the graph, the backward pass and their tools."""

from minigrad.autograd.engine import backward, grad
from minigrad.autograd.function import Function, Op
from minigrad.autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from minigrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["Function", "Op", "GradcheckError", "backward", "detect_anomaly", "enable_grad",
           "grad", "gradcheck", "gradgradcheck", "is_anomaly_enabled", "is_grad_enabled", "no_grad",
           "set_grad_enabled"]
