"""The ops behind ``mg.nn``: each a single node with a hand-written backward.

Fusing these (rather than composing them from elementwise ops) is what makes them numerically
stable (softmax, log-softmax and cross-entropy never exponentiate a large number; binary
cross-entropy never takes the log of 0) and cheap (one node instead of five to ten).
Notation: ``g`` is dL/dy; ``c`` is the class axis.
"""

from __future__ import annotations

from typing import Any

from minigrad import backend
from minigrad.autograd.graph import Op
from minigrad.ops.common import as_array, unbroadcast, xp_of


class Embedding(Op):
    """y = W[idx] (rows of the table);  dL/dW[k] = sum of g over the positions where idx == k.

    A row read several times gets the sum of their gradients (scatter-add). The padding row,
    if any, gets no gradient, as in PyTorch.
    """

    @staticmethod
    def forward(ctx: Any, w: Any, idx: Any, padding_idx: int | None) -> Any:
        ctx.wshape, ctx.idx, ctx.padding_idx = w.shape, idx, padding_idx
        return w[idx]

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        gw = xp_of(g).zeros(ctx.wshape, g.dtype)
        backend.scatter_add(gw, ctx.idx.reshape(-1), g.reshape((-1, ctx.wshape[1])))
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return gw, None, None


class Dropout(Op):
    """y = x * m / (1 - p) with m ~ Bernoulli(1 - p) per element;  dL/dx = g * m / (1 - p).

    Scaling at training time ("inverted dropout") keeps E[y] = x, so evaluation is identity.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, p: float) -> Any:
        rng = backend.generator(backend.device_of(x))
        dt = x.dtype if x.dtype.itemsize >= 4 else "float32"  # generators draw float32/64
        mask = (rng.random(x.shape, dtype=dt) >= p).astype(x.dtype)
        mask *= 1.0 / (1.0 - p) if p < 1 else 0.0  # the mask holds the scale: one multiply
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * ctx.mask, None


def _logsumexp(x: Any, axis: int) -> tuple[Any, Any]:
    """(x - max, log sum exp(x - max)) along ``axis``: subtracting the max keeps exp <= 1."""
    xp = xp_of(x)
    if x.shape and x.shape[axis] == 0:  # nothing to normalise: an empty result (PyTorch)
        return x.copy(), xp.zeros(x.shape[:axis] + (1,) + x.shape[axis + 1:], x.dtype)
    z = x - x.max(axis=axis, keepdims=True)
    return z, xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


class Softmax(Op):
    """y_i = e^(x_i) / sum_j e^(x_j) along ``axis``;  dL/dx = y * (g - sum(g * y))."""

    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int) -> Any:
        xp = xp_of(x)
        if x.shape and x.shape[axis] == 0:  # an empty axis has no max: an empty result
            ctx.y, ctx.axis = x.copy(), axis
            return ctx.y
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        ctx.y, ctx.axis = e, axis
        return e

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        y = ctx.y
        gy = g * y
        return gy - y * gy.sum(axis=ctx.axis, keepdims=True), None


class LogSoftmax(Op):
    """y_i = x_i - log sum_j e^(x_j) along ``axis``;  dL/dx = g - e^y * sum(g)."""

    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any, axis: int) -> Any:
        z, lse = _logsumexp(x, axis)
        z -= lse
        ctx.y, ctx.axis = z, axis
        return z

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g - xp_of(g).exp(ctx.y) * g.sum(axis=ctx.axis, keepdims=True), None


def _pick(logp: Any, target: Any, weight: Any, ignore_index: int) -> tuple:
    """Per sample: the target (0 where ignored), log p of the target class, the weight w_t of
    the target class (0 where ignored) and whether the sample counts."""
    xp = xp_of(logp)
    valid = target != ignore_index
    t = xp.where(valid, target, 0)  # ignored positions read class 0, then count 0
    picked = xp.take_along_axis(logp, xp.expand_dims(t, 1), axis=1).squeeze(1)
    w_t = valid.astype(logp.dtype) if weight is None else weight[t] * valid
    return t, picked, w_t, valid


def _reduce(loss: Any, w_t: Any, reduction: str) -> Any:
    """PyTorch's reductions for class losses: "mean" divides by the total weight of the
    non-ignored targets (their count without ``weight``)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return as_array(loss.sum())
    total = w_t.sum()
    if not bool(total != 0):  # every target ignored: NaN (0 / 0) as PyTorch, without a warning
        return as_array(loss.sum() * float("nan"))
    return as_array(loss.sum() / total)


