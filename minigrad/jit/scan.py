"""The compiled recurrence: ONE autograd node per sequence that replays a traced step T times.

:func:`scan` runs ``step`` over a sequence. The first call with given shapes, dtypes, device
and requires-grad flags traces one step into a :class:`~minigrad.jit.trace.Program` (kept in
a small LRU :class:`TraceCache`); every call then builds one :class:`Scan` node whose

- **forward** replays the program's ops for t = 0..T-1 on raw arrays: ``cls.forward(ctx_t,
  *arrays)`` per op and step, each with a fresh ``ctx_t`` that keeps what that op's backward
  reads (:func:`save`). No Tensor and no graph node per step.
- **backward** is back-propagation through time *derived* from the ops' own rules: for t =
  T-1..0, ``cls.backward(ctx_t, *grads)`` per op in reverse order, summing gradients where a
  value was read twice, handing the state's gradient to the step before.

Generic optimisations (nothing here knows any cell):

- a loop-invariant operand of a row-wise product (``Linear``'s W and b, ``MatMul``'s right
  operand) gets its gradient from ONE call of the op's own backward on all steps' rows at
  once: dW = sum_t g_t^T x_t as a single (N, T*B) @ (T*B, K) product;
- a row-wise product of a per-step input by invariants (a cell's x_t W_ih^T + b_ih) runs ONCE
  on all steps' rows before the loop, and its backward once after it;
- other invariant gradients are summed over the sweep in one buffer;
- invariant nodes are hoisted out of the loop (:mod:`~minigrad.jit.trace`), dead ones dropped,
  and only the nodes a gradient flows through keep values for backward;
- each elementwise region of the step runs as one generated kernel forward and one backward
  (:mod:`minigrad.jit.kernels`: a ``cupy.ElementwiseKernel`` on CuPy, ufunc calls that reuse
  their temporaries on NumPy).

Padding (``mask``, as the layers' ``lengths=``): at a step past its length a sequence keeps its
state (the new state is ``where(mask_t, new, old)``), and in backward its state gradient
bypasses the cell, so that step sends nothing to the weights or inputs.
"""

from __future__ import annotations

import collections
import math
import types
from typing import Any, Callable, Sequence

import numpy as np

from minigrad import backend
from minigrad.autograd.grad_mode import no_grad
from minigrad.autograd.grad_mode import state as grad_state
from minigrad.autograd.graph import Op
from minigrad.jit import codegen
from minigrad.jit.trace import Node, Program, save, trace
from minigrad.ops.linalg import Linear, MatMul
from minigrad.tensor import Tensor

_new = object.__new__


class TraceCache:
    """The programs traced for one step function, most recently used last; at most ``size``."""

    def __init__(self, size: int = 8) -> None:
        self.size, self.programs = size, collections.OrderedDict()

    def get(self, key: Any, make: Callable[[], Program]) -> Program:
        program = self.programs.pop(key, None) or make()
        self.programs[key] = program  # (re)inserted: the most recently used is last
        while len(self.programs) > self.size:
            self.programs.popitem(last=False)
        return program

    def __deepcopy__(self, memo: dict) -> TraceCache:  # a copied layer traces again: a
        return TraceCache(self.size)  # program's generated code refers to its own nodes


