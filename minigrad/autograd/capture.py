"""``mg.autograd.grad`` and ``backward(inputs=...)``: gradients handed back, not accumulated.

The engine runs its usual pass; a ``Capture`` picks up the complete gradient of each wanted
non-leaf tensor when the pass reaches the node that produced it (before that node's backward),
and reads the wanted leaves' totals at the end instead of adding them to ``leaf.grad``.
"""

from __future__ import annotations

from typing import Any

from minigrad.autograd import hooks
from minigrad.autograd.graph import TensorBase


class Capture:
    """The tensors whose gradients a backward pass returns, and what it found for them."""

    def __init__(self, inputs: list[TensorBase]) -> None:
        self.inputs = inputs
        # (node, output index) -> position in inputs, for the non-leaves
        self.wanted = {(t._node, t._idx): i for i, t in enumerate(inputs) if t._node is not None}
        self.found: dict[int, Any] = {}

    def take(self, node: Any, gbuf: Any) -> None:
        """Keep the gradients of ``node``'s outputs that are wanted (``gbuf``: one or a list)."""
        for idx in range(node._n_out):
            i = self.wanted.get((node, idx))
            if i is not None:
                self.found[i] = gbuf if node._n_out == 1 else gbuf[idx]

    def results(self, leaf_grads: dict) -> list[Any]:
        """One gradient (or None) per input, leaves' after their hooks."""
        out = []
        for i, t in enumerate(self.inputs):
            if t._node is None:
                entry = leaf_grads.get(t)
                out.append(None if entry is None else hooks.run_leaf_hooks(t, entry[0]))
            else:
                out.append(self.found.get(i))
        return out
