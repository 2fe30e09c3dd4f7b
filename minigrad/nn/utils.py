"""Training helpers: gradient clipping and padding of variable-length sequences."""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence

from minigrad import backend
from minigrad.ops import nn_ops as _ops
from minigrad.tensor import Tensor, _make


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Any]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad.data for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of the vector of every gradient element (``inf``
    for the largest magnitude). As PyTorch, gradients are multiplied by
    min(1, max_norm / (total_norm + 1e-6)), computed on the device (no host round trip).
    Returns the total norm before clipping, as a 0-d tensor.

    Raises:
        ValueError: ``max_norm`` is not > 0 (a negative one would flip the gradients' sign,
            zero would erase them) or ``norm_type`` is not > 0.
    """
    max_norm = _positive("max_norm", max_norm)
    norm_type = _number("norm_type", norm_type)
    if not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (2.0, 1.0, inf...), "
                         f"got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor(0.0)
    dev = backend.device_of(grads[0])
    xp = backend.get_array_module(grads[0])
    if norm_type == math.inf:
        norms = [backend.to_device(abs(g).max(), dev) for g in grads]
        total = xp.stack(norms).max()
    else:
        norms = [backend.to_device(_vector_norm(g, norm_type), dev) for g in grads]
        total = _vector_norm(xp.stack(norms), norm_type)
    total = backend.ensure_array(total)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is "
                           f"{float(total)}, so they cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= backend.to_device(coef, backend.device_of(g)).astype(g.dtype)
    return _make(total)


def _number(name: str, value: Any) -> float:
    """``float(value)`` as PyTorch takes it (so ``norm_type="inf"`` works), refused by name
    when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except ValueError:
        raise TypeError(f"{name} must be a number, got {value!r}") from None


def _positive(name: str, value: Any) -> float:
    """``value`` as a float, refused by name unless it is > 0 (NaN too: ``not x > 0``)."""
    value = _number(name, value)
    if not value > 0:  # max_norm <= 0 would flip or zero every gradient instead of clipping
        raise ValueError(f"clip_grad_norm_: {name} must be positive, got {value}; it is the "
                         "largest norm the gradients may have after clipping")
    return value


def _vector_norm(g: Any, p: float) -> Any:
    xp = backend.get_array_module(g)
    if p == 2.0:
        flat = g.reshape(-1)
        return xp.sqrt(xp.dot(flat, flat))  # no squared temporary
    if p == 1.0:
        return abs(g).sum()
    return (abs(g) ** p).sum() ** (1.0 / p)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = _number("clip_value", clip_value)
    if not clip_value >= 0:  # a negative bound would set every gradient to -|clip_value|
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters):
        backend.get_array_module(g).clip(g, -clip_value, clip_value, out=g)


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0) -> Tensor:
    """Stack tensors of shapes (L_i, *) into (T, B, *) (or (B, T, *) with ``batch_first``),
    padding each to the longest length T with ``padding_value``; differentiable."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: expected a non-empty sequence of tensors")
    seqs = [s if isinstance(s, Tensor) else Tensor(s) for s in seqs]
    tail, dtype, dev = seqs[0].shape[1:], seqs[0].dtype, seqs[0].device
    for i, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != tail or s.dtype != dtype or s.device != dev:
            raise ValueError(f"pad_sequence: every sequence must be (L, *{tail}) of {dtype} on "
                             f"{dev} like sequence 0; sequence {i} is {s.shape} {s.dtype} on "
                             f"{s.device}")
    return _ops.PadSequence.apply(batch_first, padding_value, *seqs)


class record_hidden_grad_norms:
    """Record ||dL/dh_t|| for every time step t of a recurrent layer during backward.

    The gradient with respect to h_t is the *total* one: what reaches h_t through the output at
    step t and through every later step (the quantity that vanishes or explodes in BPTT). Its
    norm is taken over the whole batch. One call, on any ``RNN``, ``LSTM`` or ``GRU`` layer::

        with record_hidden_grad_norms(model.rnn) as rec:
            output, _ = model.rnn(x)
            loss_fn(output).backward()
        rec.norms()            # NumPy array (T,): ||dL/dh_t|| of the last layer, forward
        rec.norms(layer=0, direction=1)

    While recording, the layer runs on the graph cells (the fused path has no tensor for each
    h_t); values and gradients are the same.
    """

    def __init__(self, layer: Any) -> None:
        from minigrad.nn.rnn import RNNBase

        if not isinstance(layer, RNNBase):
            raise TypeError(f"record_hidden_grad_norms expects an RNN, LSTM or GRU layer, got "
                            f"{type(layer).__name__}")
        self.layer = layer
        self._norms: dict[tuple[int, int], dict[int, float]] = {}

    def __enter__(self) -> record_hidden_grad_norms:
        self._norms.clear()
        self.layer._grad_recorder = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.layer._grad_recorder = None

    def watch(self, layer: int, direction: int, t: int, h: Tensor) -> None:
        """Called by the layer for each h_t it computes: note its gradient's norm in backward."""
        if not h.requires_grad:
            return
        store = self._norms.setdefault((layer, direction), {})

        def note(g: Tensor) -> None:
            store[t] = float((g * g).sum().item()) ** 0.5

        h.register_hook(note)

    def norms(self, layer: int = -1, direction: int = 0) -> Any:
        """||dL/dh_t|| for t = 0..T-1 (NaN where no gradient reached h_t) as a NumPy array."""
        import numpy as np

        layer = layer % self.layer.num_layers
        store = self._norms.get((layer, direction))
        if not store:
            raise RuntimeError("no gradients recorded: run the layer's forward inside the "
                               "`with` block and call backward before reading the norms")
        steps = max(store) + 1
        return np.array([store.get(t, float("nan")) for t in range(steps)])


__all__ = ["clip_grad_norm_", "clip_grad_value_", "pad_sequence", "record_hidden_grad_norms"]
