"""Switches for recording the graph (``no_grad``, ``enable_grad``) and the flags ops read."""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """Process-wide flags, read by every op; one attribute read each."""

    grad_enabled = True
    anomaly = False  # set by anomaly.detect_anomaly
    # The in-place clock: it ticks at every in-place change, and a tensor's version counter
    # holds the time of its own last change (versions.py). A value saved for backward at
    # time T is stale if its counter is later than T; backward skips all checks when the
    # clock has not moved since.
    clock = 0


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
