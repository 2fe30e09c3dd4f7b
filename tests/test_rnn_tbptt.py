"""Truncated BPTT: one window is full BPTT; smaller windows equal a hand-written detach loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn.rnn import GRU, LSTM
from minigrad.nn.tbptt import detach_state, tbptt, windows


def grads(model: Any) -> list[np.ndarray]:
    return [p.grad.cpu().numpy().copy() for p in model.parameters()]


def masked_mse(out: mg.Tensor, y: mg.Tensor, lengths: list[int] | None,
               batch_first: bool) -> mg.Tensor:
    """Mean squared error over the real steps only (outputs at padded steps are 0 anyway)."""
    if lengths is None:
        return ((out - y) * (out - y)).mean()
    steps = out.shape[1] if batch_first else out.shape[0]
    mask = np.arange(steps)[:, None] < np.array(lengths)[None, :]  # (T, B)
    mask = mg.tensor((mask.T if batch_first else mask)[..., None].astype(np.float64),
                     device=out.device)
    return ((out - y) * (out - y) * mask).sum() / max(sum(lengths), 1)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_one_window_is_full_bptt(cls: Any, device: str) -> None:
    model = cls(3, 4, num_layers=2, dtype=mg.float64, device=device)
    x = mg.randn(9, 2, 3, dtype=mg.float64, device=device)
    y = mg.randn(9, 2, 4, dtype=mg.float64, device=device)
    out, _ = model(x)
    masked_mse(out, y, None, False).backward()
    full = grads(model)
    model.zero_grad()

    def step(x_w: mg.Tensor, y_w: mg.Tensor, state: Any, lengths: Any) -> tuple[float, Any]:
        out, state = model(x_w, state, lengths=lengths)
        loss = masked_mse(out, y_w, lengths, False)
        loss.backward()  # accumulate only: no optimizer step, to compare gradients
        return loss.item(), state

    losses, _ = tbptt(step, x, y, window=9)
    assert len(losses) == 1
    for a, b in zip(grads(model), full):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    model.zero_grad()
    tbptt(step, x, y, window=100)  # a window longer than the sequence: the same
    for a, b in zip(grads(model), full):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    model.zero_grad()
    tbptt(step, x, y, window=2)  # truncation changes the gradients
    assert not all(np.allclose(a, b) for a, b in zip(grads(model), full))


@pytest.mark.parametrize("batch_first", [False, True])
def test_windows_equal_manual_detach_loop(batch_first: bool, device: str) -> None:
    """Training with tbptt (an SGD step per window) equals the loop written out by hand."""
    lengths = [11, 4, 7]
    t_ax = 1 if batch_first else 0

    def make() -> LSTM:
        mg.manual_seed(3)
        return LSTM(3, 4, batch_first=batch_first, dtype=mg.float64, device=device)

    shape = (3, 11) if batch_first else (11, 3)
    x = mg.randn(*shape, 3, dtype=mg.float64, device=device)
    y = mg.randn(*shape, 4, dtype=mg.float64, device=device)

    def sgd(model: LSTM) -> None:
        with mg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
                p.grad = None

    # by hand
    manual = make()
    state, manual_losses = None, []
    for start in range(0, 11, 4):
        lens = [min(max(n - start, 0), 4) for n in lengths]
        sl = (slice(None), slice(start, start + 4)) if batch_first else slice(start, start + 4)
        if state is not None:
            state = (state[0].detach(), state[1].detach())
        out, state = manual(x[sl], state, lengths=lens)
        loss = masked_mse(out, y[sl], lens, batch_first)
        loss.backward()
        sgd(manual)
        manual_losses.append(loss.item())

    # with the helper
    model = make()

    def step(x_w: mg.Tensor, y_w: mg.Tensor, state: Any, lens: list[int]) -> tuple[float, Any]:
        assert state is None or not state[0].requires_grad  # arrives detached
        assert x_w.shape[t_ax] in (4, 3)  # 11 steps: windows of 4, 4 and 3
        out, state = model(x_w, state, lengths=lens)
        loss = masked_mse(out, y_w, lens, batch_first)
        loss.backward()
        sgd(model)
        return loss.item(), state

    losses, final = tbptt(step, x, y, window=4, lengths=mg.tensor(lengths),
                          batch_first=batch_first)
    np.testing.assert_allclose(losses, manual_losses, rtol=1e-13)
    for p, q in zip(model.parameters(), manual.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().cpu().numpy(),
                                   rtol=1e-13, atol=1e-15)
    assert isinstance(final, tuple) and not final[0].requires_grad
    np.testing.assert_allclose(final[1].cpu().numpy(), state[1].detach().cpu().numpy(),
                               rtol=1e-13)


def test_windows_split_lengths_and_skip_finished_windows() -> None:
    x = mg.arange(9 * 2).reshape(9, 2).float()
    got = [(tuple(w.shape), y, lens) for w, y, lens in windows(x, None, 3, lengths=[4, 2])]
    # the third window (steps 6-8) is past both sequences' ends: skipped
    assert got == [((3, 2), None, [3, 2]), ((3, 2), None, [1, 0])]
    last = list(windows(x, x, 4))[-1]
    assert last[0].shape == (1, 2) and np.array_equal(last[1].numpy(), x[8:].numpy())
    xb = mg.zeros(2, 5, 3)
    assert [w.shape for w, _, _ in windows(xb, None, 2, batch_first=True)] == [
        (2, 2, 3), (2, 2, 3), (2, 1, 3)]


def test_detach_state_and_errors() -> None:
    h = mg.randn(2, 3, requires_grad=True) * 2
    c = mg.randn(2, 3, requires_grad=True) * 2
    assert detach_state(None) is None
    hd = detach_state(h)
    assert not hd.requires_grad and np.shares_memory(hd.numpy(), h.data)
    pair = detach_state((h, c))
    assert isinstance(pair, tuple) and not any(t.requires_grad for t in pair)
    nested = detach_state([(h, c), h])
    assert isinstance(nested, list) and not nested[0][1].requires_grad
    with pytest.raises(TypeError, match="expected a Tensor or a tuple/list"):
        detach_state({"h": h})
    with pytest.raises(ValueError, match="window must be a positive int"):
        list(windows(mg.zeros(4, 2), None, 0))
    with pytest.raises(ValueError, match="targets of shape \\(3, 2\\) must have the inputs' 4"):
        list(windows(mg.zeros(4, 2), mg.zeros(3, 2), 2))
