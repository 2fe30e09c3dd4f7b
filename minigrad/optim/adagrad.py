"""Adagrad (Duchi et al., 2011)."""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, ParamsT


class Adagrad(Optimizer):
    r"""Adagrad, as ``torch.optim.Adagrad``.

    For each parameter :math:`\theta` with gradient :math:`g`, at step :math:`t = 1, 2, ...`::

        g     <- g + weight_decay * theta                     (if weight_decay != 0)
        clr   <- lr / (1 + (t - 1) * lr_decay)
        s     <- s + g^2                       (s starts at initial_accumulator_value)
        theta <- theta - clr * g / (sqrt(s) + eps)

    State per parameter (created with the optimizer, as in PyTorch): ``step``, ``sum`` (s).

    Args:
        params: parameters, or dicts of parameter groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning rate decay per step (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of ``s`` (default 0).
        eps: added to the denominator for numerical stability (default 1e-10).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check_range("lr_decay", group["lr_decay"])
        self._check_range("weight_decay", group["weight_decay"])
        self._check_range("initial_accumulator_value", group["initial_accumulator_value"])
        self._check_range("epsilon", group["eps"])

    def _init_group(self, group: dict[str, Any]) -> None:
        # PyTorch creates Adagrad's state eagerly, so state_dict() has it before any step
        for p in group["params"]:
            self._init_state(p.data, self.state[p], group)

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        state["step"] = 0
        state["sum"] = xp.full_like(param, float(group["initial_accumulator_value"]))

    def _update(self, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state_sum = state["sum"]
        tmp = self._buffer(param)
        state["step"] += 1
        step = state["step"]

        # g <- g + weight_decay * theta
        g = grad
        if weight_decay != 0:
            g = xp.multiply(param, weight_decay, out=self._buffer(param, 1))
            g += grad

        # clr <- lr / (1 + (t - 1) * lr_decay);  s <- s + g * g
        clr = lr / (1 + (step - 1) * lr_decay)
        xp.multiply(g, g, out=tmp)
        state_sum += tmp

        # theta <- theta - clr * g / (sqrt(s) + eps)
        xp.sqrt(state_sum, out=tmp)
        tmp += eps
        xp.divide(g, tmp, out=tmp)
        tmp *= -clr
        param += tmp
