"""Reverse-mode differentiation: walk the graph from the outputs back to the leaves.

The walk needs each node's gradient to be complete (summed over every path) before the node
runs its backward. So, first, count for every node how many edges lead into it from the part
of the graph we will visit; then start from the outputs and run a node as soon as its count
drops to zero. This is a topological order found without recursion (a 10,000-step recurrence is
just a long chain) and without sorting: O(nodes + edges).

Gradients into leaves are summed over the whole pass and then added to ``leaf.grad``.
Unless ``retain_graph=True``, each node frees what it saved as soon as it has run.
"""

from __future__ import annotations

from typing import Any, Sequence

from minigrad import backend
from minigrad.autograd.function import Function, _freed_message
from minigrad.autograd.grad_mode import enable_grad, state
from minigrad.tensor import CLOCK, Tensor, _make


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             inputs: Sequence[Tensor] | None = None) -> None:
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    With ``create_graph=True`` the backward rules run on Tensors, so the gradients are
    themselves differentiable (``leaf.grad`` then has a ``grad_fn``): gradients of gradients.
    """
    retain = create_graph if retain_graph is None else retain_graph
    roots = _roots(tensors, grad_tensors, "backward", create_graph)
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = _run(roots, retain, create_graph, capture=inputs)
        for t, g in zip(inputs, grads):
            if g is not None:
                _accumulate_into_grad(t, g, owned=False)
        return
    _run(roots, retain, create_graph)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    ``grad_outputs`` plays the role of ``gradient`` in ``backward`` (needed for non-scalar
    outputs). An input that the outputs do not depend on raises an error unless
    ``allow_unused=True``, in which case its gradient is None. With ``create_graph=True`` the
    returned gradients are part of a graph and can be differentiated again (a Hessian-vector
    product, a gradient penalty).
    """
    roots = _roots(outputs, grad_outputs, "grad", create_graph)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad, so it has no gradient; "
                               "create it with requires_grad=True")
    retain = create_graph if retain_graph is None else retain_graph
    grads = _run(roots, retain, create_graph, capture=inputs)
    result = []
    for i, g in enumerate(grads):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} was not used to compute the outputs; pass "
                               "allow_unused=True to get None for it")
        result.append(None if g is None else g if isinstance(g, Tensor) else _make(_own(g)))
    return tuple(result)


def _roots(tensors: Any, grads: Any, who: str,
           create_graph: bool = False) -> list[tuple[Tensor, Any]]:
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grads is None or isinstance(grads, Tensor) or backend.is_array(grads):
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
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    f"{who}: grad can be implicitly created only for scalar outputs, but this "
                    f"tensor has shape {t.shape}; pass gradient= (a tensor of that shape), or "
                    "reduce it first, e.g. loss.sum().backward()")
            g = backend.get_array_module(t.data).ones_like(t.data)
        else:
            given = g
            g = g.data if isinstance(g, Tensor) else g
            if tuple(g.shape) != t.shape:
                raise RuntimeError(f"{who}: gradient has shape {tuple(g.shape)} but the tensor "
                                   f"has shape {t.shape}; they must match")
            if type(g) is not type(t.data):
                raise RuntimeError(f"{who}: gradient is on {backend.device_of(g)} but the "
                                   f"tensor is on {t.device}")
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
            elif create_graph and isinstance(given, Tensor):
                g = given  # keep it: the gradients may be differentiated w.r.t. it too
        if create_graph and not isinstance(g, Tensor):
            g = _make(g)
        roots.append((t, g))
    return roots


