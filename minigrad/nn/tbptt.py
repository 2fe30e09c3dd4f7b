"""Truncated backpropagation through time (TBPTT).

Full BPTT over a long sequence keeps every step's graph alive until ``backward`` and sends
gradient all the way back to step 0. Truncated BPTT cuts the sequence into windows of
``window`` steps and trains on one window at a time: the state at the end of a window is
carried into the next (so the forward pass still sees the whole history), but *detached*, so
the gradient of window k stops at its first step::

    state = None
    for x_w, y_w, lengths_w in windows(x, y, window):      # x_w: steps [s, s + window)
        state = detach_state(state)                         # cut the graph here
        out, state = model(x_w, state, lengths=lengths_w)
        loss = loss_fn(out, y_w)
        opt.zero_grad(); loss.backward(); opt.step()

:func:`tbptt` runs that loop around a training-step function of yours. With ``window`` >= T
there is one window and the gradients are exactly full BPTT's.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence

from minigrad.tensor import Tensor

__all__ = ["detach_state", "tbptt", "windows"]


def detach_state(state: Any) -> Any:
    """``state`` cut out of the graph: a Tensor, or a (nested) tuple or list of them such as an
    LSTM's ``(h, c)``; None stays None. The values are shared, not copied."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"detach_state: expected a Tensor or a tuple/list of Tensors, got "
                    f"{type(state).__name__}")


def windows(inputs: Tensor, targets: Tensor | None, window: int,
            lengths: Sequence[int] | Tensor | None = None,
            batch_first: bool = False) -> Iterator[tuple[Tensor, Tensor | None, list[int] | None]]:
    """Yield ``(x_w, y_w, lengths_w)`` for consecutive windows of ``window`` time steps.

    The time axis is 0, or 1 with ``batch_first`` (for inputs and targets alike); the last
    window may be shorter. ``lengths_w[b]`` is how many of sequence b's real steps fall in the
    window (0 once it has ended); windows past the end of every sequence are skipped.
    """
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"tbptt: window must be a positive int, got {window!r}")
    axis = 1 if batch_first else 0
    if inputs.ndim <= axis:
        raise ValueError(f"tbptt: inputs of shape {tuple(inputs.shape)} have no time axis "
                         f"{axis} (batch_first={batch_first})")
    seq_len = inputs.shape[axis]
    if targets is not None and (targets.ndim <= axis or targets.shape[axis] != seq_len):
        raise ValueError(f"tbptt: targets of shape {tuple(targets.shape)} must have the "
                         f"inputs' {seq_len} steps on axis {axis} (batch_first={batch_first})")
    lens = None
    if lengths is not None:
        lens = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
    lead = (slice(None),) * axis
    for start in range(0, seq_len, window):
        stop = min(start + window, seq_len)
        lens_w = None
        if lens is not None:
            lens_w = [min(max(n - start, 0), stop - start) for n in lens]
            if max(lens_w, default=0) == 0:  # every sequence has ended: nothing to learn
                break
        sl = lead + (slice(start, stop),)
        yield inputs[sl], None if targets is None else targets[sl], lens_w


def tbptt(step: Callable[..., tuple[Any, Any]], inputs: Tensor, targets: Tensor | None,
          window: int, state: Any = None, lengths: Sequence[int] | Tensor | None = None,
          batch_first: bool = False) -> tuple[list[Any], Any]:
    """Run a training step on each window of a long sequence, carrying the detached state.

    ``step(x_w, y_w, state, lengths_w) -> (result, new_state)`` is your training step for one
    window: forward from ``state``, loss, ``backward``, optimizer step; it returns anything
    (e.g. ``loss.item()``) and the model's state after the window. Before each window the
    state is detached (:func:`detach_state`), so gradients stop at the window's first step.
    ``lengths_w`` is None unless ``lengths`` is given (see :func:`windows`).

    Returns the list of results, one per window, and the last state (detached).

    Example::

        def train_step(x, y, state, lengths):
            out, state = lstm(x, state, lengths=lengths)
            loss = F.mse_loss(head(out), y)
            opt.zero_grad(); loss.backward(); opt.step()
            return loss.item(), state

        losses, state = tbptt(train_step, x, y, window=50)
    """
    results = []
    for x_w, y_w, lens_w in windows(inputs, targets, window, lengths, batch_first):
        result, state = step(x_w, y_w, detach_state(state), lens_w)
        results.append(result)
    return results, detach_state(state)