def scan(step: Callable, xs: Sequence[Tensor], state: Sequence[Tensor],
         params: Sequence[Any] = (), *, cache: TraceCache, mask: Any = None,
         full_steps: int | None = None, reverse: bool = False, key: Any = (),
         name: str = "step") -> tuple[Tensor, tuple[Tensor, ...]]:
    """Run ``new_state = step(x_t, state, params)`` over t (backwards with ``reverse``).

    Args:
        step: ``step(xs_t, state, params) -> new state`` (a tuple of Tensors shaped like
            ``state``); ``xs_t`` holds each x of ``xs`` at step t.
        xs: per-step inputs, each (T, B, ...).
        state: the initial state's parts, each (B, ...); part 0 is the step's output.
        params: Tensors (or None) passed to every step unchanged.
        cache: where traced programs are kept.
        mask: a (T, B, 1) bool array, True at real steps; None if all are real.
        full_steps: steps before it are real for every sequence (no masking needed).
        key: anything else the trace depends on (e.g. ids of the parameters a cell reads).

    Returns:
        ``(outputs, final_state)``: part 0 of the state after every step, (T, B, ...), in time
        order, and the state after the last step.
    """
    record = grad_state.grad_enabled
    grads = [record and t.requires_grad for t in (*xs, *state)] + [
        record and isinstance(p, Tensor) and p.requires_grad for p in params]
    arrays = [t.data for t in (*xs, *state)]
    n_seq = len(xs)  # a step's shapes: T is not part of them
    sig = tuple((a.shape[k < n_seq:], a.dtype.str) for k, a in enumerate(arrays)) + tuple(
        None if p is None else (p.shape, p.dtype.str) for p in params)
    full = (key, sig, type(arrays[0]), tuple(grads), backend.device_of(arrays[0]))
    seq_len = xs[0].shape[0]

    def make() -> Program:
        first = 0 if not reverse else seq_len - 1
        other = [x[seq_len - 1 - first] for x in xs]
        return trace(step, [x[first] for x in xs], list(state), list(params), grads, name,
                     again=(other, [s * 0.5 + 0.25 for s in state]))

    with no_grad():
        program = cache.get(full, make)
    values = dict(zip(program.param_slots, [p for p in params if isinstance(p, Tensor)]))
    values.update(zip(program.captured_slots, program.captured))
    for node in program.hoisted:  # loop-invariant: ordinary graph ops, once per sequence
        out = node.cls.apply(*(values[a] if is_slot else a for is_slot, a in node.args))
        values.update(zip(node.outs, out if isinstance(out, tuple) else (out,)))
    invariants = [values[s] for s in program.invariant_slots]
    # what one call needs besides the arrays: the program and the padding of the batch
    plan = types.SimpleNamespace(program=program, mask=mask, reverse=reverse,
                                 full_steps=seq_len if full_steps is None else full_steps,
                                 backward=record and any(program.needs_grad))
    out = _scan_class(program).apply(plan, *xs, *state, *invariants)
    return out[0], tuple(out[1:])


def _scan_class(program: Program) -> type:
    """The node class of a program: ``Scan`` with ``save_inputs`` at the invariants, so that
    changing a weight in place between forward and backward is caught like for any op."""
    if program.scan_class is None:
        n_in = len(program.seq_slots) + len(program.state_slots)
        program.scan_class = type(f"Scan[{program.name}]", (Scan,), {
            "save_inputs": tuple(range(1 + n_in, 1 + n_in + len(program.invariant_slots))),
            "program": program})
    return program.scan_class


