"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, ParamsT


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    For each parameter :math:`\theta` with gradient :math:`g` at step :math:`t`::

        g   <- g + weight_decay * theta                       (if weight_decay != 0)
        b_t <- g                                              (t = 1)
        b_t <- momentum * b_{t-1} + (1 - dampening) * g       (t > 1)
        g   <- g + momentum * b_t    (nesterov)   or   g <- b_t   (momentum != 0)
        theta <- theta - lr * g

    Args:
        params: parameters, or dicts of parameter groups.
        lr: learning rate (required).
        momentum: momentum factor (default 0: plain SGD).
        dampening: dampening for momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening 0).

    Example::

        opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: ParamsT, lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check_range("momentum", group["momentum"], high=1.0)
        self._check_range("weight_decay", group["weight_decay"])
        self._check_range("dampening", group["dampening"], high=1.0)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])

        # g <- g + weight_decay * theta (into scratch: p.grad itself is left untouched)
        g = grad
        if weight_decay != 0:
            g = xp.multiply(param, weight_decay, out=self._buffer(param, 1))
            g += grad

        # b <- momentum * b + (1 - dampening) * g; the first buffer is a copy of g
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    buf += xp.multiply(g, 1.0 - dampening, out=self._buffer(param))
            if group["nesterov"]:
                step = xp.multiply(buf, momentum, out=self._buffer(param))
                step += g
                g = step
            else:
                g = buf

        # theta <- theta - lr * g
        param -= xp.multiply(g, lr, out=self._buffer(param))
