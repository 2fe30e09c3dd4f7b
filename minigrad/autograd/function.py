"""Functions: the nodes of the graph.

Every differentiable operation is a subclass of :class:`Function` with two static methods side
by side, as in PyTorch::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # y = e^x
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):        # dL/dx = dL/dy * e^x = grad * y
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

Calling ``apply`` runs ``forward`` and, when an input requires grad, records the call as a
node of the graph: the object ``ctx`` *is* that node. It remembers one *edge* per input: where
that input's gradient must go (the node that produced it, or the leaf tensor itself).

minigrad's own primitive ops subclass :class:`Op` instead, the same contract on raw backend
arrays (NumPy or CuPy) rather than Tensors, which keeps the per-op cost low. Ops declare what
their backward reads (``save_inputs``, ``save_output``) so that changing one of those values in
place afterwards is caught at backward time instead of giving a silently wrong gradient.
"""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from minigrad import backend
from minigrad.autograd.grad_mode import no_grad, state
from minigrad.backend import ensure_array

_new = object.__new__
_ndarray = np.ndarray


class Function:
    """Base class of user-defined differentiable operations (PyTorch's ``torch.autograd.Function``).

    ``forward(ctx, *args)`` receives Tensors (detached: nothing inside forward is recorded) and
    returns a Tensor or a tuple of Tensors. ``backward(ctx, *grads)`` receives one gradient per
    output and returns one gradient (Tensor or None) per input of ``forward``.
    """

    # The engine's bookkeeping, kept as class-level defaults so that a node only stores what
    # differs. Backward frees a node by clearing its __dict__: these defaults (``_edges`` None)
    # then mark it as freed.
    _edges: tuple | None = None  # one (target, index) per input, None where no grad flows
    _gbuf: Any = None  # gradient(s) accumulated for this node's output(s) during backward
    _gbuf_owned = False  # _gbuf is a sum the engine made, so it may add into it in place
    _n_out = 1
    _deps = 0  # during backward: edges into this node whose gradient has not arrived yet
    _pre_hooks: dict | None = None  # output index -> hooks registered on that output tensor
    _saved_versions: list | tuple = ()  # version counters of the values backward reads
    _saved_at = 0  # the in-place clock when they were saved (see tensor.CLOCK)
    _trace: list | None = None  # where the op was created, kept in anomaly mode
    _arrays = False  # backward runs on Tensors (user Functions) or on raw arrays (Ops)
    _plain = False  # a single-output Op with no hooks: the engine's fast path
    is_view = False  # output shares memory with input 0 (reshape, slicing, transpose, ...)
    differentiable = True
    create_graph_ok = False  # an Op whose backward rule also runs on Tensors sets this

    # ---- the user-facing ctx API
    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward; changing them in place before backward raises an error."""
        self._saved = tensors
        self._saved_versions = [t._version for t in tensors if isinstance(t, Tensor)]
        self._saved_at = CLOCK[0]

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept; raises if one was changed in place since, or if
        the graph was already freed."""
        if "_saved" not in self.__dict__ and self._edges is None:
            raise RuntimeError(_freed_message(self))
        self._check_versions()
        return self.__dict__.get("_saved", ())

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """One bool per input of ``forward``: does its gradient have anywhere to go?"""
        return tuple(e is not None for e in self._edges or ())

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Mark outputs that get no gradient (indices, masks): they come back without grad."""
        self._non_diff = {id(o) for o in outputs}

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` and, if an input requires grad, record the call as a graph node."""
        ctx = _new(cls)
        inputs = tuple(_alias(a) if isinstance(a, Tensor) else a for a in args)
        with no_grad():
            out = cls.forward(ctx, *inputs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        record = state.grad_enabled and cls.differentiable and any(
            isinstance(a, Tensor) and a.requires_grad for a in args)
        non_diff = ctx.__dict__.pop("_non_diff", set())
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                raise TypeError(f"{cls.__name__}.forward must return Tensors, got {type(o)}")
            if any(o is a for a in inputs):  # returned an input unchanged: give a new handle
                o = _alias(o)
            if record and id(outs[i]) not in non_diff and o.dtype.kind == "f":
                o.requires_grad = True
                o._node, o._idx = ctx, i
            results.append(o)
        if record:
            ctx._edges = [_edge(a) if isinstance(a, Tensor) else None for a in args]
            ctx._n_out = len(outs)
            ctx._in_meta = tuple((a.shape, a.dtype) if isinstance(a, Tensor) else None
                                 for a in args)
            ctx._input_aliases = inputs
            ctx._out_meta = tuple((o.shape, o.dtype, backend.get_array_module(o.data))
                                  for o in results)
            if state.anomaly:
                ctx._trace = traceback.format_stack()[:-1]
        return results[0] if single else tuple(results)

    def _backward(self, grads: tuple, create_graph: bool = False) -> tuple:
        """Run the user's backward on Tensors and check what it returns.

        With ``create_graph`` the saved inputs are swapped for Tensors connected to the graph
        and backward runs with recording on, so it is differentiated in turn.
        """
        name = type(self).__name__
        if create_graph:
            gts = tuple(g if g is None or isinstance(g, Tensor) else _make(g) for g in grads)
            saved = self.__dict__.get("_saved", ())
            self._saved = tuple(self._connected(t) for t in saved)
            try:
                res = type(self).backward(self, *gts)
            finally:
                self._saved = saved
        else:
            gts = tuple(_make(g) if g is not None else None for g in grads)
            with no_grad():
                res = type(self).backward(self, *gts)
        if not isinstance(res, tuple):
            res = (res,)
        meta = self._in_meta
        if len(res) != len(meta):
            raise RuntimeError(f"{name}.backward returned {len(res)} gradient(s) but forward "
                               f"took {len(meta)} input(s): return one per input (None for "
                               "inputs that need no gradient)")
        out = []
        for i, (g, m) in enumerate(zip(res, meta)):
            if g is None or m is None:
                out.append(None)
                continue
            if not create_graph:
                g = g.data if isinstance(g, Tensor) else g
            if tuple(g.shape) != tuple(m[0]):
                raise RuntimeError(f"{name}.backward returned a gradient of shape "
                                   f"{tuple(g.shape)} for input {i}, whose shape is {m[0]}")
            out.append(g)
        return tuple(out)

    def _connected(self, t: Any) -> Any:
        """For create_graph: the graph-connected Tensor behind a saved forward input alias."""
        for alias, edge in zip(self._input_aliases, self._edges):
            if t is alias and edge is not None:
                return edge[0] if edge[1] < 0 else _make(t.data, edge[0], edge[1])
        return t

    def _check_versions(self) -> None:
        """Raise if a value saved for backward was changed in place after it was saved.

        A version counter holds the in-place clock's time of the tensor's last change, so
        "changed since saved" is one comparison per saved value.
        """
        for i, counter in enumerate(self._saved_versions):
            if counter[0] > self._saved_at:
                raise RuntimeError(
                    f"one of the values needed by {type(self).__name__}'s backward (saved value "
                    f"{i}) was modified by an in-place operation after it was used. Make a copy "
                    "with .clone() before changing it in place, or change it out of place "
                    "(x = x + 1 instead of x += 1).")

    # Subclasses define these two
    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        """Compute the outputs from the inputs; keep what backward needs on ``ctx``."""
        raise NotImplementedError("subclasses of Function must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        """Given dL/d(output) for each output, return dL/d(input) (or None) for each input."""
        raise NotImplementedError("subclasses of Function must implement backward(ctx, *grads)")


class Op(Function):
    """A primitive op of minigrad itself: ``forward`` and ``backward`` see raw backend arrays.

    Set ``save_inputs`` to the positions of the inputs that backward reads, and ``save_output``
    if it reads the output: ``apply`` keeps them in ``ctx.saved`` (inputs in that order, then
    the output), the engine checks that none of them changed in place before backward reads
    them, and for gradients of gradients it hands backward the same values as Tensors, so the
    rule runs on Tensors and is itself differentiated. Python numbers may be passed as inputs;
    they get no gradient.
    """

    saved: Any = ()

    _arrays = True
    _plain = True
    save_inputs: tuple[int, ...] = ()
    save_output = False

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on the inputs' arrays and record the node: the engine's hot path."""
        # Every op of every step passes here once: keep it lean.
        xs = []
        edges = []
        record = False
        kind = None
        for a in args:
            if isinstance(a, Tensor):
                d = a.data
                if kind is not d.__class__:
                    if kind is not None:
                        _raise_device_mismatch(cls, args)
                    kind = d.__class__
                xs.append(d)
                if a.requires_grad:
                    record = True
                    node = a._node
                    edges.append((a, -1) if node is None else (node, a._idx))
                    continue
            else:
                xs.append(a)
            edges.append(None)
        ctx = _new(cls)
        try:
            y = cls.forward(ctx, *xs)
        except (ValueError, TypeError) as e:  # from NumPy/CuPy: say which op and which inputs
            raise RuntimeError(f"{cls.__name__} failed on inputs {_describe(xs)}: {e}") from None
        if not record or not state.grad_enabled or not cls.differentiable:
            if type(y) is tuple:
                outs = tuple(_make(o) for o in y)
                if ctx.is_view:
                    for o in outs:
                        _share_version(o, args[0])
                return outs
            out = _make(y)
            if ctx.is_view:
                _share_version(out, args[0])
            return out
        ctx._edges = edges
        if cls.save_inputs:
            saved, versions = [], []
            for i in cls.save_inputs:
                saved.append(xs[i])
                a = args[i]
                if isinstance(a, Tensor):
                    versions.append(a._version)
            ctx.saved = saved
            ctx._saved_versions = versions
            ctx._saved_at = CLOCK[0]
        if state.anomaly:
            ctx._trace = traceback.format_stack()[:-1]
        if type(y) is tuple:
            ctx._n_out = len(y)
            ctx._plain = False
            nd = getattr(ctx, "non_differentiable_outputs", ())
            outs = tuple(_make(o, None if i in nd else ctx, i) for i, o in enumerate(y))
            if cls.save_output:  # backward reads every output (or memory they are views of)
                if cls.save_inputs:
                    ctx.saved.extend(y)
                    ctx._saved_versions.extend(o._version for o in outs)
                else:
                    ctx.saved = list(y)
                    ctx._saved_versions = [o._version for o in outs]
                    ctx._saved_at = CLOCK[0]
            if ctx.is_view:
                for o in outs:
                    _share_version(o, args[0])
            return outs
        # the output tensor, built inline: this is _make(y, ctx, 0) without the call
        if y.__class__ is not _ndarray:
            y = ensure_array(y)
        out = _new(Tensor)
        out.data = y
        out.grad = out._hooks = None
        out.requires_grad = True
        out._node = ctx
        out._idx = 0
        out._version = [0]
        if cls.save_output:
            if cls.save_inputs:
                ctx.saved.append(y)
                ctx._saved_versions.append(out._version)
            else:
                ctx.saved = (y,)
                ctx._saved_versions = (out._version,)
                ctx._saved_at = CLOCK[0]
        if ctx.is_view:
            _share_version(out, args[0])
        return out


def _edge(t: Tensor) -> tuple | None:
    """Where the gradient of input ``t`` goes: its producing node, or ``t`` itself if a leaf."""
    if not t.requires_grad:
        return None
    return (t, -1) if t._node is None else (t._node, t._idx)


def _alias(t: Tensor) -> Tensor:
    """A graph-free handle on the same data and version counter, for a user forward."""
    a = _make(t.data)
    a._version = t._version
    return a


def _share_version(view: Tensor, base: Tensor) -> None:
    """Views and their base share one version counter, so a change through either is seen."""
    if isinstance(base, Tensor):
        view._version = base._version
        view._base = base


def _describe(xs: list) -> str:
    return ", ".join(f"of shape {tuple(x.shape)} ({x.dtype})" if hasattr(x, "shape") else repr(x)
                     for x in xs)


def _raise_device_mismatch(cls: type, args: tuple) -> None:
    devs = [str(a.device) for a in args if isinstance(a, Tensor)]
    raise RuntimeError(f"{cls.__name__} got tensors on different devices ({', '.join(devs)}): "
                       "move them to one device first, e.g. x.to('cuda') or x.cpu()")


def _freed_message(node: Function) -> str:
    return (f"Trying to backward through the graph a second time (or to read values saved for "
            f"backward after they were freed), at {type(node).__name__}. The graph is freed "
            "after .backward() to save memory; pass retain_graph=True to the first backward if "
            "you need to go through it again.")


# tensor.py imports the ops, which subclass Op: import it once Op exists.
from minigrad.tensor import CLOCK, Tensor, _make  # noqa: E402
