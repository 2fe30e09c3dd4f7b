"""Recurrent networks: RNN, LSTM and GRU cells and layers, written once as graphs of primitives.

Each cell is a few lines of ordinary Tensor ops (matmul, add, split, sigmoid, tanh, *). Running
a cell over a sequence builds one long graph, and backpropagation through time (BPTT) is then
just ``loss.backward()``: the engine walks that graph back, step by step, with no recursion.

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

Fused path. The layers (:class:`RNN`, :class:`LSTM`, :class:`GRU`, not the cells) can instead
run each layer and direction as ONE op for the whole sequence (:mod:`minigrad.ops.rnn_fused`):
the same equations with a hand-written backpropagation through time, preallocated buffers
and, on CuPy, one fused GPU kernel per step for the elementwise math. It is the default; choose
per layer with ``fused=True|False`` or for every layer that does not say with
:func:`set_fused_default` or ``with use_fused(False): ...``. Both paths give the same outputs
and gradients (tests/test_fused.py checks every option against the graph cells). The fused
path gives first derivatives only: for gradients of gradients use ``fused=False``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from minigrad import creation
from minigrad.autograd.grad_mode import no_grad
from minigrad.nn import functional as F
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.ops import rnn_fused
from minigrad.tensor import Tensor, where

LSTMState = tuple[Tensor, Tensor]

# ---------------------------------------------------------------------- fused or graph

_fused_default = [True]  # a list, so use_fused can restore it without a global statement


def set_fused_default(enabled: bool) -> None:
    """Make RNN/LSTM/GRU layers built without ``fused=`` use the fused path (True, the
    default) or the graph cells (False). Read at each forward call, so it applies to existing
    layers too."""
    _fused_default[0] = bool(enabled)


def is_fused_default() -> bool:
    """Whether layers built without ``fused=`` currently take the fused path."""
    return _fused_default[0]


class use_fused:
    """``with use_fused(False): ...`` runs layers built without ``fused=`` on the graph cells
    inside the block (or on the fused path with True), then restores the previous default."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = bool(enabled)

    def __enter__(self) -> None:
        self._prev = _fused_default[0]
        _fused_default[0] = self.enabled

    def __exit__(self, *exc: object) -> None:
        _fused_default[0] = self._prev


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
    x_rz, x_n = xw.split([2 * hidden, hidden], -1)
    if reset_after:
        h_rz, h_n = F.linear(h, w_hh, b_hh).split([2 * hidden, hidden], -1)
        r, z = (x_rz + h_rz).sigmoid().chunk(2, -1)
        n = (x_n + r * h_n).tanh()
    else:
        w_rz, w_n = w_hh.split([2 * hidden, hidden], 0)
        b_rz, b_n = (None, None) if b_hh is None else b_hh.split([2 * hidden, hidden], 0)
        r, z = (x_rz + F.linear(h, w_rz, b_rz)).sigmoid().chunk(2, -1)
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


# ---------------------------------------------------------------------- layers


