"""The graded tests of the Elman RNN / BPTT assignment, with their points.

Each function is checked twice: against the reference files recorded from the solution
(``references/*.npz``, see ``make_references.py``) and against minigrad's own ``nn.RNN`` and
its autograd on inputs of other sizes, so a submission cannot pass by matching one fixed case.
Gradient tests give a share of their points for each correct gradient.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np

import minigrad as mg
from minigrad.testing import Partial, assert_close
from minigrad.testing.grading import Grader, compare_entries, numpy_against_reference

SUBMISSION = "elman.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION
REFERENCES = Path(__file__).resolve().parent / "references"
GRADER = Grader("Elman RNN and BPTT by hand", timeout=60.0)
PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")


def _case(seed: int, T: int = 7, B: int = 2, IN: int = 3, H: int = 4) -> dict[str, np.ndarray]:
    """Fresh inputs of other sizes than the references (weights on PyTorch's scale)."""
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(H)
    return {"xs": rng.standard_normal((T, B, IN)), "h0": rng.uniform(-1, 1, (B, H)),
            "W_ih": rng.uniform(-k, k, (H, IN)), "W_hh": rng.uniform(-k, k, (H, H)),
            "b_ih": rng.uniform(-k, k, H), "b_hh": rng.uniform(-k, k, H)}


def _minigrad_rnn(case: dict[str, np.ndarray], dhs: np.ndarray) -> tuple[np.ndarray, dict]:
    """minigrad's nn.RNN on ``case``: its states, and autograd's gradients of sum(dhs * hs)."""
    T, B, IN = case["xs"].shape
    rnn = mg.nn.RNN(IN, case["h0"].shape[1], dtype=mg.float64)
    rnn.load_state_dict({"weight_ih_l0": case["W_ih"], "weight_hh_l0": case["W_hh"],
                         "bias_ih_l0": case["b_ih"], "bias_hh_l0": case["b_hh"]})
    xs = mg.tensor(case["xs"], requires_grad=True)
    h0 = mg.tensor(case["h0"][None], requires_grad=True)
    hs, _ = rnn(xs, h0)
    (hs * mg.tensor(dhs)).sum().backward()
    grads = {"xs": xs.grad, "h0": h0.grad[0], "W_ih": rnn.weight_ih_l0.grad,
             "W_hh": rnn.weight_hh_l0.grad, "b_ih": rnn.bias_ih_l0.grad,
             "b_hh": rnn.bias_hh_l0.grad}
    return hs.detach().numpy(), {k: g.numpy() for k, g in grads.items()}


# ----------------------------------------------------------------------------- part 1


@GRADER.test("Part 1: rnn_step matches the reference", points=2)
def step_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.rnn_step, REFERENCES / "rnn_step.npz")


# ----------------------------------------------------------------------------- part 2


@GRADER.test("Part 2: rnn_forward matches the reference", points=1)
def forward_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.rnn_forward, REFERENCES / "rnn_forward.npz")


@GRADER.test("Part 2: rnn_forward matches minigrad's nn.RNN (other sizes)", points=2)
def forward_minigrad(sub: ModuleType) -> None:
    case = _case(seed=1)
    want, _ = _minigrad_rnn(case, np.zeros((7, 2, 4)))
    got = sub.rnn_forward(**case)
    assert_close(np.asarray(got), want, name="rnn_forward(...) against nn.RNN's outputs")


# ----------------------------------------------------------------------------- part 3


@GRADER.test("Part 3: rnn_step_backward gradients match the reference", points=3)
def step_backward_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.rnn_step_backward, REFERENCES / "rnn_step_backward.npz")


@GRADER.test("Part 3: rnn_step_backward matches autograd through one step", points=2)
def step_backward_autograd(sub: ModuleType) -> Partial | None:
    case = _case(seed=2, T=1)
    dh = np.random.default_rng(3).standard_normal((2, 4))
    hs, want = _minigrad_rnn(case, dh[None])
    got = sub.rnn_step_backward(dh, case["xs"][0], case["h0"], hs[0], case["W_ih"],
                                case["W_hh"])
    want = {"x": want["xs"][0], "h_prev": want["h0"], **{k: want[k] for k in PARAMS}}
    return compare_entries(got, want, "rnn_step_backward")


# ----------------------------------------------------------------------------- part 4


@GRADER.test("Part 4: rnn_backward (BPTT) gradients match the reference", points=4)
def bptt_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.rnn_backward, REFERENCES / "rnn_backward.npz")


@GRADER.test("Part 4: rnn_backward matches minigrad's autograd (other sizes)", points=4)
def bptt_autograd(sub: ModuleType) -> Partial | None:
    case = _case(seed=4, T=9)
    dhs = np.random.default_rng(5).standard_normal((9, 2, 4))
    _, want = _minigrad_rnn(case, dhs)
    return compare_entries(sub.rnn_backward(dhs, **case), want, "rnn_backward")


@GRADER.test("Part 4: rnn_backward with a loss on the last state only", points=2)
def bptt_last_state(sub: ModuleType) -> Partial | None:
    # only h_T is scored: every earlier gradient must come through the recurrence
    case = _case(seed=6, T=5)
    dhs = np.zeros((5, 2, 4))
    dhs[-1] = np.random.default_rng(7).standard_normal((2, 4))
    _, want = _minigrad_rnn(case, dhs)
    return compare_entries(sub.rnn_backward(dhs, **case), want, "rnn_backward")
