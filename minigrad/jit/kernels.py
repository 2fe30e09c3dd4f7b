"""Each elementwise region of a traced step becomes ONE generated kernel, forward and back.

A *region* is a maximal run of consecutive elementwise nodes of the program (Add, Mul,
Sigmoid, Tanh, Where, ...) whose outputs and array operands all have one shape. Replaying it op
by op costs, per op, a Python call and a fresh array (on CuPy, a kernel launch that writes
every intermediate to memory); here the whole region is one kernel.

The kernel's code is not written per op either: it is obtained by running the ops' OWN
forward and backward rules on :class:`Sym` values. A ``Sym`` stands for an array inside the
kernel; NumPy's ufunc protocol hands every ufunc call on it (``np.tanh(x)``, ``x * y``,
``np.reciprocal(e, out=e)``) to :meth:`Sym.__array_ufunc__`, which appends one statement to a
straight-line program instead of computing. So ``Sigmoid.forward`` yields
``v1 = -in0; v2 = exp(v1); v3 = v2 + 1; v4 = 1 / v3`` and ``Sigmoid.backward`` yields
``g * y * (1 - y)`` in terms of those variables. The forward kernel also returns the values
the backward statements read (y here), kept per step, so the backward recomputes nothing.

The program is then emitted either as the body of a ``cupy.ElementwiseKernel`` (real GPU;
compiled once per region) or as a Python function of ufunc calls that reuses a temporary's
memory once it is dead (NumPy, and the fake CUDA device in CI, which has no compiler): the
same regions, the same program.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from minigrad.jit.trace import Node, Program, save
from minigrad.ops import elementwise as ew

# Ops a region may contain: elementwise, and their rules use only ufuncs, operators and where.
ELEMENTWISE = (ew.Add, ew.Sub, ew.Mul, ew.Div, ew.Neg, ew.Exp, ew.Log, ew.Sqrt, ew.Abs,
               ew.Tanh, ew.Sigmoid, ew.Relu, ew.Where, ew.Clone)

# statement vocabulary: NumPy ufunc name -> C expression
_C = {"positive": "{0}", "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} * {1}",
      "divide": "{0} / {1}", "negative": "-{0}", "exp": "exp({0})", "log": "log({0})",
      "sqrt": "sqrt({0})", "tanh": "tanh({0})", "absolute": "fabs({0})",
      "reciprocal": "1 / {0}", "maximum": "({0} > {1} ? {0} : {1})",
      "minimum": "({0} < {1} ? {0} : {1})", "sign": "(({0} > 0) - ({0} < 0))",
      "greater": "{0} > {1}", "greater_equal": "{0} >= {1}", "less": "{0} < {1}",
      "less_equal": "{0} <= {1}", "equal": "{0} == {1}", "not_equal": "{0} != {1}",
      "logical_and": "{0} && {1}", "bitwise_and": "{0} && {1}", "where": "{0} ? {1} : {2}"}
_BOOL = {"greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "logical_and",
         "bitwise_and"}
_CTYPE = {"float32": "float", "float64": "double", "float16": "half", "bool": "bool"}


class Unfusable(AttributeError):
    """An op's rule did something a generated kernel cannot (a reduction, a reshape...)."""


class Sym:
    """An array inside a kernel: ufuncs and operators on it add statements to ``prog``."""

    __array_priority__ = 1000

    def __init__(self, prog: SymProgram, name: str, shape: tuple, dtype: Any) -> None:
        self.prog, self.name, self.shape, self.dtype = prog, name, shape, np.dtype(dtype)
        self.ndim = len(shape)

    def __array_ufunc__(self, ufunc: Any, method: str, *args: Any, out: Any = None,
                        **kw: Any) -> Sym:
        name = {"true_divide": "divide"}.get(ufunc.__name__, ufunc.__name__)
        if method != "__call__" or name not in _C or kw:
            raise Unfusable(f"{ufunc.__name__}.{method}")
        return self.prog.emit(name, args)

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Sym:
        if func is not np.where or kwargs:
            raise Unfusable(func.__name__)
        return self.prog.emit("where", args)

    def _bin(name: str, reflected: bool = False) -> Any:  # noqa: N805 (also unary: -x, abs)
        def op(self: Sym, *other: Any) -> Sym:
            return self.prog.emit(name, (*other, self) if reflected else (self, *other))
        return op

    __add__, __iadd__, __radd__ = _bin("add"), _bin("add"), _bin("add", True)
    __sub__, __isub__, __rsub__ = _bin("subtract"), _bin("subtract"), _bin("subtract", True)
    __mul__, __imul__, __rmul__ = _bin("multiply"), _bin("multiply"), _bin("multiply", True)
    __truediv__, __itruediv__, __rtruediv__ = _bin("divide"), _bin("divide"), _bin("divide", True)
    __gt__, __ge__ = _bin("greater"), _bin("greater_equal")
    __lt__, __le__ = _bin("less"), _bin("less_equal")
    __and__ = _bin("logical_and")
    __eq__ = _bin("equal")  # type: ignore[assignment]
    __ne__ = _bin("not_equal")  # type: ignore[assignment]
    __hash__ = object.__hash__

    __neg__, __abs__ = _bin("negative"), _bin("absolute")

    def copy(self) -> Sym:
        return self

    def __getattr__(self, name: str) -> Any:  # .sum, .reshape, .astype, ...: not elementwise
        raise Unfusable(name)