def _run(roots: list[tuple[Tensor, Any]], retain_graph: bool, create_graph: bool = False,
         capture: list[Tensor] | None = None) -> list[Any]:
    """The backward pass. Returns the gradients of ``capture`` (then no ``.grad`` changes)."""
    leaf_grads: dict[Tensor, list] = {}  # leaf -> [gradient, whether we own its memory]
    start: list[Function] = []
    for t, g in roots:
        if t._node is None:
            _add_leaf(leaf_grads, t, g)
        else:
            _add(t._node, t._idx, g)
            start.append(t._node)
    start = list(dict.fromkeys(start))

    # 1. count, on each node, the edges into it from the part of the graph we will visit
    stack = list(start)
    visited = list(start)
    roots = set(start) if len(start) > 1 else ()  # one output may also lead to another
    try:
        while stack:
            node = stack.pop()
            edges = node._edges
            if edges is None:
                raise RuntimeError(_freed_message(node))
            for e in edges:
                if e is not None and e[1] >= 0:
                    parent = e[0]
                    parent._deps += 1
                    if parent._deps == 1 and parent not in roots:  # first time we reach it
                        visited.append(parent)
                        stack.append(parent)
        ready = [n for n in start if not n._deps]
        wanted = captured = None
        if capture is not None:
            wanted = {(t._node, t._idx): i for i, t in enumerate(capture) if t._node is not None}
            captured = {}
        if create_graph:
            with enable_grad():
                _propagate(ready, leaf_grads, retain_graph, wanted or {}, captured or {}, True)
        else:
            _propagate(ready, leaf_grads, retain_graph, wanted, captured)
    except BaseException:
        for n in visited:  # leave the graph reusable (retain_graph) after an error
            n._deps = 0
            if n._edges is not None:
                n._gbuf = None
        raise

    if capture is not None:
        out = []
        for i, t in enumerate(capture):
            if t._node is None:
                entry = leaf_grads.get(t)
                out.append(None if entry is None else _run_leaf_hooks(t, entry[0]))
            else:
                out.append(captured.get(i))
        return out
    for leaf, (g, owned) in leaf_grads.items():
        _accumulate_into_grad(leaf, _run_leaf_hooks(leaf, g), owned)
    return []


def _propagate(ready: list, leaf_grads: dict, retain_graph: bool, wanted: dict | None,
               captured: dict | None, create_graph: bool = False) -> None:
    """Run each node once all of its gradient has arrived, passing gradients to its inputs."""
    anomaly = state.anomaly
    clock = CLOCK
    pop, push = ready.pop, ready.append
    while ready:
        node = pop()
        g = node._gbuf
        if node._plain and not wanted and not create_graph:  # the common case
            if node._saved_versions and node._saved_at != clock[0]:
                node._check_versions()
            grads = node.backward(node, g)
        else:
            grads = _backward_of(node, g, wanted, captured, create_graph)
        if anomaly:
            _check_finite(node, grads)
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
            if idx < 0:  # a leaf
                entry = leaf_grads.get(parent)
                if entry is None:
                    leaf_grads[parent] = [g, False]
                elif entry[1] and not create_graph:  # a sum we made: add in place
                    entry[0] += g
                else:  # g may be shared with another consumer: never add into it
                    entry[0] = entry[0] + g
                    entry[1] = True
            elif parent._n_out == 1:
                buf = parent._gbuf
                if buf is None:
                    parent._gbuf = g
                elif parent._gbuf_owned and not create_graph:
                    buf += g
                else:
                    parent._gbuf = buf + g
                    parent._gbuf_owned = True
                parent._deps -= 1
                if not parent._deps:
                    push(parent)
            else:
                _add(parent, idx, g)
                parent._deps -= 1
                if not parent._deps:
                    push(parent)


def _backward_of(node: Function, g: Any, wanted: dict | None, captured: dict | None,
                 create_graph: bool = False) -> Any:
    """The general case: hooks, captured gradients, several outputs, user Functions."""
    if node._pre_hooks:
        g = _run_pre_hooks(node, g)
    if wanted:
        _capture(node, g, wanted, captured)
    if node._saved_versions and node._saved_at != CLOCK[0]:
        node._check_versions()
    gs = (g,) if node._n_out == 1 else g
    if not node._arrays:
        return node._backward(gs if node._n_out == 1 else _materialize(node, gs), create_graph)
    if create_graph:
        return _differentiable_backward(node, gs)
    return node.backward(node, *gs)


def _differentiable_backward(node: Function, gs: tuple) -> Any:
    """Run an Op's backward rule on Tensors, so that it records a graph of its own."""
    name = type(node).__name__
    if not node.create_graph_ok:
        raise RuntimeError(f"{name} does not support create_graph=True (gradients of "
                           f"gradients): its backward rule runs on raw arrays only")
    arrays = node.saved
    node.saved = _saved_as_tensors(node)
    try:
        grads = node.backward(node, *gs)
    finally:
        node.saved = arrays
    for g in grads if type(grads) is tuple else (grads,):
        if g is not None and not isinstance(g, Tensor):
            raise RuntimeError(f"{name}'s backward returned an array under create_graph=True; "
                               "its rule cannot run on Tensors")
    return grads


