"""Recurrent layers: RNN, LSTM, GRU and :class:`Recurrent`, the plumbing around the cells.

The equations of each cell live in :mod:`minigrad.nn.cells` (re-exported here). A layer owns the
parameters and runs a cell over a sequence: layers, directions, initial and final states,
``batch_first``, ``lengths=`` and dropout between layers. :class:`Recurrent` does the same for
any cell Module, yours included.

Two paths, same cell. ``fused=False`` unrolls the cell into one graph node per op and step;
BPTT is the engine walking that graph back. ``fused=True`` (the default) hands the same cell
function to the recurrence compiler (:mod:`minigrad.jit`): it traces one step and runs the
sequence as ONE node per layer and direction, whose backward replays the recorded ops' own
backward rules in reverse time. Nothing is written by hand for BPTT on either path. Choose per
layer with ``fused=True|False`` or, for every layer that does not say, with
:func:`set_fused_default` or ``with use_fused(False): ...``. Both paths give the same outputs
and gradients (tests/test_fused.py checks every option). The compiled path gives first
derivatives only: for gradients of gradients use ``fused=False``.
"""

from __future__ import annotations

from typing import Any, Sequence

from minigrad import creation
from minigrad.jit import TraceCache, scan
from minigrad.nn import functional as F
from minigrad.nn.cells import (
    GRUCell,
    LSTMCell,
    LSTMState,
    RNNCell,
    RNNCellBase,
    _check_dtype,
    _check_sizes,
    _uniform_init,
    gru_cell,
    lstm_cell,
    rnn_cell,
)
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor, where

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "LSTMState", "RNNBase", "RNNCell",
           "RNNCellBase", "Recurrent", "gru_cell", "is_fused_default", "lstm_cell", "rnn_cell",
           "set_fused_default", "use_fused"]

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

    ``fused``: True runs each layer and direction as one node over the whole sequence, compiled
    from the cell function by :mod:`minigrad.jit` (first derivatives only), False builds the
    graph of the cells step by step, None (default) follows :func:`set_fused_default` (True
    unless changed). Both compute the same values and gradients.
    """

    gates = 1  # G: gate blocks stacked in weight_ih / weight_hh
    state_tensors = 1  # h; LSTM: (h, c)
    _name = "RNN"
    _grad_recorder: Any = None  # set by nn.utils.record_hidden_grad_norms
    _traces: TraceCache | None = None  # the compiled path's traced steps, made on first use

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
        if lengths is not None and not batched:
            raise ValueError(f"{self._name}: lengths= needs a batched input (T, B, in), got an "
                             "unbatched one")
        masks, full_steps = length_masks(self._name, lengths, seq_len, batch, x.device)
        fused = _fused_default[0] if self.fused is None else self.fused
        if self._grad_recorder is not None:  # it watches every h_t: only the graph has them
            fused = False
        zeros = creation.zeros(batch, self.hidden_size, dtype=x.dtype, device=x.device)
        finals: list[tuple[Tensor, ...]] = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                state = self._from_parts([zeros] * self.state_tensors if parts0 is None
                                         else [p[k] for p in parts0])
                out, state = self._run_direction(layer_input, state, layer, direction,
                                                 masks, full_steps, fused)
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
                       masks: tuple[Tensor, list[Tensor]] | None, full_steps: int,
                       fused: bool) -> tuple[Tensor, Any]:
        """Run one layer in one direction over x (T, B, in); return (T, B, H) and the state."""
        seq_len, batch = x.shape[0], x.shape[1]
        names = self._weight_names[layer * self.num_directions + direction]
        w_ih, w_hh, b_ih, b_hh = (None if n is None else self._parameters[n] for n in names)
        # all steps' input parts in one product, (T*B, G*H)
        xw = F.linear(x.reshape(seq_len * batch, x.shape[2]), w_ih, b_ih)

        def step(xs: Sequence[Tensor], parts: Sequence[Tensor],
                 params: Sequence[Any]) -> tuple[Tensor, ...]:
            return self._state_parts(self._step(xs[0], self._from_parts(parts), *params))

        watch = None
        if self._grad_recorder is not None:
            def watch(t: int, h: Tensor) -> None:
                self._grad_recorder.watch(layer, direction, t, h)
        if fused:
            if self._traces is None:
                self._traces = TraceCache()
            out, final = scan(step, [xw.reshape(seq_len, batch, -1)], self._state_parts(state),
                              (w_hh, b_hh), cache=self._traces,
                              mask=None if masks is None else masks[0].data,
                              full_steps=full_steps, reverse=bool(direction),
                              key=_trace_key(self), name=self._name)
        else:
            # split into per-step (B, G*H) pieces by one node (no reshape per step)
            out, final = unroll(step, [xw.split(batch, 0)], self._state_parts(state),
                                (w_hh, b_hh), masks, full_steps, bool(direction), watch)
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
        _check_device(name, input, self.weight_ih_l0, "input", "the parameters are")
        batched = input.ndim == 3
        if batched and 0 in input.shape[:2]:
            raise ValueError(f"{name}: got an empty input of shape {tuple(input.shape)}; a "
                             "sequence needs at least one step and one batch element")
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
            _check_device(name, p, self.weight_ih_l0, label, "the parameters are")
        parts = [p if batched else p.unsqueeze(1) for p in parts]
        return x, [p.unbind(0) for p in parts], batched

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


    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"


# ---------------------------------------------------------------------- any cell


class Recurrent(Module):
    """Run any cell Module over a sequence: ``state = cell(x_t, state)`` for t = 0..T-1.

    The cell takes one step's input x_t (B, in) and the state, a Tensor or a tuple of Tensors,
    and returns the new state in the same form; its first Tensor is the step's output (h_t).
    ``RNNCell``, ``LSTMCell``, ``GRUCell`` and your own cells fit.

    Args:
        cell: the cell Module.
        batch_first: inputs and outputs are (B, T, ...) instead of (T, B, ...).
        fused: True compiles the cell (:mod:`minigrad.jit`: one node for the sequence, first
            derivatives only), False unrolls its graph, None follows :func:`set_fused_default`.
        reverse: run from t = T-1 down to 0 (the second direction of a bidirectional layer).

    ``forward(x, state=None, lengths=None) -> (outputs, final_state)``: outputs (T, B, H) (or
    (B, T, H)) stacks the output of every step. ``state=None`` starts from
    ``cell.initial_state(batch)`` (the built-in cells give zeros; give your cell that method, or
    pass a state). ``lengths`` as :meth:`RNNBase.forward`: past its length a sequence keeps its
    state, outputs 0 and gets no gradient.

    Example::

        >>> import minigrad as mg
        >>> layer = mg.nn.Recurrent(mg.nn.GRUCell(4, 3))
        >>> out, h = layer(mg.randn(5, 2, 4), lengths=[5, 3])
        >>> out.shape, h.shape
        ((5, 2, 3), (2, 3))
    """

    _traces: TraceCache | None = None

    def __init__(self, cell: Module, batch_first: bool = False, fused: bool | None = None, *,
                 reverse: bool = False) -> None:
        super().__init__()
        if not isinstance(cell, Module):
            raise TypeError(f"Recurrent: cell must be a Module (e.g. nn.LSTMCell(4, 8), or your "
                            f"own Module whose forward is (x_t, state) -> state), got "
                            f"{type(cell).__name__}")
        self.cell, self.batch_first, self.fused, self.reverse = cell, batch_first, fused, reverse

    def forward(self, input: Tensor, state: Any = None,
                lengths: Sequence[int] | Tensor | None = None) -> tuple[Tensor, Any]:
        name = f"Recurrent({type(self.cell).__name__})"
        if not isinstance(input, Tensor) or input.ndim < 3:
            raise ValueError(f"{name}: expected input of shape "
                             f"{'(B, T, ...)' if self.batch_first else '(T, B, ...)'}, got "
                             f"{_describe(input)}")
        x = input.transpose(0, 1) if self.batch_first else input
        seq_len, batch = x.shape[0], x.shape[1]
        if seq_len == 0 or batch == 0:
            raise ValueError(f"{name}: got an empty input of shape {tuple(input.shape)}; a "
                             "sequence needs at least one step and one batch element")
        if state is None:
            if not hasattr(self.cell, "initial_state"):
                raise TypeError(f"{name}: state=None needs cell.initial_state(batch) to make "
                                "the first state; define it on your cell or pass state=")
            state = self.cell.initial_state(batch)
        single = isinstance(state, Tensor)
        parts = (state,) if single else tuple(state)
        for i, p in enumerate(parts):
            label = "state" if single else f"state[{i}]"
            if not isinstance(p, Tensor) or p.ndim < 1 or p.shape[0] != batch:
                raise ValueError(f"{name}: {label} must be a Tensor of shape (B={batch}, ...), "
                                 f"got {_describe(p)}")
            _check_dtype(name, p, x, label, "the input is", "the input, input")
            _check_device(name, p, x, label, "the input is")
        masks, full_steps = length_masks(name, lengths, seq_len, batch, x.device)
        fused = _fused_default[0] if self.fused is None else self.fused

        def step(xs: Sequence[Tensor], st: Sequence[Tensor], params: Sequence[Any]) -> Any:
            return self.cell(xs[0], st[0] if single else tuple(st))

        if fused:
            if self._traces is None:
                self._traces = TraceCache()
            out, final = scan(step, [x], parts, (), cache=self._traces,
                              mask=None if masks is None else masks[0].data,
                              full_steps=full_steps, reverse=self.reverse,
                              key=_trace_key(self.cell), name=name)
        else:
            out, final = unroll(step, [x.unbind(0)], parts, (), masks, full_steps, self.reverse)
        if masks is not None:
            out = out * masks[0].to(out.dtype)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, final[0] if single else tuple(final)

    def extra_repr(self) -> str:
        opts = [f"{k}={getattr(self, k)}" for k in ("batch_first", "fused", "reverse")
                if getattr(self, k) not in (False, None)]
        return ", ".join(opts)


# ---------------------------------------------------------------------- shared by the layers


def _trace_key(module: Module) -> tuple:
    """What of ``module``'s own state a traced step may have read: every submodule's Python
    numbers, strings and flags (``training`` among them) by value, its tensors (parameters,
    buffers, attributes) by identity and whether they require a gradient.

    The compiled path replays a recording, and a recording holds such values as they were.
    With them in the trace's key, changing one (``cell.temperature = 2.0``, a tensor replaced
    by another) makes the next call trace again instead of replaying stale values. Changing a
    tensor's values in place needs nothing: the recording reads the same tensor.
    """
    return tuple((k, (id(v), v.requires_grad) if isinstance(v, Tensor) else v)
                 for m in module.modules()
                 for k, v in (*vars(m).items(), *m._parameters.items(), *m._buffers.items())
                 if v is None or isinstance(v, (bool, int, float, str, Tensor)))


def unroll(step: Any, xs: Sequence[Sequence[Tensor]], state: Sequence[Tensor],
           params: Sequence[Any], masks: tuple[Tensor, list[Tensor]] | None, full_steps: int,
           reverse: bool, watch: Any = None) -> tuple[Tensor, tuple[Tensor, ...]]:
    """The graph path: call ``step`` for every t, building the graph of the whole sequence.

    ``xs`` holds per-step inputs (each indexable by t). Returns part 0 of the state after every
    step, stacked (T, B, ...), and the final state's parts. Past its length (``masks``) a
    sequence keeps its state, and that step sends no gradient back through the cell.
    """
    seq_len = len(xs[0])
    state = tuple(state)
    hs: list[Tensor] = [None] * seq_len  # type: ignore[list-item]
    for t in (range(seq_len - 1, -1, -1) if reverse else range(seq_len)):
        new = step([x[t] for x in xs], state, params)
        new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        if masks is not None and t >= full_steps:
            m = masks[1][t]
            new = tuple(where(m, n, s) for n, s in zip(new, state))
        state = new
        hs[t] = state[0]
        if watch is not None:
            watch(t, hs[t])
    return creation.stack(hs, 0), state


def length_masks(name: str, lengths: Any, seq_len: int, batch: int,
                 device: Any) -> tuple[tuple[Tensor, list[Tensor]] | None, int]:
    """For ``lengths``: the (T, B, 1) mask of real steps, its per-step (B, 1) slices, and how
    many leading steps are real for every sequence (those need no masking)."""
    if lengths is None:
        return None, seq_len
    values = lengths.tolist() if isinstance(lengths, Tensor) else lengths
    if isinstance(lengths, Tensor) and lengths.dtype.kind not in "iu":
        raise TypeError(f"{name}: lengths must hold integers, got a {lengths.dtype} tensor; "
                        "convert it with lengths.long()")
    if not isinstance(values, (list, tuple)) and not hasattr(values, "tolist"):
        raise TypeError(f"{name}: lengths must be a sequence of ints (one per batch element), "
                        f"got {type(lengths).__name__}")
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    if any(isinstance(n, (list, tuple)) for n in values):
        raise ValueError(f"{name}: lengths must be one-dimensional (one length per batch "
                         f"element, B={batch}), got nested values {values}")
    for n in values:
        if isinstance(n, bool) or not isinstance(n, int) and not _is_int(n):
            raise TypeError(f"{name}: lengths must be integers, got {n!r} in {values}; a "
                            "length counts steps, so round it yourself if you mean to")
    lens = [int(n) for n in values]
    if len(lens) != batch or any(n < 0 or n > seq_len for n in lens):
        raise ValueError(f"{name}: lengths must give one length in [0, T={seq_len}] per batch "
                         f"element (B={batch}), got {lens}")
    steps = creation.arange(seq_len, device=device).reshape(seq_len, 1, 1)
    mask = steps < creation.tensor(lens, device=device).reshape(1, batch, 1)
    return (mask, [mask[t] for t in range(seq_len)]), min(lens)


def _is_int(n: Any) -> bool:
    """NumPy integer scalars count as ints; bools and floats do not."""
    kind = getattr(getattr(n, "dtype", None), "kind", "")
    return kind in "iu" and kind != ""


def _check_device(name: str, t: Tensor, like: Tensor, what: str = "input",
                  other: str = "the parameters are") -> None:
    if t.device != like.device:
        raise RuntimeError(f"{name}: {what} is on {t.device} but {other} on {like.device}; "
                           f"move it with {what}.to({str(like.device)!r})")


def _describe(x: Any) -> str:
    if isinstance(x, Tensor):
        return f"a tensor of shape {tuple(x.shape)}"
    return f"a {type(x).__name__}"

