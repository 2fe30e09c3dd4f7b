"""The case table for 0-d and empty tensors, and NaN / all-ignored edge cases.

Each case is ONE expression ``fn(m, *tensors)``, evaluated with ``m = torch`` by
``generate_edge.py`` and replayed with ``m = minigrad`` by ``tests/test_empty_and_scalar.py``
and ``tests/test_bad_input.py``. The grid is systematic (it replaces random shape draws):
every unary op on every shape of ``SHAPES``; every binary op on every pair of
``BINARY_SHAPES`` that broadcasts (see ``broadcasting_pairs``); ``a @ b`` for
``(n, k) @ (k, m)`` with n, k, m in {0, 1, 3}; softmax / log_softmax and linear with empty
dimensions; the losses when every target is ignored; max/min backward with NaN.
Imports neither torch nor minigrad.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

SHAPES: list[tuple[int, ...]] = [(), (0,), (1,), (3,), (0, 3), (3, 0), (2, 3), (1, 0, 2),
                                 (2, 1, 3)]
BINARY_SHAPES: list[tuple[int, ...]] = [*SHAPES, (1, 0)]

UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda t: -t,
    "exp": lambda t: t.exp(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
    "abs": lambda t: t.abs(),
    "square": lambda t: t * t,
    "pow3": lambda t: t ** 3,
    "sum": lambda t: t.sum(),
    "mean": lambda t: t.mean(),  # of nothing: NaN in both
    "sum_last": lambda t: t.sum(-1) if t.ndim else t.sum(),
    "mean_first": lambda t: t.mean(0) if t.ndim else t.mean(),
    "flatten": lambda t: t.reshape(-1),
    "transpose": lambda t: t.transpose(0, -1) if t.ndim else t,
    "unsqueeze": lambda t: t.unsqueeze(0),
    "clone": lambda t: t.clone(),
    "clamp": lambda t: t.clamp(-0.5, 0.5),
    "sqrt": lambda t: (t * t + 1).sqrt(),
    "log": lambda t: (t * t + 1).log(),
    "slice": lambda t: t[..., :1] if t.ndim else t,
    "var": lambda t: t.var() if t.numel() > 1 else t.sum(),
    "max": lambda t: t.max() if t.numel() else t.sum(),  # an empty max raises in both
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
}
IGNORED = np.array([-100, -100, -100])  # every target is ignore_index: the loss is 0 / 0
NAN_ROWS = np.array([[1.0, np.nan, 3.0, np.nan], [2.0, 5.0, 5.0, 0.0]])


@dataclass(frozen=True)
class Case:
    """One edge case: ``fn(m, *inputs)``; float inputs require grad, integer ones do not.

    ``upstream`` is the gradient given to backward: ``"normal"`` (seeded random) or
    ``"ones"`` (``loss.backward()`` on a scalar).
    """

    name: str
    fn: Callable[..., Any]
    inputs: tuple[np.ndarray, ...]
    group: str
    upstream: str = "normal"


def rng(name: str) -> np.random.Generator:
    """A generator seeded by the case name: adding cases never changes the others."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def normal(name: str, *shapes: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    g = rng(name)
    return tuple(g.standard_normal(s) for s in shapes)


def shape_id(shape: tuple[int, ...]) -> str:
    return "(" + ",".join(map(str, shape)) + ")"


def broadcasting_pairs() -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every ordered pair ``(a, b)`` of BINARY_SHAPES that broadcasts (NumPy's rule, PyTorch's
    too) where ``b`` has no more dimensions than ``a``, as the property test drew them (the
    second operand a suffix of the first's shape, some dimensions set to 1)."""
    pairs = []
    for a, b in itertools.product(BINARY_SHAPES, BINARY_SHAPES):
        if len(b) > len(a):
            continue
        try:
            np.broadcast_shapes(a, b)
        except ValueError:
            continue
        pairs.append((a, b))
    return pairs


def _unary(op: str) -> Callable[..., Any]:
    return lambda m, x: UNARY[op](x)


def _binary(op: str) -> Callable[..., Any]:
    return lambda m, a, b: BINARY[op](a, b)


def _softmax(fn: str) -> Callable[..., Any]:
    return lambda m, x: getattr(m.nn.functional, fn)(x, dim=-1)


def _loss(fn: str) -> Callable[..., Any]:
    if fn == "smoothed":
        return lambda m, x, t: m.nn.functional.cross_entropy(x, t, label_smoothing=0.1)
    return lambda m, x, t: getattr(m.nn.functional, fn)(x, t)


NAN_REDUCE: dict[str, Callable[..., Any]] = {
    "max": lambda m, x: x.max(),
    "min": lambda m, x: x.min(),
    "max_dim": lambda m, x: x.max(1)[0].sum(),
    "amax": lambda m, x: x[1].amax(),  # no NaN in this row: the tie is split evenly
}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for op in UNARY:
        for s in SHAPES:
            name = f"{op} {shape_id(s)}"
            cases.append(Case(name, _unary(op), normal(name, s), "unary"))
    for op in BINARY:
        for a, b in broadcasting_pairs():
            name = f"{op} {shape_id(a)} {shape_id(b)}"
            cases.append(Case(name, _binary(op), normal(name, a, b), "binary"))
    for n, k, m in itertools.product((0, 1, 3), repeat=3):
        name = f"matmul ({n},{k}) ({k},{m})"
        cases.append(Case(name, lambda m_, a, b: a @ b, normal(name, (n, k), (k, m)), "matmul"))
    for fn in ("softmax", "log_softmax"):
        for s in [(0, 3), (2, 0), (0,), (3, 0, 2)]:
            name = f"{fn} {shape_id(s)}"
            cases.append(Case(name, _softmax(fn), normal(name, s), "softmax"))
    for xs, ws in [((0, 3), (2, 3)), ((4, 0), (2, 0)), ((4, 3), (0, 3)), ((2, 0, 3), (5, 3)),
                   ((3,), (2, 3))]:
        name = f"linear {shape_id(xs)} {shape_id(ws)}"
        cases.append(Case(name, lambda m, x, w, b: m.nn.functional.linear(x, w, b),
                          normal(name, xs, ws, ws[:1]), "linear"))
    for fn in ("cross_entropy", "nll_loss", "smoothed"):
        name = f"all_ignored {fn}"
        x = rng(name).standard_normal((3, 4))
        cases.append(Case(name, _loss(fn), (x, IGNORED), "all_ignored", upstream="ones"))
    for reduce, fn in NAN_REDUCE.items():
        cases.append(Case(f"nan {reduce}", fn, (NAN_ROWS,), "nan", upstream="ones"))
    return cases


CASES: list[Case] = _cases()


def cases_in(group: str) -> list[Case]:
    return [c for c in CASES if c.group == group]
