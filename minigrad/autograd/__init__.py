"""Reverse-mode automatic differentiation: the graph, the backward pass and their tools.

The core is ``graph.py`` (Tensor's graph fields, the nodes, ``Op.apply``) and ``engine.py``
(the backward pass). Each feature sits in a module of its own on top: ``versions`` (in-place
checks), ``higher_order`` (``create_graph``), ``anomaly``, ``hooks``, ``capture`` (``grad``),
``function`` (user-defined ``Function``), ``grad_mode`` and ``gradcheck``.
"""

from minigrad.autograd.anomaly import detect_anomaly, is_anomaly_enabled
from minigrad.autograd.engine import backward, grad
from minigrad.autograd.function import Function
from minigrad.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minigrad.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.autograd.graph import Node, Op

__all__ = ["Function", "Node", "Op", "GradcheckError", "backward", "detect_anomaly",
           "enable_grad", "grad", "gradcheck", "gradgradcheck", "is_anomaly_enabled",
           "is_grad_enabled", "no_grad", "set_grad_enabled"]
