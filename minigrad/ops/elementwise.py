"""Elementwise ops. Notation: the op computes y from inputs a, b (or x); ``g`` is dL/dy.

Each backward returns dL/d(input) = g * dy/d(input), summed back over broadcast dimensions.
"""

from __future__ import annotations

import math
from typing import Any

from minigrad import backend
from minigrad.autograd.graph import Op
from minigrad.ops.common import as_array, cast, log, shape_of, sign, unbroadcast, where, xp_of
from minigrad.ops.shape import ToDevice


class Add(Op):
    """y = a + b;  dL/da = g,  dL/db = g."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.shapes = (shape_of(a), shape_of(b))
        return a + b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(Op):
    """y = a - b;  dL/da = g,  dL/db = -g."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        ctx.shapes = (shape_of(a), shape_of(b))
        return a - b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        sa, sb = ctx.shapes
        return unbroadcast(g, sa), unbroadcast(-g, sb)


class Mul(Op):
    """y = a * b;  dL/da = g * b,  dL/db = g * a."""

    create_graph_ok = True
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        return a * b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        return unbroadcast(g * b, shape_of(a)), unbroadcast(g * a, shape_of(b))


class Div(Op):
    """y = a / b;  dL/da = g / b,  dL/db = -g * a / b^2."""

    create_graph_ok = True
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        return a / b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        ga = g / b
        gb = None if shape_of(b) is None else unbroadcast(-ga * a / b, b.shape)
        return unbroadcast(ga, shape_of(a)), gb


class Pow(Op):
    """y = a ** b;  dL/da = g * b * a^(b-1),  dL/db = g * y * ln(a)."""

    create_graph_ok = True
    save_inputs = (0, 1)
    save_output = True

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any) -> Any:
        return a**b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b, y = ctx.saved_tensors
        ga = gb = None
        if shape_of(a) is not None:
            if shape_of(b) is None:  # the common case, x ** 2
                ga = g * (b * a ** (b - 1)) if b != 0 else g * 0
            else:  # b * a^(b-1), with PyTorch's convention that the term is 0 where b == 0
                ga = unbroadcast(where(b == 0, 0.0, g * (b * a ** (b - 1))), a.shape)
        if shape_of(b) is not None:
            if shape_of(a) is None:  # c ** x: ln(c) of a Python number stays a Python float
                gb = g * y * math.log(a) if a > 0 else g * y * 0
            else:  # ln(a) is -inf at a == 0; PyTorch defines the gradient there as 0 if y == 0
                gb = unbroadcast(where((a == 0) & (b >= 0), 0.0, g * y * log(a)), b.shape)
        return ga, gb


class Neg(Op):
    """y = -x;  dL/dx = -g."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return -g


class Exp(Op):
    """y = e^x;  dL/dx = g * y."""

    create_graph_ok = True
    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return xp_of(x).exp(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y


class Log(Op):
    """y = ln x;  dL/dx = g / x."""

    create_graph_ok = True
    save_inputs = (0,)

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return xp_of(x).log(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Op):
    """y = sqrt(x);  dL/dx = g / (2 y)."""

    create_graph_ok = True
    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return xp_of(x).sqrt(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g / (2 * y)


class Abs(Op):
    """y = |x|;  dL/dx = g * sign(x)  (0 at x = 0, as PyTorch)."""

    create_graph_ok = True
    save_inputs = (0,)

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return abs(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * sign(x)


class Tanh(Op):
    """y = tanh x;  dL/dx = g * (1 - y^2)."""

    create_graph_ok = True
    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return xp_of(x).tanh(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Sigmoid(Op):
    """y = sigma(x) = 1 / (1 + e^-x);  dL/dx = g * y * (1 - y)."""

    create_graph_ok = True
    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        xp = xp_of(x)
        # e^-x overflows to inf for x < -88 (float32); 1 / (1 + inf) = 0 is the right limit,
        # so only the warning is silenced, cheaply, by clipping where float32 would overflow.
        e = xp.exp(-xp.maximum(x, -80.0) if x.dtype.itemsize < 8 else -x)
        e = as_array(e)  # NumPy gives a scalar for a 0-d x, which out= below cannot take
        e += 1
        return xp.reciprocal(e, out=e)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class Relu(Op):
    """y = max(x, 0);  dL/dx = g where x > 0, else 0."""

    create_graph_ok = True
    save_output = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return xp_of(x).maximum(x, 0)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (y > 0)


class Clamp(Op):
    """y = min(max(x, lo), hi);  dL/dx = g where lo <= x <= hi, else 0."""

    create_graph_ok = True
    save_inputs = (0,)

    @staticmethod
    def forward(ctx: Any, x: Any, lo: Any, hi: Any) -> Any:
        if lo is None and hi is None:
            raise RuntimeError("clamp: give at least one of min and max")
        ctx.lo, ctx.hi = lo, hi
        return xp_of(x).clip(x, lo, hi)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,), lo, hi = ctx.saved_tensors, ctx.lo, ctx.hi
        inside = x == x  # NaN stays out of both tests below
        if lo is not None:
            inside = inside & (x >= lo)
        if hi is not None:
            inside = inside & (x <= hi)
        return g * inside, None, None


class Where(Op):
    """y = a where cond else b;  dL/da = g where cond, dL/db = g elsewhere."""

    create_graph_ok = True
    save_inputs = (0,)

    @staticmethod
    def forward(ctx: Any, cond: Any, a: Any, b: Any) -> Any:
        ctx.shapes = (shape_of(a), shape_of(b))
        return xp_of(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (cond,), (sa, sb) = ctx.saved_tensors, ctx.shapes
        return (None, unbroadcast(where(cond, g, 0), sa) if sa is not None else None,
                unbroadcast(where(cond, 0, g), sb) if sb is not None else None)


class Cast(Op):
    """y = x converted to ``dtype``;  dL/dx = g converted back to x's dtype."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any, dtype: Any) -> Any:
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return cast(g, ctx.dtype), None


class Clone(Op):
    """y = a copy of x;  dL/dx = g."""

    create_graph_ok = True

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x.copy()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g


class Compare(Op):
    """``==, !=, <, <=, >, >=`` elementwise: a boolean result, no gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, name: str) -> Any:
        return getattr(a, name)(b)


class Sign(Op):
    """-1, 0 or 1 by the sign of each element; no gradient (it is 0 almost everywhere)."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return xp_of(x).sign(x)


class Invert(Op):
    """``~x``: logical not of a bool tensor, bitwise not of an integer one; no gradient."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return ~x


def convert(x: Any, device: Any, dtype: Any) -> Any:
    """``x`` on ``device`` with ``dtype`` (None: keep), differentiably; ``x`` if unchanged."""
    if device is not None and device != backend.device_of(x.data):
        x = ToDevice.apply(x, device)
    if dtype is not None and dtype != x.data.dtype:
        x = Cast.apply(x, dtype)
    return x