class SymProgram:
    """A straight-line program: statements ``(var, ufunc name, args)``; args are variables
    (Sym) or Python numbers."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.statements: list[tuple[Sym, str, tuple]] = []
        self.count = itertools.count()

    def emit(self, name: str, args: tuple) -> Sym:
        for a in args:
            if not isinstance(a, (Sym, int, float, bool)):
                raise Unfusable(f"{name} of a {type(a).__name__}")
        shape = next(a.shape for a in args if isinstance(a, Sym))
        dtype = bool if name in _BOOL else _result_type(args)
        out = Sym(self, f"v{next(self.count)}", shape, dtype)
        self.statements.append((out, name, args))
        return out

    def needed(self, outputs: list[Sym], given: list[Sym]) -> list[tuple[Sym, str, tuple]]:
        """The statements the ``outputs`` depend on, in order, up to the ``given`` values
        (dead ones dropped)."""
        live, known = {id(o) for o in outputs}, {id(s) for s in given}
        kept = []
        for st in reversed(self.statements):
            if id(st[0]) in live and id(st[0]) not in known:
                kept.append(st)
                live.update(id(a) for a in st[2] if isinstance(a, Sym))
        return kept[::-1]


class Kernel:
    """One generated program: named inputs -> outputs, runnable on CuPy or by ufuncs."""

    def __init__(self, name: str, inputs: list[Sym], outputs: list[Sym],
                 prog: SymProgram) -> None:
        self.name, self.inputs, self.outputs, self.dtype = name, inputs, outputs, prog.dtype
        self.statements = prog.needed(outputs, inputs)
        self._compiled: Any = None
        self.python = self._python()

    def source(self) -> tuple[str, str, str]:
        """(in_params, out_params, operation) of the ``cupy.ElementwiseKernel``."""
        def c_args(args: tuple) -> list[str]:  # numbers in the type NumPy computes them in
            ct = _CTYPE[_result_type(args).name]
            return [a.name if isinstance(a, Sym) else f"(({ct}){float(a)!r})" for a in args]

        ins = ", ".join(f"{_CTYPE[s.dtype.name]} {s.name}" for s in self.inputs)
        outs = ", ".join(f"{_CTYPE[s.dtype.name]} out{k}" for k, s in enumerate(self.outputs))
        body = [f"{_CTYPE[v.dtype.name]} {v.name} = {_C[fn].format(*c_args(args))};"
                for v, fn, args in self.statements]
        body += [f"out{k} = {s.name};" for k, s in enumerate(self.outputs)]
        return ins, outs, "\n".join(body)

    def __call__(self, xp: Any, *arrays: Any) -> tuple:
        """``arrays``: the inputs, then optionally an array to write each output into."""
        if xp is not np and hasattr(xp, "ElementwiseKernel"):  # real CuPy: one kernel launch
            if self._compiled is None:
                self._compiled = xp.ElementwiseKernel(*self.source(), name=self.name)
            out = self._compiled(*arrays)
            return out if isinstance(out, tuple) else (out,)
        return self.python(xp, *arrays)  # the same program, ufunc by ufunc

    def _python(self) -> Any:
        """The program as a Python function of ufunc calls (NumPy, or CuPy without a
        compiler). A statement that makes output k writes into ``o{k}`` if one was given;
        another reuses the memory of a value nothing reads any more (``out=``)."""
        last = {id(a): k for k, (_, _, args) in enumerate(self.statements) for a in args}
        kept = {id(s) for s in self.inputs + self.outputs}
        first = {id(s): k for k, s in reversed(list(enumerate(self.outputs)))}
        env: dict[str, Any] = {"inf": np.inf, "nan": np.nan, "np": np}  # for constants' repr
        lines = [f"def {self.name}(xp, {''.join(s.name + ', ' for s in self.inputs)}"
                 f"{''.join(f'o{k}=None, ' for k in range(len(self.outputs)))}):"]
        for k, (v, fn, args) in enumerate(self.statements):
            names = [a.name if isinstance(a, Sym) else repr(a) for a in args]
            free = [a.name for a in args if isinstance(a, Sym) and id(a) not in kept
                    and last[id(a)] == k and a.dtype == v.dtype and fn != "where"]
            if id(v) in first and fn != "where":  # (a where's or an input's: returned as is)
                free = [f"o{first[id(v)]}"]
            out = f", out={free[0]}" if free else ""
            lines.append(f"    {v.name} = xp.{fn}({', '.join(names)}{out})")
        lines.append(f"    return ({''.join(s.name + ', ' for s in self.outputs)})")
        self.source_python = "\n".join(lines)
        exec(compile(self.source_python, f"<minigrad.jit kernel {self.name}>", "exec"), env)  # noqa: S102
        return env[self.name]


class Region:
    """Consecutive elementwise nodes as one forward kernel and one backward kernel, made by
    running the nodes' own rules on symbols.

    ``forward(xp, *inputs)`` returns the region's ``outputs``, then the values it computed
    that backward reads; ``backward(xp, *saved values, *outputs' gradients)`` returns the
    gradients of the ``targets`` (input slots). ``tape`` says where each value backward reads
    is among the forward kernel's inputs and outputs. Raises :class:`Unfusable`.
    """

    def __init__(self, p: Program, nodes: list[Node], outputs: list[int]) -> None:
        made = {s for n in nodes for s in n.outs}
        self.nodes, self.outputs = nodes, outputs
        self.inputs = list(dict.fromkeys(a for n in nodes for is_slot, a in n.args
                                         if is_slot and a not in made))
        self.grad = any(n.grad for n in nodes)
        prog = SymProgram(p.meta[outputs[0]][1])
        ins = [Sym(prog, f"in{k}", *p.meta[s]) for k, s in enumerate(self.inputs)]
        env: dict[int, Any] = dict(zip(self.inputs, ins))
        tape = []
        for node in nodes:
            xs = [env[a] if is_slot else a for is_slot, a in node.args]
            ctx = object.__new__(node.cls)
            ctx._edges = node.edges
            y = node.cls.forward(ctx, *xs)
            save(ctx, node.cls, xs, y)
            env.update(zip(node.outs, y if isinstance(y, tuple) else (y,)))
            tape.append((node, ctx))
        forward = [v for v, _, _ in prog.statements] + ins
        gs = [Sym(prog, f"g{k}", *p.meta[s]) for k, s in enumerate(outputs)]
        grads: dict[int, Any] = dict(zip(outputs, gs))
        for node, ctx in reversed(tape):
            if not node.grad or all(grads.get(s) is None for s in node.outs):
                continue
            res = node.cls.backward(ctx, *(grads.get(s) for s in node.outs))
            for (is_slot, a), flows, g in zip(node.args, node.edges,
                                              res if isinstance(res, tuple) else (res,)):
                if is_slot and flows and g is not None:
                    grads[a] = g if a not in grads else grads[a] + g
        self.targets = [s for s in self.inputs if p.needs_grad[s] and s in grads]
        results = [grads[s] for s in self.targets]
        read = [a for _, _, args in prog.needed(results, forward + gs)
                for a in args] + results  # what backward reads of the forward's values
        saved = [v for v in dict.fromkeys(read) if any(v is f for f in forward)]
        # an input an op made in the step (a slice of h W^T) is saved as a copy in the
        # region's memory: a view would keep that op's whole new array alive until backward
        op_made = {s for n in p.nodes if _fusable(p, n) is None for s in n.outs}
        copies = {id(v): prog.emit("positive", (v,)) for v, s in zip(ins, self.inputs)
                  if s in op_made and v.dtype == prog.dtype and any(v is w for w in saved)}
        outs = [env[s] for s in outputs]
        outs += [v for v in saved if not any(v is o for o in ins + outs)] + [*copies.values()]
        self.forward = Kernel(f"mg_fwd_{id(self)}", ins, outs, prog)
        position = {id(v): i for i, v in enumerate(ins + outs)}
        position.update({k: position[id(c)] for k, c in copies.items()})
        self.tape = [position[id(v)] for v in saved]  # in the forward kernel's ins + outs
        self.backward = Kernel(f"mg_bwd_{id(self)}", saved + gs, results, prog)


def _result_type(args: tuple) -> np.dtype:
    """The dtype NumPy computes a ufunc of ``args`` in (a Python number adapts to the arrays)."""
    return np.result_type(*(a.dtype if isinstance(a, Sym) else a for a in args))


def regions(p: Program) -> list[Node | Region]:
    """The program's nodes with each maximal elementwise run grouped as a :class:`Region`
    (kept on the program: built once)."""
    if p.items is None:
        runs = [list(r) for _, r in itertools.groupby(p.nodes, lambda n: _fusable(p, n))]
        p.items = []
        for k, run in enumerate(runs):
            if len(run) > 1 and _fusable(p, run[0]) is not None:
                later = {a for r in runs[k + 1:] for n in r for is_slot, a in n.args
                         if is_slot} | set(p.outputs)  # what later nodes or the step read
                try:
                    p.items.append(Region(p, run, [s for n in run for s in n.outs if s in later]))
                    continue
                except Unfusable:  # a rule a kernel cannot express: replay the ops one by one
                    pass
            p.items.extend(run)
    return p.items


def _fusable(p: Program, node: Node) -> tuple | None:
    """The shape of ``node``'s output if it can be in a region (elementwise, every operand of
    that shape), else None. A region's nodes share it: a kernel writes one shape."""
    shape = p.meta[node.outs[0]][0]
    fits = node.cls in ELEMENTWISE and all(p.meta[a][0] == shape for var, a in node.args if var)
    return shape if fits else None
