"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk needs each node's gradient to be complete (summed over every path) before the node
runs its backward. So, first, count for every node how many edges lead into it from the part
of the graph we will visit; then start from the outputs and run a node as soon as its count
drops to zero. This is a topological order found without recursion (a 10,000-step recurrence is
just a long chain) and without sorting: O(nodes + edges).

Gradients into leaves are summed over the whole pass and then added to ``leaf.grad``.
Unless ``retain_graph=True``, each node frees what it saved as soon as it has run.

The loop has one fast path, a single-output ``Op`` in a plain pass, and one seam,
``_general``, through which every feature is reached: hooks (``hooks.py``), captured
gradients (``capture.py``), gradients of gradients (``higher_order.py``), user Functions
(``function.py``) and anomaly checks (``anomaly.py``). In-place checks (``versions.py``)
cost one comparison per node.
"""

from __future__ import annotations

from typing import Any, Sequence

from minigrad import backend
from minigrad.autograd import anomaly, higher_order, hooks
from minigrad.autograd.capture import Capture
from minigrad.autograd.grad_mode import enable_grad, state
from minigrad.autograd.graph import Node, Op, TensorBase, make
from minigrad.autograd.versions import check_versions


def backward(tensors: TensorBase | Sequence[TensorBase], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Sequence[TensorBase] | None = None) -> None:
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    With ``create_graph=True`` the backward rules run on Tensors, so the gradients are
    themselves differentiable (``leaf.grad`` then has a ``grad_fn``): gradients of gradients.
    With ``inputs`` only those tensors' ``.grad`` are filled.
    """
    retain = create_graph if retain_graph is None else retain_graph
    roots = _roots(tensors, grad_tensors, "backward", create_graph)
    if inputs is None:
        _run(roots, retain, create_graph)
        return
    inputs = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    for t, g in zip(inputs, _run(roots, retain, create_graph, Capture(inputs))):
        if g is not None:
            _accumulate_into_grad(t, g, owned=False)