class RNNBase(Module):
    """The one layer implementation behind :class:`RNN`, :class:`LSTM` and :class:`GRU`.

    It owns the parameters, the loop over layers, directions and time steps, the initial and
    final states, ``batch_first``, ``lengths`` and dropout; a subclass only names its number of
    gates and its cell function (:meth:`_step`). Per layer and direction, the input projection
    of all T steps is ONE matrix product, (T*B, in) @ W_ih^T + b_ih; each step then adds its
    hidden part inside the cell.

    Parameters, registered in PyTorch's order (so ``state_dict`` keys and order match
    ``torch.nn.LSTM`` etc.): for each layer k, for each direction (forward, then ``_reverse``),
    ``weight_ih_l{k}`` (G*H, in_k), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (G*H,), with in_0 = input_size and in_k = D*H above.

    ``fused``: True runs each layer and direction as one op over the whole sequence
    (:mod:`minigrad.ops.rnn_fused`, first derivatives only), False builds the graph of the
    cells step by step, None (default) follows :func:`set_fused_default` (True unless changed).
    Both compute the same values and gradients.
    """

    gates = 1  # G: gate blocks stacked in weight_ih / weight_hh
    state_tensors = 1  # h; LSTM: (h, c)
    _name = "RNN"
    _grad_recorder: Any = None  # set by nn.utils.record_hidden_grad_norms

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, *, device: Any = None, dtype: Any = None,
                 fused: bool | None = None) -> None:
        super().__init__()
        _check_sizes(self._name, input_size, hidden_size)
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"{self._name}: num_layers must be an int >= 1, got {num_layers!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{self._name}: dropout must be a probability in [0, 1], got "
                             f"{dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.num_directions = 2 if bidirectional else 1
        self.fused = fused
        gh = self.gates * hidden_size
        # names per (layer, direction), e.g. ("weight_ih_l1_reverse", ...); None for no bias
        self._weight_names: list[tuple[str, str, str | None, str | None]] = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                names = tuple(base + sfx for base in ("weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh"))
                shapes = [(gh, layer_in), (gh, hidden_size), (gh,), (gh,)][:4 if bias else 2]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(creation.empty(*shape, dtype=dtype,
                                                                 device=device)))
                self._weight_names.append(names if bias else names[:2] + (None, None))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every parameter from U(-1/sqrt(H), 1/sqrt(H)), as PyTorch."""
        _uniform_init(self.parameters(), self.hidden_size)

    # -- what a subclass provides
    def _step(self, xw: Tensor, state: Any, w_hh: Tensor, b_hh: Tensor | None) -> Any:
        """One time step of the cell: the new state from the input part ``xw`` and the state."""
        raise NotImplementedError

    def _sequence(self, xw: Tensor, parts: tuple[Tensor, ...], w_hh: Tensor,
                  b_hh: Tensor | None, mask: Tensor | None, full_steps: int,
                  reverse: bool) -> tuple[Tensor, ...]:
        """The fused op over a whole sequence: (h_t for all t (T, B, H), *final state parts)."""
        raise NotImplementedError

    # a state is h, or for LSTM the pair (h, c): the loop handles it as a tuple of "parts"
    def _state_parts(self, state: Any) -> tuple[Tensor, ...]:
        return (state,) if self.state_tensors == 1 else tuple(state)

    def _from_parts(self, parts: Sequence[Tensor]) -> Any:
        return parts[0] if self.state_tensors == 1 else tuple(parts)

    # -- the time loop
    def forward(self, input: Tensor, hx: Any = None,
                lengths: Sequence[int] | Tensor | None = None) -> tuple[Tensor, Any]:
        """Run the layer over a sequence.

        Args:
            input: (T, B, input_size), or (B, T, input_size) with ``batch_first``, or
                unbatched (T, input_size).
            hx: the initial state, (num_layers * D, B, H) (unbatched: (num_layers * D, H));
                for LSTM a tuple (h0, c0). Zeros if None.
            lengths: optional, one length per batch element (ints or an int tensor), each in
                [0, T]. Steps at or after a sequence's length leave its state unchanged,
                produce 0 in ``output`` and get no gradient; ``h_n`` is then the state after
                each sequence's last real step, and the reverse direction starts there.
                (PyTorch's ``pad_packed_sequence`` output has max(lengths) steps; this output
                keeps the input's T, so ``output[:max(lengths)]`` is the same.)

        Returns:
            ``(output, h_n)``, for LSTM ``(output, (h_n, c_n))``: output is (T, B, D*H) (or
            (B, T, D*H) with ``batch_first``): the last layer's h_t for every t, both
            directions concatenated; h_n and c_n are (num_layers * D, B, H), the final state
            of every layer and direction (layer 0 forward, layer 0 reverse, layer 1, ...).
        """
        x, parts0, batched = self._check_input(input, hx)
        seq_len, batch = x.shape[0], x.shape[1]
        masks, full_steps = self._masks(lengths, seq_len, batch, x, batched)
        fused = _fused_default[0] if self.fused is None else self.fused
        if self._grad_recorder is not None:  # it watches every h_t: only the graph has them
            fused = False
        run = self._run_direction_fused if fused else self._run_direction
        zeros = creation.zeros(batch, self.hidden_size, dtype=x.dtype, device=x.device)
        finals: list[tuple[Tensor, ...]] = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                state = self._from_parts([zeros] * self.state_tensors if parts0 is None
                                         else [p[k] for p in parts0])
                out, state = run(layer_input, state, layer, direction, masks, full_steps)
                outputs.append(out)
                finals.append(self._state_parts(state))
            layer_input = outputs[0] if len(outputs) == 1 else creation.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)

        output = layer_input
        if masks is not None:  # outputs past each sequence's end are 0, as pad_packed_sequence
            output = output * masks[0].to(output.dtype)
        final = [creation.stack([f[i] for f in finals], 0) for i in range(len(finals[0]))]
        if not batched:
            output, final = output.squeeze(1), [f.squeeze(1) for f in final]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, self._from_parts(final)

    def _run_direction(self, x: Tensor, state: Any, layer: int, direction: int,
                       masks: tuple[Tensor, list[Tensor]] | None,
                       full_steps: int) -> tuple[Tensor, Any]:
        """Run one layer in one direction over x (T, B, in); return (T, B, H) and the state."""
        seq_len, batch = x.shape[0], x.shape[1]
        names = self._weight_names[layer * self.num_directions + direction]
        w_ih, w_hh, b_ih, b_hh = (None if n is None else self._parameters[n] for n in names)
        # all steps' input parts in one product; split into per-step (B, G*H) pieces by one
        # node (splitting rows of (T*B, G*H) needs no reshape per step)
        xw = F.linear(x.reshape(seq_len * batch, x.shape[2]), w_ih, b_ih).split(batch, 0)
        hs: list[Tensor] = [None] * seq_len  # type: ignore[list-item]
        for t in (range(seq_len - 1, -1, -1) if direction else range(seq_len)):
            new = self._step(xw[t], state, w_hh, b_hh)
            if masks is not None and t >= full_steps:
                # past its length a sequence keeps its state (and sends no gradient back)
                m = masks[1][t]
                new = self._from_parts([where(m, n, s) for n, s in
                                        zip(self._state_parts(new), self._state_parts(state))])
            state = new
            hs[t] = self._state_parts(state)[0]
            if self._grad_recorder is not None:
                self._grad_recorder.watch(layer, direction, t, hs[t])
        return creation.stack(hs, 0), state

    def _run_direction_fused(self, x: Tensor, state: Any, layer: int, direction: int,
                             masks: tuple[Tensor, list[Tensor]] | None,
                             full_steps: int) -> tuple[Tensor, Any]:
        """As :meth:`_run_direction`, with one fused op for the time loop."""
        seq_len, batch = x.shape[0], x.shape[1]
        names = self._weight_names[layer * self.num_directions + direction]
        w_ih, w_hh, b_ih, b_hh = (None if n is None else self._parameters[n] for n in names)
        xw = F.linear(x.reshape(seq_len * batch, x.shape[2]), w_ih, b_ih)  # all steps at once
        out, *final = self._sequence(xw, self._state_parts(state), w_hh, b_hh,
                                     None if masks is None else masks[0], full_steps,
                                     bool(direction))
        return out, self._from_parts(final)

    # -- checks
    def _check_input(self, input: Tensor, hx: Any) -> tuple[Tensor, Any, bool]:
        """Return x as (T, B, in), the initial state's parts as (L*D, B, H) or None, and
        whether the input was batched."""
        name, n_in = self._name, self.input_size
        layout = f"(B, T, {n_in})" if self.batch_first else f"(T, B, {n_in})"
        expect = f"expected input of shape {layout} (batch_first={self.batch_first})"
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: {expect}, got a {type(input).__name__}; make it a tensor "
                            "with mg.tensor(...)")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: {expect} or unbatched (T, {n_in}), got a "
                             f"{input.ndim}-D tensor of shape {tuple(input.shape)}")
        if input.shape[-1] != n_in:
            raise ValueError(f"{name}: {expect}, got {tuple(input.shape)}: the last dimension "
                             f"must be input_size={n_in}")
        _check_dtype(name, input, self.weight_ih_l0)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if hx is None:
            return x, None, batched
        if self.state_tensors == 2 and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"{name}: expected hx to be a tuple (h0, c0), got "
                            f"{type(hx).__name__}")
        if self.state_tensors == 1 and not isinstance(hx, Tensor):
            raise TypeError(f"{name}: expected hx to be a tensor h0, got {type(hx).__name__}")
        parts = self._state_parts(hx)
        n_states = self.num_layers * self.num_directions
        want = (n_states, x.shape[1], self.hidden_size) if batched else (
            n_states, self.hidden_size)
        for label, p in zip(("h0", "c0"), parts):
            if tuple(p.shape) != want:
                raise ValueError(
                    f"{name}: expected {label} of shape {want} (num_layers * num_directions, "
                    f"{'B, ' if batched else ''}hidden_size) for input of shape "
                    f"{tuple(input.shape)}, got {tuple(p.shape)}")
            _check_dtype(name, p, self.weight_ih_l0, label)
        parts = [p if batched else p.unsqueeze(1) for p in parts]
        return x, [p.unbind(0) for p in parts], batched

    def _masks(self, lengths: Any, seq_len: int, batch: int, x: Tensor,
               batched: bool) -> tuple[tuple[Tensor, list[Tensor]] | None, int]:
        """For ``lengths``: the (T, B, 1) mask of real steps, its per-step (B, 1) slices, and
        how many leading steps are real for every sequence (those need no masking)."""
        if lengths is None:
            return None, seq_len
        if not batched:
            raise ValueError(f"{self._name}: lengths= needs a batched input (T, B, in), got an "
                             "unbatched one")
        lens = [int(n) for n in (lengths.tolist() if isinstance(lengths, Tensor) else lengths)]
        if len(lens) != batch or any(n < 0 or n > seq_len for n in lens):
            raise ValueError(f"{self._name}: lengths must give one length in [0, T={seq_len}] "
                             f"per batch element (B={batch}), got {lens}")
        steps = creation.arange(seq_len, device=x.device).reshape(seq_len, 1, 1)
        mask = steps < creation.tensor(lens, device=x.device).reshape(1, batch, 1)
        return (mask, [mask[t] for t in range(seq_len)]), min(lens)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for key, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                             ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, key) != default:
                s += f", {key}={getattr(self, key)}"
        return s if self.fused is None else s + f", fused={self.fused}"


class RNN(RNNBase):
    """An Elman RNN layer: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), for each layer
    and direction (``nonlinearity="relu"`` for relu).

    Args as ``torch.nn.RNN``: input_size, hidden_size, num_layers=1, nonlinearity="tanh",
    bias=True, batch_first=False, dropout=0.0 (between layers, in training mode),
    bidirectional=False; and ``fused`` (see :class:`RNNBase`). Call
    ``rnn(x, h0=None, lengths=None) -> (output, h_n)``; see :meth:`RNNBase.forward`.

    Example::

        >>> import minigrad as mg
        >>> rnn = mg.nn.RNN(4, 3, num_layers=2)
        >>> out, h_n = rnn(mg.randn(5, 2, 4))
        >>> out.shape, h_n.shape
        ((5, 2, 3), (2, 2, 3))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, *, device: Any = None,
                 dtype: Any = None, fused: bool | None = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, fused=fused)

    def _step(self, xw: Tensor, state: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
        return rnn_cell(xw, state, w_hh, b_hh, self.nonlinearity)

    def _sequence(self, xw: Tensor, parts: tuple[Tensor, ...], w_hh: Tensor,
                  b_hh: Tensor | None, mask: Tensor | None, full_steps: int,
                  reverse: bool) -> tuple[Tensor, ...]:
        return rnn_fused.rnn_sequence(xw, w_hh, b_hh, parts[0], mask, full_steps, reverse,
                                      self.nonlinearity)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + ", nonlinearity='relu'"


class LSTM(RNNBase):
    """A long short-term memory layer; the cell equations are in :func:`lstm_cell`.

    Args as ``torch.nn.LSTM`` (input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False), and ``fused`` (see
    :class:`RNNBase`). Call ``lstm(x, (h0, c0)=None, lengths=None) -> (output, (h_n, c_n))``; see
    :meth:`RNNBase.forward`. ``weight_ih_l{k}`` is (4H, in), gates (i, f, g, o).

    Example::

        >>> import minigrad as mg
        >>> lstm = mg.nn.LSTM(4, 3, batch_first=True, bidirectional=True)
        >>> out, (h_n, c_n) = lstm(mg.randn(2, 5, 4))
        >>> out.shape, h_n.shape, c_n.shape
        ((2, 5, 6), (2, 2, 3), (2, 2, 3))
    """

    gates = 4
    state_tensors = 2
    _name = "LSTM"

    def _step(self, xw: Tensor, state: LSTMState, w_hh: Tensor,
              b_hh: Tensor | None) -> LSTMState:
        return lstm_cell(xw, state, w_hh, b_hh)

    def _sequence(self, xw: Tensor, parts: tuple[Tensor, ...], w_hh: Tensor,
                  b_hh: Tensor | None, mask: Tensor | None, full_steps: int,
                  reverse: bool) -> tuple[Tensor, ...]:
        return rnn_fused.lstm_sequence(xw, w_hh, b_hh, parts[0], parts[1], mask, full_steps,
                                       reverse)


class GRU(RNNBase):
    """A gated recurrent unit layer; the cell equations are in :func:`gru_cell`.

    Args as ``torch.nn.GRU`` (input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False), plus ``reset_after`` (True:
    PyTorch's form; False: Cho et al.'s, see :func:`gru_cell`) and ``fused`` (see
    :class:`RNNBase`). Call
    ``gru(x, h0=None, lengths=None) -> (output, h_n)``; see :meth:`RNNBase.forward`.

    Example::

        >>> import minigrad as mg
        >>> out, h_n = mg.nn.GRU(4, 3)(mg.randn(5, 2, 4))
        >>> out.shape, h_n.shape
        ((5, 2, 3), (1, 2, 3))
    """

    gates = 3
    _name = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, reset_after: bool = True, *, device: Any = None,
                 dtype: Any = None, fused: bool | None = None) -> None:
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype, fused=fused)

    def _step(self, xw: Tensor, state: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
        return gru_cell(xw, state, w_hh, b_hh, self.reset_after)

    def _sequence(self, xw: Tensor, parts: tuple[Tensor, ...], w_hh: Tensor,
                  b_hh: Tensor | None, mask: Tensor | None, full_steps: int,
                  reverse: bool) -> tuple[Tensor, ...]:
        return rnn_fused.gru_sequence(xw, w_hh, b_hh, parts[0], mask, full_steps, reverse,
                                      self.reset_after)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"


# ---------------------------------------------------------------------- helpers


def _check_sizes(name: str, input_size: int, hidden_size: int) -> None:
    for label, n in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"{name}: {label} must be a positive int, got {n!r}")


def _check_dtype(name: str, x: Tensor, weight: Tensor, what: str = "input") -> None:
    # mixing would silently promote the whole graph (and the weight gradients) to float64
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: {what} is {x.dtype} but the parameters are {weight.dtype}; "
                        f"convert it, e.g. {what}.to({weight.dtype.name!r}), or the module, "
                        f"module.to({x.dtype.name!r})")


def _uniform_init(params: Any, hidden_size: int) -> None:
    bound = 1.0 / math.sqrt(hidden_size)
    with no_grad():
        for p in params:
            p.uniform_(-bound, bound)
