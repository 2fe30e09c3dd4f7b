"""Gradients of gradients (``create_graph=True``): backward rules that record a graph.

With ``create_graph`` the engine runs every backward rule on Tensors with recording on, so
the gradients it produces are themselves the outputs of recorded ops and can be
differentiated again (a Hessian-vector product, a gradient penalty). Built-in ops write their
rules with operators and the helpers of ``ops/common.py``, which work on arrays and Tensors
alike; here the rule's saved arrays are swapped for Tensors connected to the graph that made
them, for the duration of the call.
"""

from __future__ import annotations

from typing import Any

from minigrad.autograd.graph import Node, TensorBase, make


def op_backward(node: Node, gs: tuple) -> Any:
    """Run an Op's backward rule on Tensors, so that it records a graph of its own."""
    name = type(node).__name__
    if not node.create_graph_ok:
        raise RuntimeError(f"{name} does not support create_graph=True (gradients of "
                           f"gradients): its backward rule runs on raw arrays only")
    arrays = node._saved
    node._saved = _saved_as_tensors(node)
    try:
        grads = node.backward(node, *gs)
    finally:
        node._saved = arrays
    for g in grads if type(grads) is tuple else (grads,):
        if g is not None and not isinstance(g, TensorBase):
            raise RuntimeError(f"{name}'s backward returned an array under create_graph=True; "
                               "its rule cannot run on Tensors")
    return grads


def _saved_as_tensors(node: Node) -> tuple:
    """The values in ``node._saved`` as Tensors connected to the graph that produced them.

    An input's Tensor is rebuilt from its data and its edge (the node and output it came
    from, or the leaf itself); an output's is the node's own output.
    """
    out: list[Any] = []
    for k, i in enumerate(node.save_inputs):
        out.append(connected(node._saved[k], node._edges[i]))
    first = len(node.save_inputs)
    out.extend(make(v, node, i) for i, v in enumerate(node._saved[first:]))
    return tuple(out)


def connected(value: Any, edge: tuple | None) -> Any:
    """``value`` (an input's array) as a Tensor at the place ``edge`` points to in the graph."""
    if not hasattr(value, "shape"):  # a Python number
        return value
    if isinstance(value, TensorBase):
        value = value.data
    if edge is None:
        return make(value)
    return edge[0] if edge[1] < 0 else make(value, edge[0], edge[1])
