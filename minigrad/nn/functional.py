"""``mg.nn.functional`` (import as ``F``): stateless layers and losses, PyTorch's names.

Each function checks its arguments (errors name the shapes and dtypes involved) and then
applies one op; the derivatives live in :mod:`minigrad.ops.nn_ops` and the core ops.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any, Sequence

from minigrad import dtypes
from minigrad.ops import linalg as _linalg
from minigrad.ops import nn_ops as _ops
from minigrad.ops.common import normalize_axis, xp_of
from minigrad.tensor import Tensor, _make

_REDUCTIONS = ("none", "mean", "sum")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x @ W^T + b, with x (..., in), W (out, in), b (out,): one node of the graph."""
    return _linalg.Linear.apply(input, weight, bias)


def relu(input: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    return input.relu()


def tanh(input: Tensor) -> Tensor:
    """The hyperbolic tangent, elementwise."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    """The logistic sigmoid 1 / (1 + e^-x), elementwise."""
    return input.sigmoid()


def _dim(input: Tensor, dim: int | None, who: str) -> int:
    if dim is None:  # PyTorch's legacy implicit choice: dim 0 for 0-, 1- and 3-D, else 1
        dim = 0 if input.ndim in (0, 1, 3) else 1
        # warned as PyTorch does: on a (T, B, C) or (B, T, C) input dim 0 is time or batch,
        # and normalising over it is silently wrong
        warnings.warn(f"Implicit dimension choice for {who} has been deprecated (as in "
                      f"PyTorch): for an input of shape {tuple(input.shape)} it normalises "
                      f"over dim {dim}. Pass dim=X, e.g. dim=-1 for class scores in the last "
                      "dimension", UserWarning, stacklevel=3)
    return normalize_axis(dim, input.ndim)[0] if input.ndim else 0


def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """e^x / sum e^x along ``dim`` (computed as e^(x - max), which cannot overflow)."""
    x = input if dtype is None else input.to(dtype)
    return _ops.Softmax.apply(x, _dim(x, dim, "softmax"))


def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - log sum e^x along ``dim``, stably (never the log of a rounded-to-zero softmax)."""
    x = input if dtype is None else input.to(dtype)
    return _ops.LogSoftmax.apply(x, _dim(x, dim, "log_softmax"))


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p) while
    training; the identity otherwise. Masks come from ``mg.manual_seed``'s generator."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout probability p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _ops.Dropout.apply(input, float(p))


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows ``weight[input]``: input of any shape of int64 indices gives (*input.shape, dim).

    The row ``padding_idx`` gets no gradient.
    """
    idx = _as_index(input, weight, "embedding")
    n = weight.shape[0]
    if idx.data.size and bool(((idx.data < 0) | (idx.data >= n)).any()):
        lo, hi = int(idx.data.min()), int(idx.data.max())
        raise IndexError(f"embedding: index out of range: indices span [{lo}, {hi}] but the "
                         f"table has {n} rows (valid indices 0..{n - 1})")
    if padding_idx is not None:
        padding_idx = _padding_index(padding_idx, n)
    return _ops.Embedding.apply(weight, idx, padding_idx)


def _as_index(input: Any, like: Tensor, who: str) -> Tensor:
    if not isinstance(input, Tensor):
        input = Tensor(input, device=like.device)
    if input.dtype.kind not in "iu":
        raise TypeError(f"{who}: expected integer indices (int64), got {input.dtype} of shape "
                        f"{input.shape}; convert with .long()")
    return input


def _padding_index(padding_idx: int, n: int) -> int:
    if not -n <= padding_idx < n:
        raise ValueError(f"padding_idx {padding_idx} must be within num_embeddings ({n})")
    return padding_idx % n


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes), 1 at each index (no gradient).

    ``num_classes=-1`` takes max(tensor) + 1.
    """
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        what = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot is only applicable to integer (int64) index tensors, got "
                        f"{what}")
    data = tensor.data
    xp = xp_of(data)
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or (
            num_classes < -1):
        raise ValueError(f"one_hot: num_classes must be a non-negative int, or -1 to take "
                         f"max(tensor) + 1, got {num_classes!r}")
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and bool(((data < 0) | (data >= num_classes)).any()):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got values "
                           f"in [{int(data.min())}, {int(data.max())}]")
    out = xp.expand_dims(data, -1) == xp.arange(num_classes)
    return _make(out.astype(dtypes.int64))


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int],
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims to mean 0 and variance 1 (biased
    estimate), then scale by ``weight`` and shift by ``bias``: one node of the graph."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.shape[input.ndim - k:] != shape or input.ndim < k:
        raise RuntimeError(f"layer_norm: normalized_shape {list(shape)} does not match the "
                           f"trailing dimensions of the input of shape {input.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise RuntimeError(f"layer_norm: {name} has shape {t.shape}, expected {shape}")
    return _ops.LayerNorm.apply(input, weight, bias, k, float(eps))


# --------------------------------------------------------------------------- losses

def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_ignore_index(ignore_index: Any, who: str) -> None:
    # a float never equals an int64 target, so 1.5 would silently ignore nothing
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{who}: ignore_index must be an int (a class index, or -100 for "
                        f"none), got {ignore_index!r}")


def _class_target(input: Tensor, target: Any, who: str) -> tuple[Tensor, Tensor, bool]:
    """Check (N, C, d1, ...) scores against (N, d1, ...) int64 targets; accept the unbatched
    (C,) with a 0-d target by adding a batch dimension (``squeeze`` says to remove it)."""
    if not isinstance(target, Tensor):
        target = Tensor(target, device=input.device)
    if input.ndim == 0:
        raise ValueError(f"{who}: input must have a class dimension, got a 0-d tensor")
    unbatched = input.ndim == 1
    expected = () if unbatched else (input.shape[0],) + input.shape[2:]
    if target.dtype.kind not in "iu" or target.shape != expected:
        layout = "(C,)" if unbatched else "(N, C)" if input.ndim == 2 else "(N, C, d1, ...)"
        raise TypeError(
            f"{who}: target must be int64 class indices of shape {expected} for input "
            f"{layout} of shape {input.shape}, got {target.dtype} {target.shape}"
            + ("; class probabilities are not supported, pass class indices (argmax)"
               if target.dtype.kind == "f" else ""))
    if unbatched:
        input, target = input.reshape(1, -1), target.reshape(1)
    if input.dtype.kind != "f":
        raise TypeError(f"{who}: input must be floating point scores, got {input.dtype}")
    return input, target, unbatched


def _check_classes(target: Tensor, n_classes: int, ignore_index: int, who: str) -> None:
    t = target.data
    bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
    if t.size and bool(bad.any()):
        value = int(t[bad][0])
        raise IndexError(f"{who}: target {value} is out of bounds for {n_classes} classes "
                         f"(valid: 0..{n_classes - 1}, or ignore_index={ignore_index})")


def _check_weight(weight: Tensor | None, n_classes: int, who: str) -> Any:
    if weight is None:
        return None
    if weight.shape != (n_classes,):
        raise ValueError(f"{who}: weight must have shape ({n_classes},), one per class, got "
                         f"{weight.shape}")
    return weight.data


def cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of scores ``input`` (N, C) or (N, C, d1, ...) against int64
    class indices ``target`` (N,) or (N, d1, ...), fused into one stable op.

    Equals ``nll_loss(log_softmax(input, 1), target)`` (with ``label_smoothing`` mixing in the
    uniform distribution). Targets equal to ``ignore_index`` count for nothing; "mean"
    divides by the (weighted) number of the others, as PyTorch.
    """
    _check_reduction(reduction)
    _check_ignore_index(ignore_index, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    x, t, unbatched = _class_target(input, target, "cross_entropy")
    _check_classes(t, x.shape[1], ignore_index, "cross_entropy")
    w = _check_weight(weight, x.shape[1], "cross_entropy")
    out = _ops.CrossEntropy.apply(x, t, w, ignore_index, reduction, float(label_smoothing))
    return out.reshape(()) if unbatched and reduction == "none" else out


def nll_loss(input: Tensor, target: Any, weight: Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[n, target[n]] for log-probabilities ``input``."""
    _check_reduction(reduction)
    _check_ignore_index(ignore_index, "nll_loss")
    x, t, unbatched = _class_target(input, target, "nll_loss")
    _check_classes(t, x.shape[1], ignore_index, "nll_loss")
    w = _check_weight(weight, x.shape[1], "nll_loss")
    out = _ops.NLLLoss.apply(x, t, w, ignore_index, reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    _check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _same_shape(input: Tensor, target: Tensor, who: str) -> None:
    if target.shape != input.shape:
        raise ValueError(f"{who}: target shape {target.shape} must match input shape "
                         f"{input.shape} (broadcasting them is almost always a bug)")


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error: mean((input - target)^2)."""
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype, device=input.device)
    _same_shape(input, target, "mse_loss")
    d = input - target
    return _reduce(d * d, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Tensor | None = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """-[p y log sigma(x) + (1 - y) log(1 - sigma(x))] for logits x and targets y in [0, 1],
    computed stably from x (no log of 0, no overflow); ``pos_weight`` p weighs the positives
    (broadcast along the last dimension, one per class)."""
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype, device=input.device)
    _same_shape(input, target, "binary_cross_entropy_with_logits")
    if target.dtype.kind != "f":
        raise TypeError(f"binary_cross_entropy_with_logits: target must be floating point "
                        f"(probabilities in [0, 1]), got {target.dtype}; use target.float()")
    loss = _ops.BCEWithLogits.apply(input, target, pos_weight)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "dropout", "embedding",
           "layer_norm", "linear", "log_softmax", "mse_loss", "nll_loss", "one_hot", "relu",
           "sigmoid", "softmax", "tanh"]