def grad(outputs: TensorBase | Sequence[TensorBase], inputs: TensorBase | Sequence[TensorBase],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Any, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    ``grad_outputs`` plays the role of ``gradient`` in ``backward`` (needed for non-scalar
    outputs). An input that the outputs do not depend on raises an error unless
    ``allow_unused=True``, in which case its gradient is None. With ``create_graph=True`` the
    returned gradients are part of a graph and can be differentiated again (a Hessian-vector
    product, a gradient penalty).
    """
    roots = _roots(outputs, grad_outputs, "grad", create_graph)
    inputs = [inputs] if isinstance(inputs, TensorBase) else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, TensorBase) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient; "
                               "create it with requires_grad=True")
    retain = create_graph if retain_graph is None else retain_graph
    result = []
    for i, g in enumerate(_run(roots, retain, create_graph, Capture(inputs))):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} was not used to compute the outputs; pass "
                               "allow_unused=True to get None for it")
        result.append(None if g is None else g if isinstance(g, TensorBase) else make(_own(g)))
    return tuple(result)


def _roots(tensors: Any, grads: Any, who: str, create_graph: bool) -> list[tuple[Any, Any]]:
    """Pair each output with its starting gradient (ones for a scalar), checked."""
    tensors = [tensors] if isinstance(tensors, TensorBase) else list(tensors)
    if grads is None or isinstance(grads, TensorBase) or backend.is_array(grads):
        grads = [grads] * len(tensors) if len(tensors) == 1 else (
            [None] * len(tensors) if grads is None else [grads])
    grads = list(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"{who}: got {len(tensors)} tensors but {len(grads)} gradients")
    roots = []
    for t, g in zip(tensors, grads):
        if not t.requires_grad:
            raise RuntimeError(
                f"{who}: this tensor does not require grad and has no grad_fn, so there is "
                "nothing to differentiate. Did you create the inputs with requires_grad=True, "
                "or compute it inside mg.no_grad()?")
        shape = tuple(t.data.shape)
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be implicitly created only for scalar outputs, but this "
                    f"tensor has shape {shape}; pass gradient= (a tensor of that shape), or "
                    "reduce it first, e.g. loss.sum().backward()")
            g = backend.get_array_module(t.data).ones_like(t.data)
        else:
            given, g = g, g.data if isinstance(g, TensorBase) else g
            if tuple(g.shape) != shape:
                raise RuntimeError(f"{who}: gradient has shape {tuple(g.shape)} but the tensor "
                                   f"has shape {shape}; they must match")
            if type(g) is not type(t.data):
                raise RuntimeError(f"{who}: gradient is on {backend.device_of(g)} but the "
                                   f"tensor is on {backend.device_of(t.data)}")
            if g.dtype != t.data.dtype:
                g = g.astype(t.data.dtype)
            elif create_graph and isinstance(given, TensorBase):
                g = given  # keep it: the gradients may be differentiated w.r.t. it too
        if create_graph and not isinstance(g, TensorBase):
            g = make(g)
        roots.append((t, g))
    return roots


class GraphRoot(Node):
    """The node a backward pass starts from: its edges lead to the outputs, and its backward
    hands them their starting gradients. Several outputs, or one reached twice, then need no
    special case: gradients are summed where edges meet, as everywhere else."""

    _plain = True

    def __init__(self, roots: list) -> None:
        self._edges = [(t, -1) if t._node is None else (t._node, t._idx) for t, _ in roots]
        self._grads = tuple(g for _, g in roots)

    @staticmethod
    def backward(ctx: Any, g: Any) -> tuple:
        return ctx._grads


def _run(roots: list, retain_graph: bool, create_graph: bool = False,
         capture: Capture | None = None) -> list[Any]:
    """The backward pass. Returns the gradients of ``capture``'s inputs (then no ``.grad``
    changes)."""
    root = GraphRoot(roots)
    leaf_grads: dict[TensorBase, list] = {}  # leaf -> [gradient, whether we own its memory]
    visited = _count_edges(root)
    try:
        cap = capture if capture is not None and capture.wanted else None
        if create_graph:
            with enable_grad():
                _propagate([root], leaf_grads, retain_graph, True, cap)
        else:
            _propagate([root], leaf_grads, retain_graph, False, cap)
    except BaseException:
        for n in visited:  # leave the graph reusable (retain_graph) after an error
            n._deps = 0
            if n._edges is not None:
                n._gbuf = None
        raise
    if capture is not None:
        return capture.results(leaf_grads)
    for leaf, (g, owned) in leaf_grads.items():
        _accumulate_into_grad(leaf, hooks.run_leaf_hooks(leaf, g), owned)
    return []


def _count_edges(root: GraphRoot) -> list[Node]:
    """Step 1: count, on each node, the edges into it from the part of the graph we visit."""
    stack, visited = [root], [root]
    while stack:
        node = stack.pop()
        edges = node._edges
        if edges is None:  # freed by an earlier backward
            for n in visited:
                n._deps = 0
            raise RuntimeError(freed_message(node, visited))
        for e in edges:
            if e is not None and e[1] >= 0:
                parent = e[0]
                parent._deps += 1
                if parent._deps == 1:  # the first time we reach it
                    visited.append(parent)
                    stack.append(parent)
    return visited


def _propagate(ready: list[Node], leaf_grads: dict, retain_graph: bool, create_graph: bool,
               capture: Capture | None) -> None:
    """Step 2: run each node once all of its gradient has arrived, pass gradients on.

    Where gradients meet they are summed. The first arrival is kept as it is (it may be shared
    with another consumer); the first sum is a new array, ``owned``, into which later
    arrivals are added in place. Under ``create_graph`` sums stay out of place (Tensors).
    """
    check_anomaly = state.anomaly
    fast = not (create_graph or capture or check_anomaly)
    clock = state.clock  # only the general path (hooks, user code) can move it
    pop, push = ready.pop, ready.append
    while ready:
        node = pop()
        if node._plain and fast:  # the common case: one output, no hooks, arrays
            if node._saved_at != clock and node._saved_versions:
                check_versions(node)
            grads = node.backward(node, node._gbuf)
        else:
            grads = _general(node, create_graph, capture)
            clock = state.clock
            if check_anomaly:
                anomaly.check_finite(node, grads)
        edges = node._edges
        if retain_graph:
            node._gbuf = None
            node._gbuf_owned = False
        else:
            node.__dict__.clear()  # frees saved values and edges; class defaults mark it freed
        if type(grads) is not tuple:
            grads = (grads,)
        for e, g in zip(edges, grads):
            if e is None or g is None:
                continue
            parent, idx = e
            if idx < 0:  # a leaf: its total for this pass is kept in leaf_grads
                entry = leaf_grads.get(parent)
                if entry is None:
                    leaf_grads[parent] = [g, False]
                elif entry[1] and not create_graph:
                    entry[0] += g
                else:
                    entry[0] = entry[0] + g
                    entry[1] = True
                continue
            if parent._n_out == 1:
                buf = parent._gbuf
                if buf is None:
                    parent._gbuf = g
                elif parent._gbuf_owned and not create_graph:
                    buf += g
                else:
                    parent._gbuf = buf + g
                    parent._gbuf_owned = True
            else:
                _add_to_output(parent, idx, g)
            parent._deps -= 1
            if not parent._deps:
                push(parent)


def _general(node: Node, create_graph: bool, capture: Capture | None) -> Any:
    """The seam: hooks, captured gradients, several outputs, user Functions, create_graph."""
    g = node._gbuf
    if node._pre_hooks:
        g = hooks.run_pre_hooks(node, g)
    if capture is not None:
        capture.take(node, g)
    if node._saved_versions and node._saved_at != state.clock:
        check_versions(node)
    gs = (g,) if node._n_out == 1 else tuple(g)
    if create_graph and isinstance(node, Op):
        return higher_order.op_backward(node, gs)
    return node.run_backward(gs, create_graph)


def _add_to_output(node: Node, idx: int, g: Any) -> None:
    """Sum ``g`` into output ``idx`` of a node with several outputs (out of place)."""
    bufs = node._gbuf
    if bufs is None:
        bufs = node._gbuf = [None] * node._n_out
    bufs[idx] = g if bufs[idx] is None else bufs[idx] + g


def _own(g: Any) -> Any:
    """A gradient we may hand to the user: an array of its own, not a view of another."""
    return backend.get_array_module(g).array(g, copy=True)


def _accumulate_into_grad(leaf: TensorBase, g: Any, owned: bool) -> None:
    if isinstance(g, TensorBase):  # create_graph: the gradient keeps its graph
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        leaf.grad = make(g if owned and backend.is_array(g) else _own(g))
    else:
        leaf.grad.data = leaf.grad.data + g


def freed_message(node: Node, visited: list | None = None) -> str:
    """What to say when backward reaches a node whose saved values were already freed.

    Reached from a live node of this pass (not straight from where it started), the freed
    part belongs to an earlier graph: most often a recurrent state carried over from the
    previous batch, which should be detached.
    """
    name = type(node).__name__
    reached_from = [(n, i) for n in (visited or [])[1:] if n._edges is not None
                    for i, e in enumerate(n._edges) if e is not None and e[0] is node]
    if reached_from:
        live, i = reached_from[0]
        return (f"Trying to backward through a part of the graph that was already freed: input "
                f"{i} of {type(live).__name__} comes from {name}, which an earlier .backward() "
                "went through and freed. This usually means a tensor from a previous iteration "
                "was reused; most often the recurrent state (h, or (h, c) for an LSTM) carried "
                "over from the previous batch. Detach it between batches, h = h.detach() "
                "(truncated backpropagation through time: gradients stop at the batch "
                "boundary). Pass retain_graph=True to the earlier backward only if you really "
                "mean to backpropagate into the previous batch again.")
    return (f"Trying to backward through the graph a second time (or to read values saved for "
            f"backward after they were freed), at {name}. The graph is freed after .backward() "
            "to save memory; pass retain_graph=True to the first backward if you need to go "
            "through it again.")