def _spread(g: Any, w_t: Any, reduction: str) -> Any:
    """dL/d(per-sample loss): the gradient of ``_reduce``."""
    if reduction == "none":
        return g
    if reduction == "sum":
        return xp_of(g).broadcast_to(g, w_t.shape)
    total = w_t.sum()
    # every target ignored: the loss is NaN (0 / 0) but, as in PyTorch, no sample gets any
    # gradient; g / 0 would spread NaN into the whole model at the next optimizer step
    scale = xp_of(g).where(total != 0, g / xp_of(g).where(total != 0, total, 1), 0 * g)
    return xp_of(g).broadcast_to(scale, w_t.shape)


def _one_hot_at(t: Any, n_classes: int) -> Any:
    """A boolean mask of shape (N, C, d1, ...): True at class t[n, d1, ...] on axis 1."""
    xp = xp_of(t)
    shape = [1] * (t.ndim + 1)
    shape[1] = n_classes
    return xp.arange(n_classes).reshape(shape) == xp.expand_dims(t, 1)


class CrossEntropy(Op):
    """Softmax cross-entropy, fused. Logits x are (N, C, d1, ...), targets t are (N, d1, ...).

    With log p = log_softmax(x) over the class axis, w_t the weight of the target class (1
    without ``weight``, 0 for ``ignore_index``) and label smoothing s over C classes::

        loss_n = (1 - s) * (-w_t log p_t) + (s / C) * (-sum_c w_c log p_c)   (0 if ignored)
        dloss_n/dx_c = (1 - s) * w_t * (p_c - [c == t]) + (s / C) * (p_c * sum_k w_k - w_c)

    "mean" divides the sum by sum_n w_t, as PyTorch.
    """

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, ignore_index: int,
                reduction: str, smoothing: float) -> Any:
        z, lse = _logsumexp(x, 1)
        z -= lse  # log p
        t, picked, w_t, valid = _pick(z, target, weight, ignore_index)
        loss = -picked * w_t
        n_classes = x.shape[1]
        if smoothing:
            wb = 1.0 if weight is None else weight.reshape((-1,) + (1,) * (x.ndim - 2))
            smooth = -(z * wb).sum(axis=1) * valid
            loss = (1 - smoothing) * loss + (smoothing / n_classes) * smooth
            ctx.valid = valid
        ctx.p = xp_of(z).exp(z, out=z)  # softmax, in log p's memory
        ctx.t, ctx.w_t, ctx.weight = t, w_t, weight
        ctx.reduction, ctx.smoothing = reduction, smoothing
        return _reduce(loss, w_t, reduction)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        p, w_t, s = ctx.p, ctx.w_t, ctx.smoothing
        ge = _spread(g, w_t, ctx.reduction)  # dL/dloss_n
        hard = ge * w_t * (1 - s)
        coef = hard
        if s:
            n_classes = p.shape[1]
            ws = ge * ctx.valid * (s / n_classes)
            total_w = n_classes if ctx.weight is None else ctx.weight.sum()
            coef = hard + ws * total_w
        gx = p * xp_of(p).expand_dims(coef, 1)
        gx -= _one_hot_at(ctx.t, p.shape[1]) * xp_of(p).expand_dims(hard, 1)
        if s:
            wb = 1.0 if ctx.weight is None else ctx.weight.reshape((-1,) + (1,) * (p.ndim - 2))
            gx -= xp_of(p).expand_dims(ws, 1) * wb
        return gx, None, None, None, None, None


class NLLLoss(Op):
    """Negative log-likelihood of log-probabilities x (N, C, d1, ...) at targets t::

        loss_n = -w_t x[n, t_n]      dloss_n/dx[n, c] = -w_t [c == t_n]
    """

    @staticmethod
    def forward(ctx: Any, x: Any, target: Any, weight: Any, ignore_index: int,
                reduction: str) -> Any:
        t, picked, w_t, _ = _pick(x, target, weight, ignore_index)
        ctx.shape, ctx.t, ctx.w_t, ctx.reduction = x.shape, t, w_t, reduction
        return _reduce(-picked * w_t, w_t, reduction)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        ge = _spread(g, ctx.w_t, ctx.reduction) * ctx.w_t
        gx = _one_hot_at(ctx.t, ctx.shape[1]) * -xp_of(g).expand_dims(ge, 1)
        return gx, None, None, None, None


