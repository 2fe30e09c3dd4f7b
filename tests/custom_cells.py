"""Cells written by a user, not by minigrad: each a Module ``cell(x_t, state) -> state``.

tests/test_compile.py checks that the compiled path (``nn.Recurrent(cell, fused=True)``)
matches each cell's own graph path; benchmarks/rnn.py times the peephole LSTM.
"""

from __future__ import annotations

import math
from typing import Any

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F


class _Cell(nn.Module):
    """Parameters drawn from U(-1/sqrt(H), 1/sqrt(H)), zeros as the initial state."""

    n_state = 1

    def __init__(self, input_size: int, hidden_size: int, dtype: Any = None,
                 device: Any = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.dtype, self.device = dtype, device

    def param(self, *shape: int) -> nn.Parameter:
        bound = 1 / math.sqrt(self.hidden_size)
        return nn.Parameter(mg.empty(*shape, dtype=self.dtype, device=self.device)
                            .uniform_(-bound, bound))

    def initial_state(self, batch: int) -> Any:
        like = next(iter(self.parameters()))  # follows cell.to(...)
        h = mg.zeros(batch, self.hidden_size, dtype=like.dtype, device=like.device)
        return h if self.n_state == 1 else tuple(h * 1 for _ in range(self.n_state))


class PeepholeLSTMCell(_Cell):
    """LSTM whose gates also see the cell state (Gers & Schmidhuber 2000)::

        i = sigma(W_i [x, h] + p_i * c_{t-1} + b_i),  f likewise with p_f
        c_t = f * c_{t-1} + i * tanh(W_g [x, h] + b_g)
        o = sigma(W_o [x, h] + p_o * c_t + b_o),  h_t = o * tanh(c_t)
    """

    n_state = 2

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.w_ih, self.w_hh = self.param(4 * hidden_size, input_size), self.param(
            4 * hidden_size, hidden_size)
        self.bias = self.param(4 * hidden_size)
        self.p_i, self.p_f, self.p_o = (self.param(hidden_size) for _ in range(3))

    def forward(self, x: mg.Tensor, state: tuple[mg.Tensor, mg.Tensor]) -> Any:
        h, c = state
        zi, zf, zg, zo = (F.linear(x, self.w_ih, self.bias) + F.linear(h, self.w_hh)).chunk(4, -1)
        c = (zf + self.p_f * c).sigmoid() * c + (zi + self.p_i * c).sigmoid() * zg.tanh()
        return (zo + self.p_o * c).sigmoid() * c.tanh(), c


class MinimalGatedUnit(_Cell):
    """MGU (Zhou et al. 2016): one forget gate f; h_t = (1 - f) * h + f * tanh(W [x, f * h])."""

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.wf, self.uf, self.bf = (self.param(hidden_size, input_size),
                                     self.param(hidden_size, hidden_size), self.param(hidden_size))
        self.wh, self.uh = self.param(hidden_size, input_size), self.param(hidden_size, hidden_size)

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        f = (F.linear(x, self.wf, self.bf) + h @ self.uf.T).sigmoid()
        cand = (x @ self.wh.T + F.linear(f * h, self.uh)).tanh()
        return (1 - f) * h + f * cand


class IndRNNCell(_Cell):
    """IndRNN (Li et al. 2018): an elementwise recurrent weight, h_t = relu(W x + u * h + b)."""

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.w, self.u, self.b = (self.param(hidden_size, input_size), self.param(hidden_size),
                                  self.param(hidden_size))

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return (F.linear(x, self.w, self.b) + self.u * h).relu()


class MLPCell(_Cell):
    """A two-layer MLP of [x, h] as the transition: h_t = tanh(W2 relu(W1 [x; h] + b1) + b2)."""

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.l1 = self.param(2 * hidden_size, input_size + hidden_size)
        self.b1, self.l2, self.b2 = (self.param(2 * hidden_size),
                                     self.param(hidden_size, 2 * hidden_size),
                                     self.param(hidden_size))

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        z = F.linear(mg.cat([x, h], -1), self.l1, self.b1).relu()
        return F.linear(z, self.l2, self.b2).tanh()


class SoftplusWhereCell(_Cell):
    """where/relu/softplus: a = W x + U h; h_t = where(a > 0, relu(a), -softplus(-a)) / 2,
    with softplus(z) = log(1 + e^z) from exp and log."""

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.w, self.u = self.param(hidden_size, input_size), self.param(hidden_size, hidden_size)

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        a = F.linear(x, self.w) + F.linear(h, self.u)
        softplus = ((-a).exp() + 1).log()
        return mg.where(a > 0, a.relu(), -softplus) * 0.5


class ScaledCell(_Cell):
    """Closes over a parameter it does not own (a shared temperature ``scale``, (H,)):
    h_t = tanh(scale * (W x + U h)); the layer must still give ``scale`` its gradient."""

    def __init__(self, input_size: int, hidden_size: int, scale: nn.Parameter,
                 **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.w, self.u = self.param(hidden_size, input_size), self.param(hidden_size, hidden_size)
        self.__dict__["shared_scale"] = scale  # not registered: only closed over

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return (self.shared_scale * (F.linear(x, self.w) + F.linear(h, self.u))).tanh()


class BatchContextCell(_Cell):
    """Reads a per-feature summary of the whole batch: m = tanh(mean over the batch of h / 2),
    an (H,) vector; h_t = tanh(W x + U h) * (1 + m). Elementwise ops on (H,) values sit next to
    ones on (B, H) values in the step, and every row's gradient reaches m through the mean."""

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.w, self.u = self.param(hidden_size, input_size), self.param(hidden_size, hidden_size)

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        m = (h.mean(0) * 0.5).tanh()
        z = (F.linear(x, self.w) + F.linear(h, self.u)).tanh()
        return z * (m + 1)


class MixedPrecisionCell(_Cell):
    """A cell of its own dtype (float32 here) with a float64 per-feature scale ``s`` (H,):
    y = tanh(s * h) is float64, h_t = tanh(W x + U h) / 2 + y / 2 back in the cell's dtype.
    Values of both dtypes meet in adjacent elementwise ops; s's gradient is float64."""

    def __init__(self, input_size: int, hidden_size: int, **kw: Any) -> None:
        super().__init__(input_size, hidden_size, **kw)
        self.w, self.u = self.param(hidden_size, input_size), self.param(hidden_size, hidden_size)
        self.s = nn.Parameter(mg.rand(hidden_size, dtype="float64", device=self.device) + 0.5)

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        scaled = h * self.s  # float64
        half = (F.linear(x, self.w) + F.linear(h, self.u)).tanh() * 0.5
        y = scaled.tanh()  # in the same run of elementwise ops as the float32 ones above
        return half + y.to(half.dtype) * 0.5