def _saved_as_tensors(node: Function) -> tuple:
    """The values in ``node.saved`` as Tensors connected to the graph that produced them.

    An input's Tensor is rebuilt from its data and its edge (the node and output it came
    from, or the leaf itself); the output's is the node's own output 0.
    """
    out: list[Any] = []
    edges = node._edges
    for k, i in enumerate(node.save_inputs):
        value, e = node.saved[k], edges[i]
        if not hasattr(value, "shape"):  # a Python number
            out.append(value)
        elif e is None:
            out.append(_make(value))
        elif e[1] < 0:
            out.append(e[0])
        else:
            out.append(_make(value, e[0], e[1]))
    if node.save_output:  # the node's own outputs, in order
        first = len(node.save_inputs)
        out.extend(_make(v, node, i) for i, v in enumerate(node.saved[first:]))
    return tuple(out)


def _add(node: Function, idx: int, g: Any) -> None:
    """Sum gradient ``g`` into output ``idx`` of ``node`` (out of place: g may be shared)."""
    if node._n_out == 1:
        buf = node._gbuf
        node._gbuf = g if buf is None else buf + g
    else:
        bufs = node._gbuf
        if bufs is None:
            bufs = node._gbuf = [None] * node._n_out
        bufs[idx] = g if bufs[idx] is None else bufs[idx] + g


def _add_leaf(leaf_grads: dict, leaf: Tensor, g: Any) -> None:
    entry = leaf_grads.get(leaf)
    if entry is None:
        leaf_grads[leaf] = [g, False]
    else:
        entry[0] = entry[0] + g
        entry[1] = True


def _own(g: Any) -> Any:
    """A gradient we may hand to the user: an array of its own, not a view of another."""
    return backend.get_array_module(g).array(g, copy=True)


def _accumulate_into_grad(leaf: Tensor, g: Any, owned: bool) -> None:
    if isinstance(g, Tensor):  # create_graph: the gradient keeps its graph
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        leaf.grad = _make(g if owned and backend.is_array(g) else _own(g))
    else:
        leaf.grad.data = leaf.grad.data + g


def _materialize(node: Function, gbuf: list) -> tuple:
    """User Functions get zeros, not None, for outputs that received no gradient (as PyTorch)."""
    return tuple(xp.zeros(shape, dtype) if g is None else g
                 for g, (shape, dtype, xp) in zip(gbuf, node._out_meta))


def _capture(node: Function, gbuf: Any, wanted: dict, captured: dict) -> None:
    for idx in range(node._n_out):
        i = wanted.get((node, idx))
        if i is not None:
            captured[i] = gbuf if node._n_out == 1 else gbuf[idx]


def _run_pre_hooks(node: Function, gbuf: Any) -> Any:
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


def _run_leaf_hooks(leaf: Tensor, g: Any) -> Any:
    if leaf._hooks:
        for hook in list(leaf._hooks.values()):
            g = _call_hook(hook, g)
    return g


def _call_hook(hook: Any, g: Any) -> Any:
    as_tensor = isinstance(g, Tensor)
    res = hook(g if as_tensor else _make(g))
    if res is None:
        return g
    if not as_tensor:
        res = res.data if isinstance(res, Tensor) else res
    if tuple(res.shape) != tuple(g.shape):
        raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} returned a gradient of "
                           f"shape {tuple(res.shape)}, expected {tuple(g.shape)}")
    return res


def _check_finite(node: Function, grads: tuple) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        g = g.data if isinstance(g, Tensor) else g
        xp = backend.get_array_module(g)
        if not bool(xp.isfinite(g).all()):
            bad = "nan" if bool(xp.isnan(g).any()) else "inf"
            where = "".join(node._trace or []) or "(created before anomaly mode was enabled)\n"
            raise RuntimeError(
                f"Function '{type(node).__name__}' returned {bad} values in its gradient for "
                f"input {i}. The op was created here:\n{where}")
