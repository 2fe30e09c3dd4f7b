"""Code generation: a traced step becomes ONE straight-line Python function forward and one
backward, compiled once per program.

Replaying a :class:`~minigrad.jit.trace.Program` op by op pays, for every op at every step, for
a loop over the nodes, for building each call's argument list and for looking up what to
save. All of that is known once the step is traced, so it is written out once as Python source:
one line per op call, a local variable per slot, the constants and op classes bound by name.
The calls are still the ops' own ``forward`` and ``backward`` rules, and for each elementwise
region its generated kernels (:mod:`minigrad.jit.kernels`: ``R3``/``B3`` below, the LSTM's
gates to h_t); nothing is written per op or per cell.
:func:`show` prints the source, e.g. for an LSTM step::

    def forward_step(v, L, D, rows, t, backward, xp):
        s0 = v[0]; s1 = v[1]; s2 = v[2]; s3 = v[3]; s4 = v[4]   # xw_t, h, c, W_hh, b_hh
        c0 = new(Linear_0); c0._edges = E0
        s20 = Linear_0.forward(c0, s1, L[0], s4)                # h W_hh^T + b_hh
        c1 = new(Add_1); c1._edges = E1
        s21 = Add_1.forward(c1, s0, s20)
        c2 = new(Split_2); c2._edges = E2
        s22, s23, s24, s25 = Split_2.forward(c2, s21, K2_1, K2_2)
        s31, s34, e3_0, e3_1, e3_2, e3_3, e3_4, = R3(xp, s23, s2, s22, s24, s25, *D[3][t])
        ...

Slots are numbered as in the program; ``v`` holds the step's inputs and receives its outputs;
``L[k]`` is node k's weight in the layout BLAS prefers (:mod:`minigrad.jit.scan`); region k
writes its values into the arrays ``D[k][t]`` (:meth:`Step.buffers`).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

from minigrad.jit import kernels
from minigrad.jit.trace import Node, Program


class Step:
    """The generated forward and backward of one step of a program (the same for every device).

    ``forward(v, L, D, rows, t, backward, xp)`` runs the step on the slot list ``v`` and returns
    its tape (what backward reads) when ``backward``; ``backward(g, tape, rows, t, xp)`` adds
    each value's gradient into the slot list ``g``, in reverse order.
    """

    def __init__(self, p: Program) -> None:
        items = kernels.regions(p)
        self.regions = {k: r for k, r in enumerate(items) if isinstance(r, kernels.Region)}
        self.pool: dict[int, Any] = {}  # region -> an array no call is using
        env: dict[str, Any] = {"new": object.__new__}
        fwd, bwd, saves, taped = [], [], [], []
        made = {s for n in p.nodes for s in n.outs}  # (the items hold exactly p's nodes)
        reads = sorted({a for n in p.nodes for is_slot, a in n.args if is_slot} - made
                       | set(p.outputs) - made)
        fwd.append("    " + "; ".join(f"s{a} = v[{a}]" for a in reads))
        for k, item in enumerate(items):
            if isinstance(item, kernels.Region):
                env[f"R{k}"], env[f"B{k}"] = item.forward, item.backward
                n = len(item.inputs)
                names = [f"s{s}" for s in item.inputs + item.outputs] + [
                    f"e{k}_{j}" for j in range(len(item.forward.outputs) - len(item.outputs))]
                fwd.append(f"    {', '.join(names[n:])}, = "
                           f"R{k}(xp, {', '.join(names[:n])}, *D[{k}][t])")
                if not item.grad:
                    continue
                taped.append(f"x{k}")
                saves.append(f"        x{k} = ({''.join(names[i] + ', ' for i in item.tape)})")
                env.update({f"M{s}": p.meta[s] for s in item.outputs})
                zs = ", ".join(f"xp.zeros(*M{s}) if g[{s}] is None else g[{s}]"
                               for s in item.outputs)
                bwd.insert(0, "\n".join([
                    f"    if {' or '.join(f'g[{s}] is not None' for s in item.outputs)}:",
                    f"        r = B{k}(xp, *x{k}, {zs})"] + [
                    _accumulate(s, f"r[{i}]", "        ") for i, s in enumerate(item.targets)]))
                continue
            node, name = item, f"{item.cls.__name__}_{k}"
            env[name], env[f"N{k}"], env[f"E{k}"] = node.cls, node, node.step_edges
            env.update({f"K{k}_{i}": a for i, (is_slot, a) in enumerate(node.args)
                        if not is_slot})  # constants: bound by name
            plain = [f"s{a}" if is_slot else f"K{k}_{i}" for i, (is_slot, a) in
                     enumerate(node.args)]
            j = p.nodes.index(node)  # the weight laid out for BLAS
            args = [f"L[{j}]" if i == 1 and j in (p.layout or {}) else a
                    for i, a in enumerate(plain)]
            fwd.append(f"    c{k} = new({name}); c{k}._edges = E{k}")
            outs = ", ".join(f"s{s}" for s in node.outs)
            fwd.append(f"    {outs} = {name}.forward(c{k}, {', '.join(args)})")
            if not node.grad:
                continue
            taped.append(f"c{k}")
            kept = [plain[i] for i in node.cls.save_inputs] + (
                [f"s{s}" for s in node.outs] if node.cls.save_output else [])
            saves.append(f"        c{k}._saved = [{', '.join(kept)}]")
            if node.row:
                saves.append(f"        rows.keep_input(N{k}, t, c{k}, [{', '.join(plain)}])")
            bwd.insert(0, _backward_call(k, name, node))
        fwd += [f"    v[{s}] = s{s}" for s in p.outputs]
        fwd += ["    if backward:"] + saves + [f"        return [{', '.join(taped)}]",
                                                 "    return None"]
        self.source = "\n".join(
            ["def forward_step(v, L, D, rows, t, backward, xp):"] + fwd + [
             "", "", "def backward_step(g, tape, rows, t, xp):",
             f"    {''.join(x + ', ' for x in taped)}= tape" if taped else "    pass"] + bwd)
        # our own generated source, printable with show()
        exec(compile(self.source, f"<minigrad.jit step {p.name}>", "exec"), env)  # noqa: S102
        self.forward: Callable = env["forward_step"]
        self.backward: Callable = env["backward_step"]

    def buffers(self, steps: int, deep: int, xp: Any, given: dict[int, Any],
                user: Any) -> dict[int, list]:
        """``D[k][t]``: where region k's forward writes at step t, an array per value it makes.
        A slot in ``given`` is written into ``given[slot][t]`` (the step's output: into the
        sequence's outputs); the other values into one array ``deep`` steps deep, reused after
        that. The array goes back to ``pool`` once ``user`` is gone (the call's record for
        backward, freed after it), for the next call: memory the process has already touched.
        A new small array per value and step is touched page by page after glibc has handed
        the heap's top back to the system (page faults)."""
        bufs = {}
        for k, r in self.regions.items():
            outs, dtype = r.forward.outputs, r.forward.dtype
            slots = r.outputs + [None] * (len(outs) - len(r.outputs))  # then values it keeps
            shape = (len(outs) - len(given.keys() & set(slots)), deep) + outs[0].shape
            block = self.pool.pop(k, None)  # no other call can take it while this one runs
            if block is None or block.shape != shape:
                block = xp.empty(shape, dtype)
            weakref.finalize(user, self.pool.__setitem__, k, block)
            parts = iter(block)  # one part per value of the region's dtype
            arrays = [given[s] if s in given else next(parts) if v.dtype == dtype else
                      xp.empty((deep,) + v.shape, v.dtype) for s, v in zip(slots, outs)]
            bufs[k] = [tuple(a[t % len(a)] for a in arrays) for t in range(steps)]
        return bufs


def step(p: Program) -> Step:
    """The generated step of ``p`` (made once, kept on ``p``)."""
    if p.generated is None:
        p.generated = Step(p)
    return p.generated


def show(p: Program) -> str:
    """The Python source generated for one step of ``p`` and for its elementwise regions'
    kernels: what a student can read to see what the compiler did."""
    regions = step(p).regions.values()
    return "\n\n\n".join([step(p).source] + [k.source_python for r in regions
                                              for k in (r.forward, r.backward)])


def _backward_call(k: int, name: str, node: Node) -> str:
    outs = ", ".join(f"g[{s}]" for s in node.outs)
    lines = [f"    if {' or '.join(f'g[{s}] is not None' for s in node.outs)}:"]
    if node.row:
        lines.append(f"        rows.keep_grad(N{k}, t, g[{node.outs[0]}])")
    lines.append(f"        r = {name}.backward(c{k}, {outs})")
    lines.append("        r = r if type(r) is tuple else (r,)")
    for i, ((is_slot, a), flows) in enumerate(zip(node.args, node.step_edges)):
        if is_slot and flows:
            lines.append(_accumulate(a, f"r[{i}]", "        "))
    return "\n".join(lines)


def _accumulate(slot: int, value: str, indent: str) -> str:
    """Add a gradient to a slot's (a value read twice gets the sum)."""
    return (f"{indent}if {value} is not None:\n{indent}    "
            f"g[{slot}] = {value} if g[{slot}] is None else g[{slot}] + {value}")