class BCEWithLogits(Op):
    """Binary cross-entropy of logits x against targets y in [0, 1], elementwise, stable.

    With the positive-class weight q (1 without ``pos_weight``), l = 1 + (q - 1) y and
    softplus(-x) = log(1 + e^-x) = log(1 + e^-|x|) + max(-x, 0) (never overflows)::

        loss = (1 - y) x + l softplus(-x)
        dloss/dx = (1 - y) - l sigmoid(-x)
        dloss/dy = -x + (q - 1) softplus(-x)
        dloss/dq = y softplus(-x)
    """

    save_inputs = (0, 1, 2)

    @staticmethod
    def forward(ctx: Any, x: Any, y: Any, pos_weight: Any) -> Any:
        xp = xp_of(x)
        sp = xp.log1p(xp.exp(-abs(x))) + xp.maximum(-x, 0)  # softplus(-x)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        ctx.x, ctx.y, ctx.pw, ctx.sp = x, y, pos_weight, sp
        return (1 - y) * x + lw * sp

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, y, pw, sp = ctx.x, ctx.y, ctx.pw, ctx.sp
        need_x, need_y, need_pw = ctx.needs_input_grad
        gx = gy = gpw = None
        if need_x:
            sig_neg = xp_of(x).exp(-sp)  # sigmoid(x) = e^-softplus(-x), so 1 - that is sigma(-x)
            lw = 1 if pw is None else 1 + (pw - 1) * y
            gx = unbroadcast(g * ((1 - y) - lw * (1 - sig_neg)), x.shape)
        if need_y:
            dy = -x if pw is None else -x + (pw - 1) * sp
            gy = unbroadcast(g * dy, y.shape)
        if need_pw:
            gpw = unbroadcast(g * y * sp, pw.shape)
        return gx, gy, gpw


class LayerNorm(Op):
    """y = (x - mean) / sqrt(var + eps) * w + b over the trailing ``k`` axes (biased var).

    With x^ = (x - mean) * r, r = 1 / sqrt(var + eps), n the size of the normalised axes and
    h = g * w::

        dL/dx = r * (h - mean(h) - x^ * mean(h * x^)),  dL/dw = sum g x^,  dL/db = sum g
    """

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any, k: int, eps: float) -> Any:
        xp = xp_of(x)
        axes = tuple(range(x.ndim - k, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        xc = x - mu
        var = (xc * xc).mean(axis=axes, keepdims=True)
        r = 1.0 / xp.sqrt(var + eps)
        xhat = xc
        xhat *= r
        ctx.xhat, ctx.r, ctx.w, ctx.axes = xhat, r, w, axes
        ctx.has_b = b is not None
        if w is None and b is None:
            return xhat.copy()  # xhat is saved for backward; the output is the user's
        y = xhat * w if w is not None else xhat.copy()
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        xhat, r, w, axes = ctx.xhat, ctx.r, ctx.w, ctx.axes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        lead = tuple(range(g.ndim - len(axes)))
        gx = gw = gb = None
        if need_x:
            h = g * w if w is not None else g
            gx = h - h.mean(axis=axes, keepdims=True)
            gx -= xhat * (h * xhat).mean(axis=axes, keepdims=True)
            gx *= r
        if need_w and w is not None:
            gw = as_array((g * xhat).sum(axis=lead))
        if need_b and ctx.has_b:
            gb = as_array(g.sum(axis=lead))
        return gx, gw, gb, None, None


class PadSequence(Op):
    """Stack sequences (L_i, *) into one (T, B, *) (or (B, T, *)) tensor, padding to
    T = max L_i;  dL/d(seq_i) = the first L_i steps of g's slice for sequence i."""

    @staticmethod
    def forward(ctx: Any, batch_first: bool, value: float, *seqs: Any) -> Any:
        xp = xp_of(seqs[0])
        n, tail = max(s.shape[0] for s in seqs), seqs[0].shape[1:]
        out = xp.full((len(seqs), n) + tail, value, dtype=seqs[0].dtype)
        for i, s in enumerate(seqs):
            out[i, : s.shape[0]] = s
        ctx.lengths, ctx.batch_first = [s.shape[0] for s in seqs], batch_first
        return out if batch_first else out.swapaxes(0, 1)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        if not ctx.batch_first:
            g = g.swapaxes(0, 1)
        return (None, None) + tuple(g[i, :n] for i, n in enumerate(ctx.lengths))
