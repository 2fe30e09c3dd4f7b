"""Gradient hooks: ``register_hook`` and ``retain_grad``.

A leaf keeps its hooks in ``leaf._hooks``; a non-leaf's hooks live on the node that produced
it (``node._pre_hooks``, by output index) and run when that node's gradient is complete,
before its backward. A node with hooks leaves the engine's fast path (``_plain`` False), so
hooks cost nothing where none are registered.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

from minigrad.autograd.graph import TensorBase, make


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: object) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        """Unregister the hook (again is harmless)."""
        self._hooks.pop(self._key, None)


def register_hook(t: TensorBase, hook: Callable[[Any], Any]) -> RemovableHandle:
    """Call ``hook(grad)`` when ``t``'s gradient is computed; it may return a new one."""
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that does not require grad")
    if t._node is None:
        if t._hooks is None:
            t._hooks = {}
        hooks = t._hooks
    else:
        node = t._node
        if node._pre_hooks is None:
            node._pre_hooks = {}
            node._plain = False
        hooks = node._pre_hooks.setdefault(t._idx, {})
    key = object()
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def retain_grad(t: TensorBase) -> None:
    """Keep ``.grad`` for a non-leaf tensor too (leaves always keep theirs)."""
    if t._node is None:
        return
    ref = weakref.ref(t)  # the hook must not keep the tensor alive

    def keep(g: Any) -> None:
        t = ref()
        if t is not None:
            t.grad = g.detach().clone() if t.grad is None else t.grad + g

    register_hook(t, keep)


def run_pre_hooks(node: Any, gbuf: Any) -> Any:
    """Pass each output's gradient through the hooks of that output tensor."""
    for idx, hooks in node._pre_hooks.items():
        g = gbuf if node._n_out == 1 else gbuf[idx]
        if g is None:
            continue
        for hook in list(hooks.values()):
            g = _call_hook(hook, g)
        if node._n_out == 1:
            gbuf = g
        else:
            gbuf[idx] = g
    return gbuf


def run_leaf_hooks(leaf: TensorBase, g: Any) -> Any:
    """Pass a leaf's total gradient through its hooks."""
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            g = _call_hook(hook, g)
    return g


def _call_hook(hook: Any, g: Any) -> Any:
    as_tensor = isinstance(g, TensorBase)
    res = hook(g if as_tensor else make(g))
    if res is None:
        return g
    if not as_tensor:
        res = res.data if isinstance(res, TensorBase) else res
    if tuple(res.shape) != tuple(g.shape):
        raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of "
                           f"shape {tuple(res.shape)}, expected {tuple(g.shape)}")
    return res
