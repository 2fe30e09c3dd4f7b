"""Anomaly mode: name the op whose backward made a NaN or inf, and show where it was created.

The core calls in here at two places, both behind one flag read (``state.anomaly``): when an
op is recorded (``record_trace``) and after each node's backward (``check_finite``).
"""

from __future__ import annotations

import traceback
from typing import Any

from minigrad import backend
from minigrad.autograd.grad_mode import state


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


def record_trace(node: Any) -> None:
    """Remember where ``node`` was created (the caller's stack, without this frame)."""
    node._trace = traceback.format_stack()[:-2]


def check_finite(node: Any, grads: Any) -> None:
    """Raise if one of the gradients ``node``'s backward returned holds NaN or inf."""
    for i, g in enumerate(grads if type(grads) is tuple else (grads,)):
        if g is None:
            continue
        g = getattr(g, "data", g)  # a Tensor under create_graph, else an array
        xp = backend.get_array_module(g)
        if not bool(xp.isfinite(g).all()):
            bad = "nan" if bool(xp.isnan(g).any()) else "inf"
            where = "".join(node._trace or []) or "(created before anomaly mode was enabled)\n"
            raise RuntimeError(
                f"Function '{type(node).__name__}' returned {bad} values in its gradient for "
                f"input {i}. The op was created here:\n{where}")
