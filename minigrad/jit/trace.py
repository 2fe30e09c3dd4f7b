"""Tracing: run one step of a recurrence on Tensors and record the ops it calls as a Program.

A step function ``step(xs, state, params) -> new_state`` is ordinary minigrad code (a cell).
While it runs, every ``Op.apply`` is recorded: the op's class, its arguments (a traced value,
or a constant such as an axis, a shape or a Python number) and its outputs. The result is a
:class:`Program`, a straight-line list of :class:`Node` over numbered *slots*:

- the step's inputs: its per-step inputs ``xs``, the state it reads, the ``params``;
- *captured* tensors: any other tensor an op reads (a parameter the cell closes over, a
  constant it built) -- fixed for the whole sequence;
- the outputs of the recorded ops.

A slot *varies* when it depends on the step's inputs or state; everything else is
loop-invariant. Invariant nodes (e.g. ``w.split(...)``) are *hoisted*: run once per sequence,
as ordinary graph ops. A slot *needs a gradient* when a gradient can reach a leaf through it;
only those nodes keep what their backward reads. Nodes whose outputs no step output uses are
dropped (dead code).

What a replay could get silently wrong is refused here, with an error naming the cause and
suggesting ``fused=False``: an op that draws random numbers, a write into a tensor, a
:class:`~minigrad.autograd.Function` (its backward runs on Tensors, not arrays), reading a
step value in Python (``if h.sum() > 0``, ``.item()``: data-dependent control flow), and a
step that records different ops, or computes different constants, when traced twice.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable, Sequence

from minigrad.autograd.function import Function
from minigrad.autograd.grad_mode import no_grad
from minigrad.autograd.graph import Op
from minigrad.ops import nn_ops
from minigrad.ops.linalg import Linear, MatMul
from minigrad.tensor import Tensor, _make

_tensor_module = importlib.import_module("minigrad.tensor")  # (mg.tensor is the function)

# Ops a replay must not run blindly: they draw random numbers. (Writes into a tensor, +=
# or x[i] = v, are refused by _Recording: without a graph they call no op.)
_REFUSED = {nn_ops.Dropout: "draws a new random mask at every call"}


# Ops whose output rows depend only on the same rows of operand 0, the other operands being
# the same for every row: on all steps' rows at once they compute (and differentiate) the
# same thing as step by step.
ROW_WISE = (Linear, MatMul)


class TraceError(RuntimeError):
    """A step function the recurrence compiler cannot replay faithfully."""


@dataclasses.dataclass
class Node:
    """One recorded op call. ``args`` holds, per input, ``(True, slot)`` for a traced value or
    ``(False, value)`` for a constant; ``edges`` is, per input, True where a gradient flows to
    it (None elsewhere: what ``ctx.needs_input_grad`` reads)."""

    cls: type
    args: tuple[tuple[bool, Any], ...]
    outs: tuple[int, ...]
    edges: tuple[bool | None, ...] = ()
    grad: bool = False  # does any input need a gradient (so backward runs and values are saved)
    # a row-wise product with invariant other operands: per step only operand 0's gradient
    # (``step_edges``); the others' come from one backward call on all steps' rows
    row: bool = False
    step_edges: tuple[bool | None, ...] = ()


@dataclasses.dataclass
class Program:
    """A traced step: ``nodes`` run in order each step, ``hoisted`` once per sequence."""

    seq_slots: list[int]
    state_slots: list[int]
    param_slots: list[int]
    captured: list[Tensor]  # tensors read by the step but not passed to it
    captured_slots: list[int]
    hoisted: list[Node]
    batched: list[Node]  # row-wise products of a per-step input: run once on all steps' rows
    nodes: list[Node]
    outputs: list[int]  # the slots of the new state's parts
    n_slots: int
    needs_grad: list[bool]  # per slot
    name: str = "step"
    meta: list = dataclasses.field(default_factory=list)  # per slot: (shape, dtype) as traced
    items: list | None = None  # nodes grouped into elementwise regions (jit.kernels)
    layout: dict | None = None  # per row-wise node: operands' layout for BLAS (jit.scan), CPU
    generated: Any = None  # the generated step functions (jit.codegen)
    scan_class: Any = None  # the class of its sequence node (jit.scan)

    @property
    def invariant_slots(self) -> list[int]:
        """What the sequence op receives besides xs and state: params, captured tensors and
        the hoisted nodes' outputs that the loop reads."""
        read = {a for n in self.batched + self.nodes for is_slot, a in n.args if is_slot}
        hoisted = [s for n in self.hoisted for s in n.outs if s in read]
        return self.param_slots + self.captured_slots + hoisted


