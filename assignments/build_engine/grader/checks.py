"""The graded tests of the build-the-engine track, stage by stage, with their points.

Stages are graded separately: stage 3 calls each operation's own ``_backward`` (not the
student's ``backward``), and stage 2 runs ``backward`` on graphs whose local rules the grader
writes, so a gap in one stage costs only that stage's points. Values and gradients are compared
with minigrad's, recorded in ``references/*.npz`` (see ``make_references.py``).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import numpy as np

from minigrad.testing import Partial, assert_close, load_reference
from minigrad.testing.grading import Grader

SUBMISSION = "engine.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION
REFERENCES = Path(__file__).resolve().parent / "references"
GRADER = Grader("Build an autograd engine", timeout=60.0)


def _share(problems: list[str], total: int) -> Partial | None:
    return Partial(1 - len(problems) / total, "\n".join(problems)) if problems else None


def _check(problems: list[str], got: Any, want: np.ndarray, name: str) -> None:
    try:
        assert_close(np.asarray(got, dtype=np.float64), want, name=name)
    except (AssertionError, TypeError, ValueError) as e:
        problems.append(str(e))


# ----------------------------------------------------------------------------- stage 1


@GRADER.test("Stage 1: sum_to_shape undoes broadcasting (minigrad's gradients)", points=3)
def stage1_sum_to_shape(sub: ModuleType) -> Partial | None:
    # for out = a + b, minigrad's gradient of each input is sum_to_shape(grad_out, its shape)
    problems, total = [], 0
    for name in ("add_rows", "add_prepend", "add_outer"):
        ref = load_reference(REFERENCES / f"{name}.npz")
        (gout,) = ref.grad_outputs.values()
        for k, x in ref.inputs.items():
            total += 1
            _check(problems, sub.sum_to_shape(gout.copy(), x.shape), ref.grads[k],
                   f"sum_to_shape(grad of shape {gout.shape}, {x.shape})")
    return _share(problems, total)


# ----------------------------------------------------------------------------- stage 2


def _node(sub: ModuleType, prev: tuple[Any, ...], rule: Callable[[Any], None],
          calls: list[str] | None = None, name: str = "") -> Any:
    """A Tensor whose local backward is ``rule(out)``, written here rather than by the
    student (stage 2 is graded without the student's operations)."""
    out = sub.Tensor(np.ones(2), prev)

    def _backward() -> None:
        if calls is not None:
            calls.append(name)
        rule(out)

    out._backward = _backward
    return out


def _chain_graph(sub: ModuleType, calls: list[str] | None = None) -> tuple[Any, ...]:
    """x -> a = 2x -> b = 3a, and c = a + b: a's gradient is complete only after b's rule."""
    x = sub.Tensor(np.ones(2))

    def rule_a(a: Any) -> None:
        x.grad += 2 * a.grad

    a = _node(sub, (x,), rule_a, calls, "a")

    def rule_b(b: Any) -> None:
        a.grad += 3 * b.grad

    b = _node(sub, (a,), rule_b, calls, "b")

    def rule_c(c: Any) -> None:
        a.grad += c.grad
        b.grad += c.grad

    c = _node(sub, (a, b), rule_c, calls, "c")
    return x, a, b, c


@GRADER.test("Stage 2: backward runs the rules in reverse topological order", points=2)
def stage2_order(sub: ModuleType) -> None:
    x, a, b, c = _chain_graph(sub)
    c.backward(np.ones(2))
    assert_close(a.grad, np.full(2, 4.0), name="a.grad (1 from c, 3 through b)",
                 rtol=0, atol=1e-12)
    assert_close(x.grad, np.full(2, 8.0), name="x.grad (= 2 * a.grad)", rtol=0, atol=1e-12)


@GRADER.test("Stage 2: backward calls each node's _backward exactly once", points=1)
def stage2_once(sub: ModuleType) -> None:
    calls: list[str] = []
    *_, c = _chain_graph(sub, calls)
    c.backward(np.ones(2))
    assert sorted(calls) == ["a", "b", "c"], (
        f"the rules ran in the order {calls}; each of a, b, c must run once, c first, b "
        "before a (a node reached along two paths is still visited once)")


@GRADER.test("Stage 2: backward(grad) seeds the output's gradient", points=1)
def stage2_seed(sub: ModuleType) -> None:
    x, a, b, c = _chain_graph(sub)
    c.backward(np.array([2.0, -1.0]))
    assert_close(x.grad, np.array([16.0, -8.0]), name="x.grad after c.backward([2, -1])",
                 rtol=0, atol=1e-12)


@GRADER.test("Stage 2: backward through a 10,000-node chain (no recursion limit)", points=1)
def stage2_deep(sub: ModuleType) -> None:
    x = sub.Tensor(np.ones(2))
    node = x
    for _ in range(10_000):
        def rule(out: Any, parent: Any = node) -> None:
            parent.grad += out.grad

        node = _node(sub, (node,), rule)
    try:
        node.backward(np.ones(2))
    except RecursionError:
        raise AssertionError("RecursionError on a 10,000-step chain (an RNN over a long "
                             "sequence is such a chain): walk the graph with an explicit "
                             "stack instead of recursion") from None
    assert_close(x.grad, np.ones(2), name="x.grad at the bottom of the chain")


# ----------------------------------------------------------------------------- stage 3


def _replay_op(sub: ModuleType, name: str, op: Callable[..., Any]) -> Partial | None:
    """Run ``op`` on the student's Tensors, then only the result's ``_backward``."""
    ref = load_reference(REFERENCES / f"{name}.npz")
    inputs = {k: sub.Tensor(v.copy()) for k, v in ref.inputs.items()}
    out = op(*inputs.values())
    if not isinstance(out, sub.Tensor):
        raise AssertionError(f"expected a Tensor, got {type(out).__name__}")
    (want,), (gout,) = ref.outputs.values(), ref.grad_outputs.values()
    problems: list[str] = []
    _check(problems, out.data, want, "the result's value")
    out.grad = gout.copy()
    out._backward()
    for k, x in inputs.items():
        _check(problems, x.grad, ref.grads[k], f"gradient of input {k} (shape {x.shape})")
    return _share(problems, 1 + len(inputs))


@GRADER.test("Stage 3: a + b with broadcasting, (3, 4) + (4,) and (2, 1, 3) + (4, 3)",
             points=2)
def stage3_add(sub: ModuleType) -> Partial | None:
    results = [_replay_op(sub, n, lambda a, b: a + b) for n in ("add_rows", "add_prepend")]
    failed = [r for r in results if r is not None]
    if failed:
        return Partial(sum(r.fraction for r in failed) / 2 + (2 - len(failed)) / 2,
                       "\n".join(r.message for r in failed))
    return None


@GRADER.test("Stage 3: a * b with broadcasting, (2, 1, 3) * (4, 3)", points=2)
def stage3_mul(sub: ModuleType) -> Partial | None:
    return _replay_op(sub, "mul", lambda a, b: a * b)


@GRADER.test("Stage 3: a @ b, (3, 4) @ (4, 2)", points=2)
def stage3_matmul(sub: ModuleType) -> Partial | None:
    return _replay_op(sub, "matmul", lambda a, b: a @ b)


@GRADER.test("Stage 3: a.sum()", points=2)
def stage3_sum(sub: ModuleType) -> Partial | None:
    return _replay_op(sub, "sum", lambda a: a.sum())


@GRADER.test("Stage 3: a.tanh()", points=2)
def stage3_tanh(sub: ModuleType) -> Partial | None:
    return _replay_op(sub, "tanh", lambda a: a.tanh())


@GRADER.test("Stage 3: a.sigmoid()", points=2)
def stage3_sigmoid(sub: ModuleType) -> Partial | None:
    return _replay_op(sub, "sigmoid", lambda a: a.sigmoid())


# ----------------------------------------------------------------------------- stage 4


@GRADER.test("Stage 4: rnn_loss and its 6 parameter gradients match minigrad's", points=3)
def stage4_loss(sub: ModuleType) -> Partial | None:
    ref = load_reference(REFERENCES / "rnn_loss.npz")
    params = {k: sub.Tensor(v.copy()) for k, v in ref.inputs.items() if k not in ("xs", "ys")}
    loss = sub.rnn_loss(params, ref.inputs["xs"], ref.inputs["ys"])
    if not isinstance(loss, sub.Tensor):
        raise AssertionError(f"rnn_loss should return a Tensor, got {type(loss).__name__}")
    (want,), (gout,) = ref.outputs.values(), ref.grad_outputs.values()
    problems: list[str] = []
    _check(problems, loss.data, want, "the loss")
    loss.backward(gout)
    for k, p in params.items():
        _check(problems, p.grad, ref.grads[k], f"gradient of {k}")
    return _share(problems, 1 + len(params))


@GRADER.test("Stage 4: train_rnn on sunspots: the loss falls and follows minigrad's run",
             points=3)
def stage4_train(sub: ModuleType) -> Partial | None:
    ref = load_reference(REFERENCES / "train_rnn.npz")
    settings = {k: v.item() for k, v in ref.inputs.items()}
    (want,) = ref.outputs.values()
    losses = np.asarray(sub.train_rnn(**settings), dtype=np.float64)
    assert losses.shape == want.shape, (f"train_rnn returned {losses.shape[0]} losses for "
                                        f"{settings['steps']} steps")
    problems = []
    if not losses[-1] < 0.5 * losses[0]:
        problems.append(f"the loss did not fall enough: {losses[0]:.4f} -> {losses[-1]:.4f} "
                        f"(minigrad: {want[0]:.4f} -> {want[-1]:.4f})")
    _check(problems, losses, want, "the losses of the run against minigrad's")
    return _share(problems, 2)
