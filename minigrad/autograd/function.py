"""User-defined differentiable operations: ``Function``, as PyTorch's ``torch.autograd.Function``.

A subclass has two static methods side by side::

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
node of the graph: the object ``ctx`` *is* that node (see ``graph.py``). It uses the same
vocabulary as minigrad's own ops: saved values in ``ctx._saved``, read back through
``ctx.saved_tensors``. The difference is that forward and backward see Tensors, not arrays,
and that what backward returns is checked (count, shape, dtype, device), since a user's rule
is where mistakes happen.
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.autograd import anomaly, higher_order
from minigrad.autograd.engine import freed_message
from minigrad.autograd.grad_mode import no_grad, state
from minigrad.autograd.graph import Node, Op, TensorBase, make
from minigrad.autograd.versions import check_versions

__all__ = ["Function", "Op"]

_new = object.__new__


class Function(Node):
    """Base class of user-defined differentiable operations.

    ``forward(ctx, *args)`` receives Tensors (detached: nothing inside forward is recorded) and
    returns a Tensor or a tuple of Tensors. ``backward(ctx, *grads)`` receives one gradient per
    output and returns one gradient (Tensor or None) per input of ``forward``.
    """

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors for backward; changing them in place before backward raises an error."""
        self._saved = tensors
        self._saved_versions = [t._version for t in tensors if isinstance(t, TensorBase)]
        self._saved_at = state.clock

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept; raises if one was changed in place since, or if
        the graph was already freed."""
        if "_saved" not in self.__dict__ and self._edges is None:
            raise RuntimeError(freed_message(self))
        check_versions(self)
        return self._saved

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Mark outputs that get no gradient (indices, masks): they come back without grad."""
        self._non_diff = {id(o) for o in outputs}

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` and, if an input requires grad, record the call as a graph node."""
        ctx = _new(cls)
        inputs = tuple(_alias(a) if isinstance(a, TensorBase) else a for a in args)
        with no_grad():
            out = cls.forward(ctx, *inputs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        record = state.grad_enabled and cls.differentiable and any(
            isinstance(a, TensorBase) and a.requires_grad for a in args)
        non_diff = ctx.__dict__.pop("_non_diff", set())
        results = []
        for i, o in enumerate(outs):
            if not isinstance(o, TensorBase):
                raise TypeError(f"{cls.__name__}.forward must return Tensors, got {type(o)}")
            if any(o is a for a in inputs):  # returned an input unchanged: give a new handle
                o = _alias(o)
            if record and id(outs[i]) not in non_diff and o.data.dtype.kind == "f":
                o.requires_grad = True
                o._node, o._idx = ctx, i
            results.append(o)
        if record:
            ctx._edges = [None if not isinstance(a, TensorBase) or not a.requires_grad else
                          (a, -1) if a._node is None else (a._node, a._idx) for a in args]
            ctx._n_out = len(outs)
            ctx._in_meta = tuple(_meta(a.data) if isinstance(a, TensorBase) else None
                                 for a in args)
            ctx._input_aliases = inputs
            ctx._out_meta = tuple(_meta(o.data) for o in results)
            if state.anomaly:
                anomaly.record_trace(ctx)
        return results[0] if single else tuple(results)

    def run_backward(self, grads: tuple, create_graph: bool = False) -> tuple:
        """Run the user's backward on Tensors and check what it returns.

        Outputs that received no gradient get zeros, as in PyTorch. Under ``create_graph``
        (recording is on) the saved inputs are swapped for Tensors connected to the graph and
        backward is recorded, so that it is differentiated in turn.
        """
        grads = tuple(_zeros(m) if g is None else g for g, m in zip(grads, self._out_meta))
        if create_graph:
            gts = tuple(g if isinstance(g, TensorBase) else make(g) for g in grads)
            saved = self._saved
            self._saved = tuple(self._connected(t) for t in saved)
            try:
                res = type(self).backward(self, *gts)
            finally:
                self._saved = saved
        else:
            with no_grad():
                res = type(self).backward(self, *(make(g) for g in grads))
        return self._checked(res if isinstance(res, tuple) else (res,), create_graph)

    def _checked(self, res: tuple, create_graph: bool) -> tuple:
        name = type(self).__name__
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
            arr = g.data if isinstance(g, TensorBase) else g
            shape, dtype, device = m
            if tuple(arr.shape) != shape:
                raise RuntimeError(f"{name}.backward returned a gradient of shape "
                                   f"{tuple(arr.shape)} for input {i}, whose shape is {shape}")
            if arr.dtype != dtype:
                raise RuntimeError(f"{name}.backward returned a {arr.dtype} gradient for input "
                                   f"{i}, which is {dtype}: gradients keep their input's dtype; "
                                   f"convert it in backward, e.g. grad.to({_dtype_name(dtype)})")
            if backend.device_of(arr) != device:
                raise RuntimeError(f"{name}.backward returned a gradient on "
                                   f"{backend.device_of(arr)} for input {i}, which is on "
                                   f"{device}: move it in backward, e.g. grad.to('{device}')")
            out.append(g if create_graph else arr)
        return tuple(out)

    def _connected(self, t: Any) -> Any:
        """For create_graph: the graph-connected Tensor behind a saved forward input alias."""
        for alias, edge in zip(self._input_aliases, self._edges):
            if t is alias and edge is not None:
                return higher_order.connected(t, edge)
        return t


def _meta(a: Any) -> tuple:
    return tuple(a.shape), a.dtype, backend.device_of(a)


def _zeros(meta: tuple) -> Any:
    shape, dtype, device = meta
    return backend.to_device(device.xp.zeros(shape, dtype), device)


def _dtype_name(dtype: Any) -> str:
    return f"mg.{dtype}"


def _alias(t: TensorBase) -> TensorBase:
    """A graph-free handle on the same data and version counter, for a user forward."""
    a = make(t.data)
    a._version = t._version
    return a


Op = Op  # the built-in ops' base class (defined in graph.py), importable from here too
