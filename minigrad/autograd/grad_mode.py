"""Switches for recording the graph: ``no_grad``, ``enable_grad`` and anomaly detection."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """Process-wide flags, read by every op; one attribute read each."""

    grad_enabled = True
    anomaly = False


state = _State()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded for backward."""
    return state.grad_enabled


class _GradModeContext:
    """Context manager and decorator that sets ``grad_enabled`` and restores it afterwards."""

    enabled: bool

    def __enter__(self) -> None:
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._prev

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradModeContext):
    """Do not record operations: ``with mg.no_grad(): ...`` or ``@mg.no_grad()``.

    Use it for evaluation and for updating parameters in place.
    """

    enabled = False


class enable_grad(_GradModeContext):
    """Record operations again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeContext):
    """``with mg.set_grad_enabled(flag): ...``"""

    def __init__(self, mode: bool) -> None:
        self.enabled = bool(mode)

    def __call__(self, fn: F) -> F:  # pragma: no cover - mirrors PyTorch, rarely used
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class detect_anomaly:
    """Check every gradient for NaN/inf during backward and name the op that made it.

    While enabled, each op also remembers where in your code it was created, and the error
    shows that traceback. It slows everything down: use it to debug, not to train.
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = state.anomaly
        state.anomaly = self.check_nan

    def __exit__(self, *exc: object) -> None:
        state.anomaly = self._prev


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return state.anomaly
