"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum."""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, ParamsT, lerp_


class RMSprop(Optimizer):
    r"""RMSprop, as ``torch.optim.RMSprop``.

    For each parameter :math:`\theta` with gradient :math:`g`::

        g     <- g + weight_decay * theta                     (if weight_decay != 0)
        v     <- alpha * v + (1 - alpha) * g^2
        avg   <- sqrt(v - gbar^2) + eps,   gbar <- alpha * gbar + (1 - alpha) * g
                                                              (centered)
        avg   <- sqrt(v) + eps                                (not centered)
        b     <- momentum * b + g / avg;  theta <- theta - lr * b    (momentum > 0)
        theta <- theta - lr * g / avg                         (momentum = 0)

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, if
    momentum > 0) and ``grad_avg`` (gbar, if centered).

    Args:
        params: parameters, or dicts of parameter groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the running average of g^2 (default 0.99).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalise by an estimate of the gradient's variance instead of its
            second moment.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check_range("epsilon", group["eps"])
        self._check_range("momentum", group["momentum"], high=1.0)
        self._check_range("weight_decay", group["weight_decay"])
        self._check_range("alpha", group["alpha"], high=1.0)

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param)

    def _update(self, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        square_avg = state["square_avg"]
        tmp = self._buffer(param)
        state["step"] += 1

        # g <- g + weight_decay * theta
        g = grad
        if weight_decay != 0:
            g = xp.multiply(param, weight_decay, out=self._buffer(param, 1))
            g += grad

        # v <- alpha * v + (1 - alpha) * g * g
        square_avg *= alpha
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - alpha
        square_avg += tmp

        # avg <- sqrt(v - gbar^2) + eps (centered) or sqrt(v) + eps
        if group["centered"]:
            grad_avg = state["grad_avg"]
            lerp_(grad_avg, g, 1.0 - alpha, tmp)
            xp.multiply(grad_avg, grad_avg, out=tmp)
            xp.subtract(square_avg, tmp, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:
            xp.sqrt(square_avg, out=tmp)
        tmp += eps

        # b <- momentum * b + g / avg; theta <- theta - lr * b   (or theta -= lr * g / avg)
        xp.divide(g, tmp, out=tmp)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += tmp
            xp.multiply(buf, -lr, out=tmp)
        else:
            tmp *= -lr
        param += tmp