class Scan(Op):
    """A whole recurrence as one node. Inputs: the plan, then the arrays of xs (T, B, ...),
    the initial state's parts and the invariants; outputs: part 0 of every step's state
    (T, B, ...) and the final state's parts."""

    save_output = True  # the outputs are buffers backward reads: changing them is an error
    create_graph_ok = True  # so that backward is asked, and says why it cannot
    program: Program

    @staticmethod
    def forward(ctx: Any, plan: Any, *arrays: Any) -> tuple:
        p = plan.program
        n_seq, n_state = len(p.seq_slots), len(p.state_slots)
        xs, state = arrays[:n_seq], list(arrays[n_seq:n_seq + n_state])
        steps = xs[0].shape[0]
        xp = backend.get_array_module(state[0])
        vals: list[Any] = [None] * p.n_slots
        for s, a in zip(p.invariant_slots, arrays[n_seq + n_state:]):
            vals[s] = a
        rows = _Streams(p, steps)
        laid = _laid_out(p, vals, xp)
        gen = codegen.step(p)  # the step as generated Python (made once per program)
        outputs = xp.empty((steps,) + state[0].shape, state[0].dtype)
        # a step's values outlive the next step only when backward reads them
        bufs = gen.buffers(steps, steps if plan.backward else min(2, steps), xp,
                           {p.outputs[0]: outputs}, rows)
        tapes: list[Any] = [None] * steps
        batched = [_all_rows(node, xs[p.seq_slots.index(node.args[0][1])], vals, plan.backward,
                             rows) for node in p.batched]
        # a step reads x_t, the batched products' rows of step t and the state
        slots = p.seq_slots + [node.outs[0] for node in p.batched] + p.state_slots
        for t in range(steps)[::-1] if plan.reverse else range(steps):
            for s, a in zip(slots, [x[t] for x in (*xs, *batched)] + state):
                vals[s] = a
            tapes[t] = gen.forward(vals, laid, bufs, rows, t, plan.backward, xp)
            new = [vals[s] for s in p.outputs]
            if plan.mask is not None and t >= plan.full_steps:  # past its length: keep state
                new = [xp.where(plan.mask[t], n, h) for n, h in zip(new, state)]
            outputs[t] = new[0]
            new[0] = outputs[t]  # the next step reads (and saves) the buffer, not a copy
            state = new
        if plan.backward:
            ctx.plan, ctx.tapes, ctx.rows, ctx.gen, ctx.xp = plan, tapes, rows, gen, xp
            # shapes only: keeping the inputs themselves alive would hold e.g. all of xw
            ctx.like = [(a.shape, a.dtype) for a in arrays[:n_seq + n_state]]
        # copies: a final part may be an input, a view of the outputs or of a pooled array
        finals = [xp.array(h, copy=True) for h in state]
        return (outputs, *finals)

    @staticmethod
    def backward(ctx: Any, g_out: Any, *g_final: Any) -> tuple:
        if any(isinstance(g, Tensor) for g in (g_out, *g_final)):
            raise RuntimeError("the compiled recurrent path gives first derivatives only: "
                               "gradients of gradients (create_graph=True) need the graph "
                               "cells; build the layer with fused=False")
        plan, p, tapes, rows, xp = ctx.plan, ctx.plan.program, ctx.tapes, ctx.rows, ctx.xp
        xs, state0 = ctx.like[:len(p.seq_slots)], ctx.like[len(p.seq_slots):]
        steps = xs[0][0][0]
        d_state = [xp.zeros(*h) if g is None else g for h, g in zip(state0, g_final)]
        d_xs = [xp.zeros(*x) if p.needs_grad[s] else None for s, x in zip(p.seq_slots, xs)]
        inv_slots = p.invariant_slots
        d_inv: list[Any] = [None] * len(inv_slots)

        def add_inv(k: int, g: Any) -> None:  # the first is copied: the others add in place
            d_inv[k] = g.copy() if d_inv[k] is None else xp.add(d_inv[k], g, out=d_inv[k])
        order = range(steps) if plan.reverse else range(steps)[::-1]  # the reverse sweep
        rows.chunk = chunk = min(steps, max(1, _CHUNK_ROWS // max(1, math.prod(state0[0][0][:-1]))))
        for i, t in enumerate(order):
            if i % chunk == 0:  # a new chunk of steps, lo .. lo + n - 1
                n = min(chunk, steps - i)
                rows.lo = lo = min(order[i], order[i + n - 1])
            if g_out is not None:
                d_state[0] = d_state[0] + g_out[t]
            carried = None
            if plan.mask is not None and t >= plan.full_steps:  # the kept part skips the cell
                carried = [xp.where(plan.mask[t], 0, d) for d in d_state]
                d_state = [xp.where(plan.mask[t], d, 0) for d in d_state]
            grads = [None] * p.n_slots
            for s, d in zip(p.outputs, d_state):
                grads[s] = d if grads[s] is None else grads[s] + d
            ctx.gen.backward(grads, tapes[t], rows, t, xp)
            for node in p.batched:
                rows.keep_grad(node, t, grads[node.outs[0]])
            for k, s in enumerate(p.seq_slots):
                if d_xs[k] is not None and grads[s] is not None:
                    d_xs[k][t] = grads[s]
            for k, s in enumerate(inv_slots):
                if grads[s] is not None:
                    add_inv(k, grads[s])
            d_state = [xp.zeros(*h) if grads[s] is None else grads[s]
                       for s, h in zip(p.state_slots, state0)]
            if carried is not None:
                d_state = [d + c for d, c in zip(d_state, carried)]
            if i % chunk == n - 1:  # the chunk's last step: its products
                for s, g in rows.flush(lo, lo + n, xp):
                    if s in p.seq_slots:  # a batched product's input: x's rows of those steps
                        k = p.seq_slots.index(s)
                        if d_xs[k] is not None:
                            d_xs[k][lo:lo + n] += g.reshape(d_xs[k][lo:lo + n].shape)
                        continue
                    add_inv(inv_slots.index(s), g)
        d_state = [d if p.needs_grad[s] else None for d, s in zip(d_state, p.state_slots)]
        return (None, *d_xs, *d_state, *d_inv)


# Steps per chunk of the streamed products: as many as make this many rows (B per step).
_CHUNK_ROWS = 512


class _Streams:
    """Row-wise products whose other operands are loop-invariant: a step's ``h W_hh^T`` (a
    *row* node) and the batched ``x_t W_ih^T``. Backward keeps each step's output gradient
    in a buffer for a CHUNK of consecutive steps (``_CHUNK_ROWS`` rows), then ONE call of the
    op's own backward on the chunk's rows gives the invariant operands' gradients for all of them
    (dW = sum_t g_t^T x_t as one product) and, for a batched product, its input's rows. A
    chunk, not the whole sequence: the gradients of all T steps are never held at once."""

    def __init__(self, p: Program, steps: int) -> None:
        self.steps, self.chunk, self.lo = steps, steps, 0  # backward sets the chunk
        # id(node) -> [node, operand 0 (per step, or a tuple of all rows), a step's ctx,
        # the chunk's output gradients, the other operands, the chunk's rows written]
        self.nodes: dict[int, list] = {id(n): [n, [None] * steps, None, None, None, set()]
                                       for n in p.nodes if n.row}

    def keep_input(self, node: Node, t: int, ctx: Any, xs: list) -> None:
        entry = self.nodes[id(node)]  # a reference: x is alive anyway (a step's saved value)
        entry[1][t], entry[2], entry[4] = xs[0], ctx, xs[1:]

    def keep_grad(self, node: Node, t: int, g: Any) -> None:
        entry = self.nodes.get(id(node))
        if entry is not None and g is not None:
            if entry[3] is None:
                entry[3] = backend.get_array_module(g).zeros((self.chunk,) + g.shape, g.dtype)
            entry[3][t - self.lo] = g
            entry[5].add(t - self.lo)

    def flush(self, lo: int, hi: int, xp: Any) -> list[tuple[int, Any]]:
        """(slot, gradient) from steps lo..hi-1: the invariant operands', and a batched
        product's input rows."""
        out = []
        for entry in self.nodes.values():
            node, x, step_ctx, buf, others, came = entry
            if not came:
                continue
            for j in set(range(hi - lo)) - came:  # a step that got no gradient adds 0
                buf[j] = 0
            g_rows = buf[:hi - lo]
            came.clear()
            row = type(x) is list  # a row node: operand 0 of each step; else all steps' rows
            per = 0 if row else x[0].shape[0] // self.steps
            xs = [xp.stack(x[lo:hi]) if row else x[0][lo * per:hi * per]] + others
            ctx = _new(node.cls)
            ctx.__dict__.update(step_ctx.__dict__)  # what forward set (e.g. Linear's has_b)
            ctx._edges = (None if row else node.edges[0],) + node.edges[1:]
            xs[0] = xs[0].reshape((-1,) + xs[0].shape[2 if row else 1:])
            save(ctx, node.cls, xs, None)
            res = node.cls.backward(ctx, g_rows.reshape((-1,) + g_rows.shape[2:]))
            if not row and res[0] is not None:
                out.append((node.args[0][1], res[0]))
            for (is_slot, a), flows, g in zip(node.args[1:], node.edges[1:], res[1:]):
                if is_slot and flows and g is not None:
                    out.append((a, g))
        return out


def _transposed_copy(w: Any) -> Any:
    """``np.asfortranarray(w)`` of a 2-D array, copied 64 rows at a time: a plain transposing
    copy misses the cache on every element (16 MiB: 26 ms, here 5.4 ms)."""
    out = np.empty(w.shape[::-1], w.dtype)
    for i in range(0, w.shape[0], 64):
        out[:, i:i + 64] = w[i:i + 64].T
    return out.T


# The layout in which each row-wise product's forward hands ``matmul`` its right operand
# C-contiguous (Linear's rule multiplies by w.T): OpenBLAS's kernel for a contiguous right
# operand is 1.1-1.5x faster at a few dozen rows (a step's batch).
_LAYOUT = {Linear: _transposed_copy, MatMul: np.ascontiguousarray}


def _laid_out(p: Program, vals: list, xp: Any) -> dict[int, Any]:
    """NumPy: the loop-invariant matrices of the step's row-wise products, copied once per
    sequence in the layout of ``_LAYOUT`` (the same values; backward reads the originals).
    Returns {node index: copy of its operand 1} (on a GPU, the operand itself)."""
    if p.layout is None:
        p.layout = {k: _LAYOUT[n.cls] for k, n in enumerate(p.nodes) if n.cls in _LAYOUT
                    and n.args[1][0] and n.args[1][1] in p.invariant_slots
                    and len(p.meta[n.args[1][1]][0] or ()) == 2}
    return {k: lay(vals[p.nodes[k].args[1][1]]) if xp is np else vals[p.nodes[k].args[1][1]]
            for k, lay in p.layout.items()}


def _all_rows(node: Node, x: Any, vals: list, backward: bool, rows: _Streams) -> Any:
    """Run a batched node once on all steps' rows of ``x`` (T, B, ..., in); its output as
    (T, B, ..., N). Backward gets its gradient in chunks of steps (:class:`_Streams`)."""
    args = [x.reshape((-1, x.shape[-1]))] + [vals[a] if is_slot else a
                                             for is_slot, a in node.args[1:]]
    ctx = _new(node.cls)
    ctx._edges = node.edges
    y = node.cls.forward(ctx, *args)
    if backward and node.grad:
        rows.nodes[id(node)] = [node, (args[0],), ctx, None, args[1:], set()]  # all rows
    return y.reshape(x.shape[:-1] + y.shape[-1:])

