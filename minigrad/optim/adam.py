"""Adam and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import numbers
from typing import Any

from minigrad import backend
from minigrad.optim.optimizer import Optimizer, ParamsT, lerp_


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    For each parameter :math:`\theta` with gradient :math:`g`, at step :math:`t = 1, 2, ...`::

        g     <- g + weight_decay * theta                     (Adam, if weight_decay != 0)
        theta <- theta * (1 - lr * weight_decay)              (AdamW: decoupled decay)
        m_t   <- beta1 * m_{t-1} + (1 - beta1) * g            (computed as a lerp)
        v_t   <- beta2 * v_{t-1} + (1 - beta2) * g^2
        vmax  <- max(vmax, v_t); use vmax for v_t             (amsgrad)
        denom <- sqrt(v_t) / sqrt(1 - beta2^t) + eps
        theta <- theta - lr / (1 - beta1^t) * m_t / denom

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq``.

    Args:
        params: parameters, or dicts of parameter groups.
        lr: learning rate (default 1e-3).
        betas: decay rates of the running averages of g and g^2 (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: use the maximum of past ``v`` (AMSGrad, Reddi et al. 2018).
    """

    _decoupled = False  # AdamW decays the weights directly instead of through the gradient

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any], index: int) -> None:
        super()._validate(group, index)
        self._check_range("epsilon", group["eps"])
        betas = group["betas"] = tuple(group["betas"])
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas}")
        for i, beta in enumerate(betas):
            if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
                raise TypeError(f"betas[{i}] must be a number, got {beta!r}")
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} "
                                 f"(expected 0 <= beta < 1)")
        self._check_range("weight_decay", group["weight_decay"])

    def _init_state(self, param: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(param)
        state["exp_avg_sq"] = xp.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param)

    def _update(self, param: Any, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.get_array_module(param)
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(
            group["weight_decay"])
        beta1, beta2 = float(group["betas"][0]), float(group["betas"][1])
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        tmp = self._buffer(param)
        state["step"] += 1
        step = state["step"]

        # weight decay: L2 through the gradient (Adam) or decoupled on the weights (AdamW)
        g = grad
        if weight_decay != 0:
            if self._decoupled:
                param *= 1.0 - lr * weight_decay
            else:
                g = xp.multiply(param, weight_decay, out=self._buffer(param, 1))
                g += grad

        # m <- m + (1 - beta1) * (g - m);  v <- beta2 * v + (1 - beta2) * g * g
        lerp_(exp_avg, g, 1.0 - beta1, tmp)
        exp_avg_sq *= beta2
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        exp_avg_sq += tmp

        # bias corrections, in Python floats as PyTorch's single-tensor path
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5

        # denom <- sqrt(v) / sqrt(1 - beta2^t) + eps, with v -> max(v) for amsgrad
        second = exp_avg_sq
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"]
            xp.maximum(second, exp_avg_sq, out=second)
        xp.sqrt(second, out=tmp)
        tmp /= bias_correction2_sqrt
        tmp += eps

        # theta <- theta - step_size * m / denom
        xp.divide(exp_avg, tmp, out=tmp)
        tmp *= -step_size
        param += tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Identical to :class:`Adam` except that weight decay shrinks the weights directly,
    ``theta <- theta * (1 - lr * weight_decay)``, before the Adam update, instead of adding
    ``weight_decay * theta`` to the gradient. Default ``weight_decay`` is 1e-2.
    """

    _decoupled = True

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
