"""The graph: what a Tensor remembers, the nodes that record operations, and ``Op.apply``.

Read this file first, then ``engine.py`` (the backward pass). Together they are the engine;
every other file in ``minigrad/autograd`` adds one feature on top through a narrow seam.

A Tensor holds ``data`` (a NumPy or CuPy array) and these graph fields:

- ``requires_grad``: does a gradient flow to it?  ``grad``: dL/d(tensor), filled for leaves;
- ``_node`` and ``_idx``: the node that produced it and which of its outputs it is
  (``_node is None`` for a leaf: an input or a parameter);
- ``_version``: a one-element list, shared with its views, holding the time of its last
  in-place change (see ``versions.py``);  ``_hooks``: gradient hooks of a leaf (``hooks.py``).

A node is the ``ctx`` object that ``forward`` and ``backward`` receive. It keeps one *edge*
per input, ``(node, output index)`` of the input's producer, ``(leaf, -1)`` for a leaf, or
None where no gradient flows, and the values its backward reads, in ``ctx._saved``.

``Tensor``'s methods (arithmetic, shapes, reductions) are not here: they are calls into the
ops, which are built on this file, so they live one layer up in ``minigrad/tensor.py``.
"""

from __future__ import annotations

import operator
import reprlib
from typing import Any

import numpy as np

from minigrad import backend, dtypes
from minigrad.autograd import anomaly
from minigrad.autograd.grad_mode import state

_new = object.__new__
_ndarray = np.ndarray


class TensorBase:
    """A Tensor's data and graph fields (PyTorch's ``TensorBase``); ``mg.Tensor`` subclasses it."""

    __slots__ = ("data", "grad", "requires_grad", "_node", "_idx", "_version", "_hooks",
                 "_base", "__weakref__")
    __hash__ = object.__hash__  # identity, so tensors can be dict keys despite elementwise ==
    __array_ufunc__ = None  # so that `ndarray * tensor` defers to Tensor.__rmul__

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False,
                 device: Any = None) -> None:
        init_fields(self, dtypes.to_array(data, dtype, device))
        if requires_grad:
            self.requires_grad_(True)

    @property
    def is_leaf(self) -> bool:
        """True for tensors not made by a recorded op (inputs, parameters)."""
        return self._node is None

    @property
    def grad_fn(self) -> Any:
        """The node that produced this tensor (None for leaves)."""
        return self._node

    def requires_grad_(self, requires_grad: bool = True) -> TensorBase:
        """Switch gradient tracking on (or off) for this leaf tensor, in place."""
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, this one "
                               f"is {self.data.dtype}; convert it first, e.g. x.float()")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors; use "
                               "detach() for a non-leaf")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> TensorBase:
        """The same values (shared memory and version counter), cut out of the graph."""
        t = make(self.data)
        t._version = self._version
        return t

    def detach_(self) -> TensorBase:
        """Cut this tensor out of the graph in place (it becomes a leaf without grad)."""
        self._node, self.requires_grad = None, False
        return self


# The class that ops create. minigrad/tensor.py defines Tensor (TensorBase plus its methods,
# which call the ops) and registers it here with use_tensor_class: the one place where the
# layer above plugs into this one.
_Tensor: type = TensorBase


def use_tensor_class(cls: type) -> None:
    """Make ``make`` and ``Op.apply`` create instances of ``cls`` (a TensorBase subclass)."""
    global _Tensor
    _Tensor = cls


def init_fields(t: TensorBase, data: Any, node: Node | None = None, idx: int = 0) -> TensorBase:
    """Set every field of a new tensor: the one initialiser all tensors go through."""
    t.data = data
    t.grad = None
    t.requires_grad = node is not None
    t._node = node
    t._idx = idx
    t._version = [0]
    t._hooks = None
    return t


def make(data: Any, node: Node | None = None, idx: int = 0) -> TensorBase:
    """Wrap a backend array as a Tensor; output ``idx`` of ``node`` when a node is given."""
    if type(data) is not _ndarray and isinstance(data, np.generic):
        data = np.asarray(data)  # NumPy turns 0-d results into scalars; tensors hold arrays
    return init_fields(_new(_Tensor), data, node, idx)


