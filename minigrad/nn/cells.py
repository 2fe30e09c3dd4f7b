"""The recurrent cells: the equations of one time step, each written once as Tensor ops.

Each cell is a few lines of ordinary Tensor ops (matmul, add, split, sigmoid, tanh, *). Running
a cell over a sequence builds one long graph, and backpropagation through time (BPTT) is then
just ``loss.backward()``: the engine walks that graph back, step by step, with no recursion.
The layers of :mod:`minigrad.nn.rnn` run these same functions; their fast path is *derived*
from them by :mod:`minigrad.jit` (traced once, replayed for every step), so these few lines
are the only definition of each cell in the library.

Notation (the tutorials use the same): x_t is the input at step t, (B, in); h_{t-1} the hidden
state before it, (B, H); W_ih (G*H, in) and W_hh (G*H, H) the input and hidden weights with
their biases b_ih, b_hh (G*H,), where G is the number of gates (1 RNN, 4 LSTM, 3 GRU), stacked
in PyTorch's order, so PyTorch's weights load unchanged. sigma is the logistic sigmoid and
``*`` the elementwise product.

The cell functions (:func:`rnn_cell`, :func:`lstm_cell`, :func:`gru_cell`) take the input part
``xw = x_t W_ih^T + b_ih`` already computed. A layer computes it for all T steps with one
matrix product before its time loop, and the cell modules right before calling the function:
the same equations serve both, there is no second copy.

Graph size per LSTM step in a layer (the speed of a graph engine is mostly its node count):
1 take x_t's slice of the precomputed projection (one Split node shared by all steps), 1 Linear
(h W_hh^T + b_hh), 1 add, 1 split into the 4 gates, 4 activations, 5 for c_t and h_t: 12.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from minigrad import creation
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

LSTMState = tuple[Tensor, Tensor]

# ---------------------------------------------------------------------- the cell math


def rnn_cell(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None,
             nonlinearity: str = "tanh") -> Tensor:
    """One step of an Elman RNN::

        h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)      (or relu)

    ``xw`` is the input part ``x_t W_ih^T + b_ih``, (B, H).
    """
    a = xw + F.linear(h, w_hh, b_hh)
    return a.tanh() if nonlinearity == "tanh" else a.relu()


def lstm_cell(xw: Tensor, state: LSTMState, w_hh: Tensor, b_hh: Tensor | None) -> LSTMState:
    """One step of an LSTM (Hochreiter & Schmidhuber 1997, with a forget gate)::

        i_t = sigma(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
        f_t = sigma(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
        g_t = tanh (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate cell
        o_t = sigma(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    W_ih = [W_ii; W_if; W_ig; W_io] is (4H, in) and W_hh likewise (4H, H), gates in PyTorch's
    order (i, f, g, o). ``xw`` is the input part of all four gates, (B, 4H); ``state`` is
    (h_{t-1}, c_{t-1}); returns (h_t, c_t).
    """
    h, c = state
    # one product for all four gates, then ONE split node (its backward is one concatenate)
    i, f, g, o = (xw + F.linear(h, w_hh, b_hh)).chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_cell(xw: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None,
             reset_after: bool = True) -> Tensor:
    """One step of a GRU (Cho et al. 2014), in either of its two published forms::

        r_t = sigma(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)             reset gate
        z_t = sigma(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)             update gate
        reset_after=True (PyTorch, cuDNN; the default):
            n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
        reset_after=False (the textbook form of Cho et al. 2014):
            n_t = tanh(W_in x_t + b_in + W_hn (r_t * h_{t-1}) + b_hn)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    The first resets the hidden part *after* its matrix product, so all three gates' hidden
    products are one matmul; the second must wait for r_t before multiplying by W_hn. Both have
    the same parameters, gates in PyTorch's order (r, z, n); ``xw`` is (B, 3H).
    """
    hidden = h.shape[-1]
    # split before the activations, as in lstm_cell: then all of the step's elementwise math
    # is one region for the compiled path (one generated kernel), not two around a split
    x_r, x_z, x_n = xw.chunk(3, -1)
    if reset_after:
        h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, -1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
    else:
        w_rz, w_n = w_hh.split([2 * hidden, hidden], 0)
        b_rz, b_n = (None, None) if b_hh is None else b_hh.split([2 * hidden, hidden], 0)
        h_r, h_z = F.linear(h, w_rz, b_rz).chunk(2, -1)
        r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
        n = (x_n + F.linear(r * h, w_n, b_n)).tanh()
    # (1 - z) * n + z * h written with one op fewer; equal up to rounding
    return n + z * (h - n)


# ---------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """What the three cells share: PyTorch's parameters and their initialisation.

    Parameters: ``weight_ih`` (G*H, input_size), ``weight_hh`` (G*H, H), and with ``bias``
    ``bias_ih``, ``bias_hh`` (G*H,); all drawn from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch.
    """

    gates = 1
    _name = "RNNCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, *,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_sizes(self._name, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gh = self.gates * hidden_size
        self.weight_ih = Parameter(creation.empty(gh, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(creation.empty(gh, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(creation.empty(gh, dtype=dtype, device=device))
            self.bias_hh = Parameter(creation.empty(gh, dtype=dtype, device=device))
        else:  # reserved names, as PyTorch: absent from parameters() and state_dict()
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H))."""
        _uniform_init(self.parameters(), self.hidden_size)

    def initial_state(self, batch: int) -> Any:
        """Zeros for the state of ``batch`` sequences: h (B, H), for LSTMCell (h, c). What
        :class:`~minigrad.nn.Recurrent` starts from when given no state."""
        w = self.weight_ih
        h = creation.zeros(batch, self.hidden_size, dtype=w.dtype, device=w.device)
        return (h, creation.zeros_like(h)) if self.gates == 4 else h

    def _check(self, x: Tensor, states: Sequence[Tensor | None]) -> Tensor | None:
        """Check shapes and dtypes; return zeros for the state if none was given."""
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._name}: expected input of shape (B, {self.input_size}) or unbatched "
                f"({self.input_size},), got {tuple(x.shape)}")
        _check_dtype(self._name, x, self.weight_ih)
        want = x.shape[:-1] + (self.hidden_size,)
        for s in states:
            if s is None:
                return creation.zeros(*want, dtype=x.dtype, device=x.device)
            if tuple(s.shape) != want:
                raise ValueError(f"{self._name}: expected a state of shape {want} for input of "
                                 f"shape {tuple(x.shape)}, got {tuple(s.shape)}")
            _check_dtype(self._name, s, self.weight_ih, "state")
        return None

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"


class RNNCell(RNNCellBase):
    """An Elman RNN cell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Args:
        input_size: features of x.
        hidden_size: features of h, H.
        bias: learn b_ih and b_hh.
        nonlinearity: "tanh" or "relu".

    Call ``cell(x, h=None) -> h'`` with x (B, input_size) or (input_size,); h defaults to zeros.

    Example::

        >>> import minigrad as mg
        >>> cell = mg.nn.RNNCell(4, 3)
        >>> cell(mg.randn(2, 4)).shape
        (2, 3)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", *, device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got "
                             f"{nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        zeros = self._check(x, [h])
        xw = F.linear(x, self.weight_ih, self.bias_ih)
        return rnn_cell(xw, zeros if h is None else h, self.weight_hh, self.bias_hh,
                        self.nonlinearity)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + ", nonlinearity='relu'"


class LSTMCell(RNNCellBase):
    """A long short-term memory cell; equations in :func:`lstm_cell`, gates (i, f, g, o).

    Call ``cell(x, (h, c)=None) -> (h', c')`` with x (B, input_size) or (input_size,); the
    state defaults to zeros. ``weight_ih`` is (4H, input_size), ``weight_hh`` (4H, H).

    Example::

        >>> import minigrad as mg
        >>> cell = mg.nn.LSTMCell(4, 3)
        >>> h, c = cell(mg.randn(2, 4))
        >>> h.shape, c.shape
        ((2, 3), (2, 3))
    """

    gates = 4
    _name = "LSTMCell"

    def forward(self, x: Tensor, state: LSTMState | None = None) -> LSTMState:
        if state is not None and not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError("LSTMCell: the state must be a tuple (h, c), got "
                            f"{type(state).__name__}")
        zeros = self._check(x, [None] if state is None else list(state))
        xw = F.linear(x, self.weight_ih, self.bias_ih)
        return lstm_cell(xw, (zeros, zeros) if state is None else tuple(state),
                         self.weight_hh, self.bias_hh)


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell; equations in :func:`gru_cell`, gates (r, z, n).

    ``reset_after=True`` (default) is PyTorch's form, n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn)); ``reset_after=False`` is Cho et al.'s, n = tanh(W_in x + b_in + W_hn (r * h) +
    b_hn), with the same parameters. Call ``cell(x, h=None) -> h'``.

    Example::

        >>> import minigrad as mg
        >>> mg.nn.GRUCell(4, 3)(mg.randn(2, 4)).shape
        (2, 3)
    """

    gates = 3
    _name = "GRUCell"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 reset_after: bool = True, *, device: Any = None, dtype: Any = None) -> None:
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, bias, device=device, dtype=dtype)

    def forward(self, x: Tensor, h: Tensor | None = None) -> Tensor:
        zeros = self._check(x, [h])
        xw = F.linear(x, self.weight_ih, self.bias_ih)
        return gru_cell(xw, zeros if h is None else h, self.weight_hh, self.bias_hh,
                        self.reset_after)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"


# ---------------------------------------------------------------------- helpers


def _check_sizes(name: str, input_size: int, hidden_size: int) -> None:
    for label, n in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"{name}: {label} must be a positive int, got {n!r}")


def _check_dtype(name: str, x: Tensor, like: Tensor, what: str = "input",
                 other: str = "the parameters are", fix: str = "the module, module") -> None:
    # mixing would silently promote the whole graph (and the weight gradients) to float64
    if x.dtype != like.dtype:
        raise TypeError(f"{name}: {what} is {x.dtype} but {other} {like.dtype}; convert it, "
                        f"e.g. {what}.to({like.dtype.name!r}), or {fix}.to({x.dtype.name!r})")


def _uniform_init(params: Any, hidden_size: int) -> None:
    bound = 1.0 / math.sqrt(hidden_size)
    with no_grad():
        for p in params:
            p.uniform_(-bound, bound)
