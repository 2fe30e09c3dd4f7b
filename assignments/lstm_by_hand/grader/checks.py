"""The graded tests of the LSTM-by-hand assignment, with their points.

Each function is checked against the reference files recorded from the solution
(``references/*.npz``, see ``make_references.py``) and against minigrad itself
(``nn.LSTMCell``, ``nn.LSTM`` and autograd) on inputs of other sizes. Gradient tests give a
share of their points for each correct gradient; the gate test one point per gate.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np

import minigrad as mg
from minigrad.testing import Partial
from minigrad.testing.grading import Grader, compare_entries, numpy_against_reference

SUBMISSION = "lstm.py"
SOLUTION = Path(__file__).resolve().parent.parent / "solution" / SUBMISSION
REFERENCES = Path(__file__).resolve().parent / "references"
GRADER = Grader("LSTM by hand", timeout=60.0)
PARAMS = ("W_ih", "W_hh", "b_ih", "b_hh")
GATES = ("i (input gate)", "f (forget gate)", "g (candidate)", "o (output gate)")


def _case(seed: int, T: int = 7, B: int = 2, IN: int = 3, H: int = 4) -> dict[str, np.ndarray]:
    """Fresh inputs of other sizes than the references (weights on PyTorch's scale)."""
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(H)
    return {"xs": rng.standard_normal((T, B, IN)), "h0": rng.uniform(-1, 1, (B, H)),
            "c0": rng.standard_normal((B, H)), "W_ih": rng.uniform(-k, k, (4 * H, IN)),
            "W_hh": rng.uniform(-k, k, (4 * H, H)), "b_ih": rng.uniform(-k, k, 4 * H),
            "b_hh": rng.uniform(-k, k, 4 * H)}


def _state_dict(case: dict[str, np.ndarray], suffix: str = "") -> dict[str, np.ndarray]:
    names = {"W_ih": "weight_ih", "W_hh": "weight_hh", "b_ih": "bias_ih", "b_hh": "bias_hh"}
    return {names[k] + suffix: case[k] for k in PARAMS}


def _minigrad_step(case: dict[str, np.ndarray], dh: np.ndarray,
                   dc: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
    """nn.LSTMCell on the first step of ``case``: (h, c), and autograd's gradients of
    sum(dh * h) + sum(dc * c), with the pre-activations' gradient as ``"gates"``."""
    cell = mg.nn.LSTMCell(case["xs"].shape[2], case["h0"].shape[1], dtype=mg.float64)
    cell.load_state_dict(_state_dict(case))
    x, h0, c0 = (mg.tensor(case[k][0] if k == "xs" else case[k], requires_grad=True)
                 for k in ("xs", "h0", "c0"))
    h, c = cell(x, (h0, c0))
    ((h * mg.tensor(dh)).sum() + (c * mg.tensor(dc)).sum()).backward()
    grads = {"x": x.grad, "h_prev": h0.grad, "c_prev": c0.grad, "W_ih": cell.weight_ih.grad,
             "W_hh": cell.weight_hh.grad, "b_ih": cell.bias_ih.grad, "b_hh": cell.bias_hh.grad}
    grads = {k: g.numpy() for k, g in grads.items()}
    # the gates' pre-activations a = x W_ih^T + b_ih + h W_hh^T + b_hh are inside the cell:
    # rebuild the step from minigrad ops to ask autograd for dL/da
    W_ih, W_hh, b_ih, b_hh = (mg.tensor(case[k], requires_grad=True) for k in PARAMS)
    a = x.detach() @ W_ih.T + b_ih + h0.detach() @ W_hh.T + b_hh
    i, f, g, o = a.chunk(4, dim=1)
    c2 = f.sigmoid() * c0.detach() + i.sigmoid() * g.tanh()
    h2 = o.sigmoid() * c2.tanh()
    (da,) = mg.autograd.grad((h2 * mg.tensor(dh)).sum() + (c2 * mg.tensor(dc)).sum(), [a])
    grads["gates"] = da.numpy()
    return (h.detach().numpy(), c.detach().numpy()), grads


def _minigrad_lstm(case: dict[str, np.ndarray], dhs: np.ndarray,
                   dc_T: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
    """nn.LSTM on ``case``: (hs, c_T), and autograd's gradients of the BPTT loss."""
    lstm = mg.nn.LSTM(case["xs"].shape[2], case["h0"].shape[1], dtype=mg.float64)
    lstm.load_state_dict(_state_dict(case, "_l0"))
    xs = mg.tensor(case["xs"], requires_grad=True)
    h0 = mg.tensor(case["h0"][None], requires_grad=True)
    c0 = mg.tensor(case["c0"][None], requires_grad=True)
    hs, (_, c_n) = lstm(xs, (h0, c0))
    ((hs * mg.tensor(dhs)).sum() + (c_n[0] * mg.tensor(dc_T)).sum()).backward()
    grads = {"xs": xs.grad, "h0": h0.grad[0], "c0": c0.grad[0],
             "W_ih": lstm.weight_ih_l0.grad, "W_hh": lstm.weight_hh_l0.grad,
             "b_ih": lstm.bias_ih_l0.grad, "b_hh": lstm.bias_hh_l0.grad}
    return ((hs.detach().numpy(), c_n[0].detach().numpy()),
            {k: g.numpy() for k, g in grads.items()})


def _upstream(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------- part 1


@GRADER.test("Part 1: lstm_step matches the reference (h_t, c_t)", points=2)
def step_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.lstm_step, REFERENCES / "lstm_step.npz")


@GRADER.test("Part 1: lstm_step matches minigrad's nn.LSTMCell (other sizes)", points=1)
def step_minigrad(sub: ModuleType) -> Partial | None:
    case = _case(seed=1, T=1)
    (h, c), _ = _minigrad_step(case, _upstream(2, 2, 4), _upstream(3, 2, 4))
    got = sub.lstm_step(case["xs"][0], case["h0"], case["c0"],
                        *(case[k] for k in PARAMS))
    if not isinstance(got, tuple) or len(got) != 2:
        raise AssertionError(f"lstm_step should return the pair (h_t, c_t), got {got!r:.80}")
    return compare_entries({"h_t": got[0], "c_t": got[1]}, {"h_t": h, "c_t": c}, "lstm_step")


# ----------------------------------------------------------------------------- part 2


@GRADER.test("Part 2: gradient of each gate's pre-activation (i, f, g, o) vs autograd",
             points=4)
def gates_autograd(sub: ModuleType) -> Partial | None:
    case = _case(seed=4, T=1)
    dh, dc = _upstream(5, 2, 4), _upstream(6, 2, 4)
    _, want = _minigrad_step(case, dh, dc)
    got = sub.lstm_step_backward(dh, dc, case["xs"][0], case["h0"], case["c0"],
                                 *(case[k] for k in PARAMS))
    if not isinstance(got, dict) or "gates" not in got:
        raise AssertionError("lstm_step_backward should return a dict with a 'gates' entry, "
                             "dL/da of shape (B, 4H)")
    gates = np.asarray(got["gates"])
    if gates.shape != want["gates"].shape:
        raise AssertionError(f"'gates' has shape {gates.shape}, expected "
                             f"{want['gates'].shape} (B, 4H), the gates side by side")
    return compare_entries(dict(zip(GATES, np.split(gates, 4, axis=1))),
                    dict(zip(GATES, np.split(want["gates"], 4, axis=1))),
                    "lstm_step_backward")


@GRADER.test("Part 2: lstm_step_backward matches the reference (all 8 gradients)", points=3)
def step_backward_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.lstm_step_backward, REFERENCES / "lstm_step_backward.npz")


@GRADER.test("Part 2: lstm_step_backward matches nn.LSTMCell's autograd (other sizes)",
             points=3)
def step_backward_autograd(sub: ModuleType) -> Partial | None:
    case = _case(seed=7, T=1, B=3, IN=2, H=3)
    dh, dc = _upstream(8, 3, 3), _upstream(9, 3, 3)
    _, want = _minigrad_step(case, dh, dc)
    del want["gates"]  # graded by the test above
    got = sub.lstm_step_backward(dh, dc, case["xs"][0], case["h0"], case["c0"],
                                 *(case[k] for k in PARAMS))
    return compare_entries(got, want, "lstm_step_backward")


# ----------------------------------------------------------------------------- part 3


@GRADER.test("Part 3: lstm_forward matches the reference", points=1)
def forward_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.lstm_forward, REFERENCES / "lstm_forward.npz")


@GRADER.test("Part 3: lstm_forward matches minigrad's nn.LSTM (other sizes)", points=1)
def forward_minigrad(sub: ModuleType) -> Partial | None:
    case = _case(seed=10)
    (hs, c_T), _ = _minigrad_lstm(case, np.zeros((7, 2, 4)), np.zeros((2, 4)))
    got = sub.lstm_forward(**case)
    if not isinstance(got, tuple) or len(got) != 2:
        raise AssertionError(f"lstm_forward should return the pair (hs, c_T), got {got!r:.80}")
    return compare_entries({"hs": got[0], "c_T": got[1]}, {"hs": hs, "c_T": c_T}, "lstm_forward")


@GRADER.test("Part 3: lstm_backward (BPTT) matches the reference", points=3)
def bptt_reference(sub: ModuleType) -> Partial | None:
    return numpy_against_reference(sub.lstm_backward, REFERENCES / "lstm_backward.npz")


@GRADER.test("Part 3: lstm_backward matches nn.LSTM's autograd (other sizes)", points=3)
def bptt_autograd(sub: ModuleType) -> Partial | None:
    case = _case(seed=11, T=8)
    dhs, dc_T = _upstream(12, 8, 2, 4), _upstream(13, 2, 4)
    _, want = _minigrad_lstm(case, dhs, dc_T)
    return compare_entries(sub.lstm_backward(dhs, dc_T, **case), want, "lstm_backward")


@GRADER.test("Part 3: lstm_backward with a loss on the last cell state only", points=2)
def bptt_cell_path(sub: ModuleType) -> Partial | None:
    # no gradient reaches any h_t directly: everything flows back along c and the recurrence
    case = _case(seed=14, T=5)
    dhs, dc_T = np.zeros((5, 2, 4)), _upstream(15, 2, 4)
    _, want = _minigrad_lstm(case, dhs, dc_T)
    return compare_entries(sub.lstm_backward(dhs, dc_T, **case), want, "lstm_backward")