class Node:
    """A recorded operation: the ``ctx`` of forward and backward, and a node of the graph.

    The engine's bookkeeping is kept as class-level defaults, so that a node only stores what
    differs. Backward frees a node by clearing its ``__dict__``: ``_edges`` then reads None
    again, which marks it as freed.
    """

    _edges: list | None = None  # one (target, index) per input, None where no grad flows
    _gbuf: Any = None  # gradient(s) accumulated for this node's output(s) during backward
    _gbuf_owned = False  # _gbuf is a sum the engine made, so it may add into it in place
    _n_out = 1
    _deps = 0  # during backward: edges into this node whose gradient has not arrived yet
    _pre_hooks: dict | None = None  # output index -> hooks of that output tensor (hooks.py)
    _saved: Any = ()  # what backward reads: saved inputs in save_inputs order, then outputs
    _saved_versions: Any = ()  # the version counters of those values (versions.py)
    _saved_at = 0  # the in-place clock when they were saved
    _trace: list | None = None  # where the node was created, in anomaly mode (anomaly.py)
    _plain = False  # a single-output Op without hooks: the engine's fast path
    save_inputs: tuple[int, ...] = ()  # positions of the inputs backward reads
    save_output = False  # backward reads the output(s)
    is_view = False  # output shares memory with input 0 (reshape, slicing, transpose, ...)
    differentiable = True
    create_graph_ok = False  # an Op whose backward rule also runs on Tensors sets this

    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        """Compute the outputs from the inputs; keep what backward needs on ``ctx``."""
        raise NotImplementedError("subclasses must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        """Given dL/d(output) for each output, return dL/d(input) (or None) for each input."""
        raise NotImplementedError("subclasses must implement backward(ctx, *grads)")

    @property
    def needs_input_grad(self) -> tuple[bool, ...]:
        """One bool per input of ``forward``: does its gradient have anywhere to go?"""
        return tuple(e is not None for e in self._edges or ())

    def run_backward(self, grads: tuple, create_graph: bool = False) -> Any:
        """Called by the engine's general path with one gradient (or None) per output.

        (The engine runs an Op's rule on Tensors itself under ``create_graph``.)"""
        return self.backward(self, *grads)


class Op(Node):
    """A primitive op of minigrad itself: ``forward`` and ``backward`` see raw backend arrays.

    Set ``save_inputs`` to the positions of the inputs that backward reads, and ``save_output``
    if it reads the output(s): ``apply`` keeps them in ``ctx._saved`` (inputs in that order,
    then the outputs) and backward reads them as ``ctx.saved_tensors``. The engine checks that
    none of them changed in place before backward reads them. Python numbers may be passed as
    inputs; they get no gradient. ``forward`` may set plain attributes on ctx (``ctx.shapes``)
    for backward.
    """

    _plain = True
    saved_tensors = property(operator.attrgetter("_saved"),
                             doc="The saved values: inputs in ``save_inputs`` order, then outputs.")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on the inputs' arrays and record the node: the engine's hot path."""
        xs = []  # the inputs' arrays (Python numbers as they are)
        edges = []
        record = False
        kind = None  # the array class: numpy.ndarray or cupy.ndarray, one device for all
        for a in args:
            if isinstance(a, TensorBase):
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
        view = ctx.is_view  # forward may decide it (basic indexing is a view, masks are not)
        if record and state.grad_enabled and cls.differentiable:
            ctx._edges = edges
            save = cls.save_inputs
            if save:  # (plain loops: cheaper than comprehensions on this path)
                ctx._saved = saved = []
                ctx._saved_versions = versions = []
                for i in save:
                    x = xs[i]
                    saved.append(x)
                    if x is not args[i]:  # a Tensor's array (a number stands for itself)
                        versions.append(args[i]._version)
                ctx._saved_at = state.clock
            if state.anomaly:
                anomaly.record_trace(ctx)
        else:
            ctx = None
        if type(y) is tuple:
            outs = _outputs(ctx, cls, y)
        else:
            if y.__class__ is not _ndarray:
                y = backend.ensure_array(y)
            outs = out = init_fields(_new(_Tensor), y, ctx)
            if ctx is not None and cls.save_output:
                _save_outputs(ctx, cls, (out,))
        if view:
            _share_version(outs, args[0])
        return outs


def _outputs(ctx: Node | None, cls: type, ys: tuple) -> tuple:
    """The Tensors of a multi-output op (``split``, ``max(dim)``)."""
    if ctx is None:
        return tuple(make(y) for y in ys)
    ctx._n_out = len(ys)
    ctx._plain = False
    nd = getattr(ctx, "non_differentiable_outputs", ())
    outs = tuple(make(y, None if i in nd else ctx, i) for i, y in enumerate(ys))
    if cls.save_output:  # backward reads every output (or memory they are views of)
        _save_outputs(ctx, cls, outs)
    return outs


def _save_outputs(ctx: Node, cls: type, outs: tuple) -> None:
    """Append the outputs (after the saved inputs, if any) to what backward reads."""
    if not cls.save_inputs:
        ctx._saved, ctx._saved_versions, ctx._saved_at = [], [], state.clock
    for o in outs:
        ctx._saved.append(o.data)
        ctx._saved_versions.append(o._version)


def _share_version(outs: Any, base: Any) -> None:
    """Views and their base share one version counter, so a change through either is seen."""
    if isinstance(base, TensorBase):
        for o in outs if type(outs) is tuple else (outs,):
            o._version = base._version
            o._base = base


def _describe(xs: list) -> str:
    # reprlib: a constant's repr cut short (an op's plan object may hold a whole program)
    return ", ".join(f"of shape {tuple(x.shape)} ({x.dtype})" if hasattr(x, "shape")
                     else reprlib.repr(x) for x in xs)


def _raise_device_mismatch(cls: type, args: tuple) -> None:
    devs = [str(backend.device_of(a.data)) for a in args if isinstance(a, TensorBase)]
    raise RuntimeError(f"{cls.__name__} got tensors on different devices ({', '.join(devs)}): "
                       "move them to one device first, e.g. x.to('cuda') or x.cpu()")