def trace(step: Callable, xs: Sequence[Tensor], state: Sequence[Tensor], params: Sequence[Any],
          grads: Sequence[bool], name: str = "step",
          again: tuple[Sequence[Tensor], Sequence[Tensor]] | None = None) -> Program:
    """Trace ``step`` on ``xs``/``state`` (one step's values) and ``params``.

    ``grads`` says, per x, state part and param, whether it requires a gradient. With
    ``again`` (other values for xs and state, e.g. another step's), the step is traced a second
    time and both recordings must agree (same ops, same constants).
    """
    program, signature, consts = _record(step, xs, state, params, grads, name)
    if again is not None:
        _, signature2, consts2 = _record(step, again[0], again[1], params, grads, name)
        if signature2 != signature:
            raise TraceError(
                f"{name}: the step records different ops on different steps (Python control "
                "flow that depends on the data?); the compiled path replays one recording for "
                "every step. Build the layer with fused=False to run the cell as written.")
        for a, b in zip(consts, consts2):
            if a is not b and not (a.shape == b.shape and bool((a.data == b.data).all())):
                raise TraceError(
                    f"{name}: a tensor the step reads has different values on different steps "
                    f"(shape {tuple(a.shape)}): made with a random draw, or outside minigrad's "
                    "ops (.data, .detach()); the compiled path would freeze it. Use fused=False, "
                    "or compute it with Tensor ops.")
    return program


def _record(step: Callable, xs: Sequence[Tensor], state: Sequence[Tensor],
            params: Sequence[Any], grads: Sequence[bool],
            name: str) -> tuple[Program, list, list[Tensor]]:
    slot_of: dict[int, int] = {}
    keep: list[Any] = []  # every traced tensor stays alive, so ids stay unique
    varying: set[int] = set()

    def new_slot(t: Tensor) -> int:
        slot_of[id(t)] = len(keep)
        keep.append(t)
        return len(keep) - 1

    # fresh handles: ids distinct from anything outside
    xs, state = [_make(x.data) for x in xs], [_make(s.data) for s in state]
    varying.update(id(t) for t in (*xs, *state))
    seq_slots = [new_slot(x) for x in xs]
    state_slots = [new_slot(s) for s in state]
    param_slots = [new_slot(p) for p in params if isinstance(p, Tensor)]
    records: list[tuple[type, tuple, tuple]] = []

    def on_op(cls: type, args: tuple, out: Any) -> None:
        if cls in _REFUSED:
            raise TraceError(f"{name}: the step calls {cls.__name__}, which {_REFUSED[cls]}; "
                             "the compiled path cannot replay it. Use fused=False (or move it "
                             "out of the cell, e.g. dropout between layers).")
        outs = out if isinstance(out, tuple) else (out,)
        if any(id(a) in varying for a in args if isinstance(a, Tensor)):
            varying.update(id(o) for o in outs)
        records.append((cls, args, outs))
        keep.extend(outs)

    with no_grad(), _Recording(on_op, varying, name):
        new_state = step(xs, state, params)
    new_state = tuple(new_state) if isinstance(new_state, (tuple, list)) else (new_state,)
    if len(new_state) != len(state) or not all(isinstance(s, Tensor) for s in new_state):
        kinds = ", ".join(type(v).__name__ for v in new_state)
        raise TraceError(f"{name}: the step must return its new state, {len(state)} "
                         f"tensor(s) like the state it was given, got ({kinds})")
    for old, new in zip(state, new_state):
        if new.shape != old.shape or new.dtype != old.dtype:
            raise TraceError(f"{name}: the step returned a state part of shape {new.shape} "
                             f"({new.dtype}) for one of shape {old.shape} ({old.dtype}); a "
                             "recurrence must keep its state's shape and dtype")

    nodes, signature, captured, captured_slots = [], [], [], []
    for cls, args, outs in records:
        spec = []
        for a in args:
            if isinstance(a, Tensor):
                if id(a) not in slot_of:  # read but not passed in: fixed for the sequence
                    captured_slots.append(new_slot(a))
                    captured.append(a)
                spec.append((True, slot_of[id(a)]))
            else:
                spec.append((False, a))
        nodes.append(Node(cls, tuple(spec), tuple(new_slot(o) for o in outs)))
        signature.append((cls, tuple(s if is_slot else _constant_key(s) for is_slot, s in spec)))
    for t in new_state:  # a state part returned as is (not made by an op) must have a slot
        if id(t) not in slot_of:
            captured_slots.append(new_slot(t))
            captured.append(t)
    outputs = [slot_of[id(t)] for t in new_state]
    program = Program(seq_slots, state_slots, param_slots, captured, captured_slots, [], [],
                      nodes, outputs, len(keep), [False] * len(keep), name,
                      [(getattr(t, "shape", None), getattr(t, "dtype", None)) for t in keep])
    _analyse(program, keep, varying, grads)
    return program, signature, captured


