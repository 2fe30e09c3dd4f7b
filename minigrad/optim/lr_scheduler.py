"""Learning-rate schedules: change each parameter group's ``lr`` once per ``scheduler.step()``.

The formulas and their order of floating-point operations are PyTorch's, so a schedule gives
the very same sequence of learning rates as ``torch.optim.lr_scheduler``. Call
``scheduler.step()`` after ``optimizer.step()``, once per epoch (or per iteration).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

from minigrad.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define :meth:`get_lr`, the next lr of every group.

    Args:
        optimizer: the optimizer whose groups' ``lr`` this scheduler sets.
        last_epoch: index of the last epoch; ``-1`` (default) starts a new schedule from the
            groups' current ``lr`` (remembered as ``initial_lr``). Other values resume one,
            and need ``initial_lr`` in every group (restored by ``optimizer.load_state_dict``).

    Attributes:
        last_epoch: how many times :meth:`step` ran (0 right after construction).
        base_lrs: every group's ``initial_lr``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   f"when resuming a scheduler with last_epoch={last_epoch}; "
                                   f"load the optimizer's state_dict first")
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = True  # the constructor's step sets the starting lrs
        self._step_count = 0
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lrs for epoch ``last_epoch`` (already incremented), computed by subclasses."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The lrs set by the last :meth:`step` (one per parameter group)."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule one epoch and write the new lrs into the optimizer's groups.

        ``epoch`` (deprecated in PyTorch, kept for compatibility) jumps to that epoch using the
        closed form where the scheduler has one.
        """
        if self._step_count == 1 and self.optimizer._step_count == 0:
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`: "
                          "call them in the opposite order, or the first value of the "
                          "schedule is skipped", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("passing an epoch to scheduler.step() is deprecated, as in PyTorch",
                          UserWarning, stacklevel=2)
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything in the scheduler except the optimizer (plain numbers and lists)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` of a scheduler of the same class.

        Raises:
            ValueError: ``state_dict`` has entries this scheduler does not have (it came from
                another kind of scheduler, or is not a scheduler's state).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict expects a dict, got "
                            f"{type(state_dict).__name__}")
        unknown = sorted(set(state_dict) - set(self.state_dict()))
        if unknown:
            raise ValueError(f"{type(self).__name__}.load_state_dict: unknown entries "
                             f"{unknown}; was it saved from another kind of scheduler? "
                             f"(this one has {sorted(self.state_dict())})")
        self.__dict__.update(state_dict)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def _non_negative(who: str, name: str, value: Any) -> float:
    """A schedule factor or floor: a finite number >= 0 (a negative factor flips the lr's
    sign, so that training climbs the loss instead of descending it)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a number, got {value!r}")
    if not 0 <= value < math.inf:
        raise ValueError(f"{who}: {name} must be a finite number >= 0, got {value}")
    return value


class StepLR(LRScheduler):
    """Multiply every group's lr by ``gamma`` every ``step_size`` epochs.

    ``lr_epoch = initial_lr * gamma ** (epoch // step_size)`` (applied recursively, so that
    changes made to the lr from outside are kept).

    Example::

        sched = StepLR(opt, step_size=30, gamma=0.1)   # lr 0.05 for epochs 0-29, 0.005 ...
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size <= 0:
            raise ValueError(f"step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = _non_negative("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply every group's lr by ``gamma`` every epoch: ``lr_epoch = initial_lr * gamma**epoch``.
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _non_negative("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from ``initial_lr`` down to ``eta_min`` over ``T_max`` epochs.

    Closed form (SGDR without restarts)::

        lr_t = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    As in PyTorch, it is applied recursively,
    ``lr_{t} = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) /
    T_max))``, so that it composes with other changes to the lr; past ``T_max`` the lr rises
    again along the cosine.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803
                 last_epoch: int = -1) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, numbers.Real) or not (
                0 < T_max < math.inf):
            raise ValueError(f"CosineAnnealingLR: T_max must be positive (the number of epochs "
                             f"of the half cosine), got {T_max!r}")
        self.T_max = T_max
        self.eta_min = _non_negative("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and t > 0:  # resuming: closed form once
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(t * math.pi / t_max)) / 2
                    for base_lr in self.base_lrs]
        if (t - 1 - t_max) % (2 * t_max) == 0:  # at the bottom, where the ratio is 0 / 0
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups)]
        return [(1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max))
                * (group["lr"] - eta_min) + eta_min
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "StepLR"]
