"""Matrix products. ``g`` is dL/dy; ``^T`` swaps the last two axes."""

from __future__ import annotations

import math
from typing import Any

from minigrad.autograd.graph import Op
from minigrad.ops.common import swap_last, unbroadcast


class MatMul(Op):
    """y = a @ b (batched, broadcasting);  dL/da = g @ b^T,  dL/db = a^T @ g.

    A 1-D operand is a row vector on the left and a column vector on the right, as in NumPy;
    backward treats it as a matrix with that extra axis and removes the axis again.
    """

    create_graph_ok = True
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                               f"{a.shape} and {b.shape}")
        k_a, k_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if k_a != k_b:
            raise RuntimeError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                               f"({k_a} != {k_b}: the last dimension of the first must equal "
                               "the second-to-last of the second)")
        return a @ b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a  # (k,) -> (1, k)
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b  # (k,) -> (k, 1)
        g2 = g
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:]) if b.ndim > 1 else g2
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        if a.ndim == 1 and b.ndim == 1:
            g2 = g.reshape((1, 1))
        ga = gb = None
        if need_a:
            ga = unbroadcast(g2 @ swap_last(b2), a2.shape).reshape(a.shape)
        if need_b:
            gb = unbroadcast(swap_last(a2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Op):
    """y = x @ W^T + b, one node for the layer;  dL/dx = g @ W,  dL/dW = g^T x,  dL/db = sum g.

    x is (..., in), W is (out, in), b is (out,) or None. The weight gradient of all leading
    dimensions (batch, time, ...) is one matrix product.
    """

    create_graph_ok = True
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Any, x: Any, w: Any, b: Any) -> Any:
        if x.shape[-1:] != w.shape[1:]:
            raise RuntimeError(f"linear: input of shape {x.shape} does not fit weight of shape "
                               f"{w.shape} (expected the input's last dimension to be "
                               f"{w.shape[1] if w.ndim > 1 else '?'})")
        ctx.has_b = b is not None
        y = x @ w.T
        if b is not None:
            y += b
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = g @ w if need_x else None
        gw = gb = None
        rows = math.prod(x.shape[:-1])  # not -1: reshape can't infer it beside a 0-sized dim
        if need_w:
            g2 = g.reshape((rows, g.shape[-1]))
            gw = swap_last(g2) @ x.reshape((rows, x.shape[-1]))
        if need_b and ctx.has_b:
            gb = g.reshape((rows, g.shape[-1])).sum(axis=0)
        return gx, gw, gb
