"""In-place changes: version counters, and the check that backward reads no stale value.

Every tensor has a version counter (a one-element list shared with its views) holding the
in-place clock's time (``state.clock``) of its last change. ``Op.apply`` notes the counters of
the values it saves and the time; an in-place change ticks the clock and stamps the counter.
Before a node's backward reads its saved values, the engine compares: one comparison per
saved value, and none at all while the clock has not moved since the node was recorded.
"""

from __future__ import annotations

from typing import Any

from minigrad.autograd.grad_mode import state
from minigrad.autograd.graph import Node, TensorBase, make


def bump_version(t: TensorBase) -> None:
    """Record that ``t``'s memory was just changed in place (ticks the clock)."""
    state.clock += 1
    t._version[0] = state.clock


def check_versions(node: Node) -> None:
    """Raise if a value saved for ``node``'s backward was changed in place after it was saved."""
    for i, counter in enumerate(node._saved_versions):
        if counter[0] > node._saved_at:
            raise RuntimeError(
                f"one of the values needed by {type(node).__name__}'s backward (saved value "
                f"{i}) was modified by an in-place operation after it was used. Make a copy "
                "with .clone() before changing it in place, or change it out of place "
                "(x = x + 1 instead of x += 1).")


def inplace(t: TensorBase, op: Any, *args: Any) -> TensorBase:
    """Change ``t`` in place with ``op(t, *args)``: ``t.data`` is overwritten, its version bumped.

    When autograd must see the change (``t`` or an argument requires grad), the op is recorded
    with the *old* value of ``t`` as its input and ``t`` becomes the op's output, as PyTorch
    does. What was saved for backward from the old value is then stale, and the version check
    raises if a backward still needs it.
    """
    graph = state.grad_enabled and (t.requires_grad or any(
        isinstance(a, TensorBase) and a.requires_grad for a in args))
    if not graph:
        xs = [a.data if isinstance(a, TensorBase) else a for a in args]
        _write(t, op.forward(object.__new__(op), t.data, *xs))
        bump_version(t)
        return t
    if t._node is None and t.requires_grad:
        raise RuntimeError(
            "a leaf tensor that requires grad is being changed in place; that would make its "
            "gradient wrong. Change it inside `with mg.no_grad():` (as optimizers do) or change "
            "a copy: x = x.clone()")
    if getattr(t, "_base", None) is not None:
        raise RuntimeError(
            "in-place change of a view of another tensor, while recording for autograd, is not "
            "supported: the base tensor's gradient would be wrong. Build the result out of place "
            "(mg.cat, mg.stack, mg.where) or change a clone.")
    # the old value keeps t's place in the graph; copied only if the op's backward reads it
    old = make(t.data.copy() if 0 in op.save_inputs else t.data)
    old._node, old._idx, old.requires_grad = t._node, t._idx, t.requires_grad
    result = op.apply(old, *args)
    _write(t, result.data)
    bump_version(t)
    t._node, t._idx, t.requires_grad = result._node, result._idx, True
    return t


def _write(t: TensorBase, value: Any) -> None:
    if value is t.data:  # the op already wrote into t's memory (setitem)
        return
    try:
        t.data[...] = value
    except (ValueError, TypeError) as e:
        raise RuntimeError(f"in-place operation on a tensor of shape {t.data.shape} and dtype "
                           f"{t.data.dtype} failed: {e}. The result must keep the tensor's shape "
                           "(no broadcasting to a larger shape) and dtype.") from None