def _analyse(p: Program, values: list, varying: set[int], grads: Sequence[bool]) -> None:
    """Hoist invariant nodes, drop dead ones, and find where gradients flow."""
    live, kept = set(p.outputs), []
    for node in reversed(p.nodes):
        if any(s in live for s in node.outs):
            kept.append(node)
            live.update(a for is_slot, a in node.args if is_slot)
    kept.reverse()
    p.hoisted = [n for n in kept if id(values[n.outs[0]]) not in varying]
    p.nodes = [n for n in kept if id(values[n.outs[0]]) in varying]
    # x_t W^T for every t is ONE product before the loop (as the layers' input projection)
    p.batched = [n for n in p.nodes if n.cls in ROW_WISE and n.args[0][0]
                 and n.args[0][1] in p.seq_slots and not any(
                     is_slot and id(values[a]) in varying for is_slot, a in n.args[1:])]
    p.nodes = [n for n in p.nodes if not any(n is b for b in p.batched)]
    given = dict(zip(p.seq_slots + p.state_slots + p.param_slots, grads))
    given.update({s: values[s].requires_grad for s in p.captured_slots})
    # A state part needs a gradient if the step's output of that part does (the previous step
    # made it): iterate to the fixed point, at most once per state part.
    for _ in range(len(p.state_slots) + 1):
        needs = [bool(given.get(s, False)) for s in range(p.n_slots)]
        for node in p.hoisted + p.batched + p.nodes:
            flows = tuple(True if is_slot and needs[a] else None for is_slot, a in node.args)
            node.edges = flows
            node.grad = node.cls.differentiable and any(flows)
            for s in node.outs:
                needs[s] = node.grad
        changed = False
        for k, s in enumerate(p.state_slots):
            if needs[p.outputs[k]] and not needs[s]:
                given[s] = changed = True
        if not changed:
            break
    # a per-step input no op reads gets None, as on the graph, not zeros (a state part is
    # read by the padding's where(mask, new, old), so it always gets its gradient)
    p.needs_grad = [n and (s in live or s not in p.seq_slots) for s, n in enumerate(needs)]
    invariant = set(p.invariant_slots)
    for node in p.nodes:
        others = [a for is_slot, a in node.args[1:] if is_slot]
        node.row = (node.cls in ROW_WISE and node.grad and node.args[0][0] and bool(others)
                    and all(a in invariant for a in others) and any(node.edges[1:]))
        node.step_edges = ((node.edges[0],) + (None,) * (len(node.edges) - 1) if node.row
                           else node.edges)


class _Recording:
    """While active, ``Op.apply`` reports every call to ``on_op``; a user Function and a write
    into a tensor (``+=``, ``mul_``, ``x[i] = v``) are refused; and reading a varying tensor's
    value in Python raises (data-dependent control flow)."""

    def __init__(self, on_op: Callable, varying: set[int], name: str) -> None:
        self.on_op, self.varying, self.name = on_op, varying, name

    def __enter__(self) -> None:
        op_apply, varying, name = Op.__dict__["apply"].__func__, self.varying, self.name

        def recorded(cls: type, *args: Any) -> Any:
            out = op_apply(cls, *args)
            self.on_op(cls, args, out)
            return out

        def refuse(what: str) -> Callable:  # ``what`` is formatted with the call's arguments
            def refused(*args: Any) -> Any:
                raise TraceError(f"{name}: the step {what.format(*args)}")
            return refused

        def guard(method: Callable) -> Callable:
            def read(t: Tensor, *a: Any) -> Any:
                if id(t) in varying:
                    raise TraceError(
                        f"{name}: the step reads a value that changes from step to step in "
                        f"Python ({method.__name__}): data-dependent control flow cannot be "
                        "compiled. Use fused=False, or tensor ops such as mg.where.")
                return method(t, *a)
            return read

        self.saved = {(c, k): c.__dict__[k] for c, k in (
            (Op, "apply"), (Function, "apply"), (_tensor_module, "inplace"), (Tensor, "__bool__"),
            (Tensor, "item"), (Tensor, "__float__"), (Tensor, "tolist"))}
        Op.apply = classmethod(recorded)
        Function.apply = classmethod(refuse(
            "calls {0.__name__}, a Function whose backward runs on Tensors; the compiled path "
            "replays minigrad's Ops only. Use fused=False."))
        # without a graph an in-place op writes the array directly, which no recording sees
        _tensor_module.inplace = refuse(
            "changes a tensor in place ({1.__name__}: +=, mul_, x[i] = ...), which the compiled "
            "path cannot replay. Write it out of place (z = z * 0.5), or use fused=False.")
        for k in ("__bool__", "item", "__float__", "tolist"):  # reading a value in Python
            setattr(Tensor, k, guard(self.saved[Tensor, k]))

    def __exit__(self, *exc: object) -> None:
        for (c, k), v in self.saved.items():
            setattr(c, k, v)


def _constant_key(v: Any) -> Any:
    """A comparable stand-in for a constant argument (arrays by shape and dtype)."""
    is_array = hasattr(v, "shape") and hasattr(v, "dtype")
    return ("array", tuple(v.shape), str(v.dtype)) if is_array else v


def save(ctx: Any, cls: type, xs: Sequence[Any], y: Any) -> None:
    """Keep what ``cls.backward`` reads, as ``Op.apply`` does: the inputs at
    ``cls.save_inputs``, then the output(s) if ``cls.save_output``."""
    outs = (y if type(y) is tuple else (y,)) if cls.save_output else ()
    ctx._saved = [xs[i] for i in cls.save_inputs] + list(outs)
