"""The hand-written fused recurrent ops minigrad's layers ran before minigrad/jit, kept as the
benchmark row ``mg-hand`` (benchmarks/rnn.py) that the compiled path is measured against. It is
a second copy of every cell's equations with a hand-derived BPTT: exactly what the compiler
replaced. Not part of the library. Its original description follows.

Fused recurrent layers: one op per layer and direction runs a whole sequence.

The graph cells of :mod:`minigrad.nn.rnn` build about a dozen nodes per time step; that is
readable, but a training step of a small LSTM then spends more time in per-node overhead and
fresh temporaries than in arithmetic. The ops here compute exactly the same equations (the
docstrings of :func:`~minigrad.nn.rnn.rnn_cell`, :func:`~minigrad.nn.rnn.lstm_cell` and
:func:`~minigrad.nn.rnn.gru_cell`, same notation) as ONE node for the whole sequence:

- forward loops over time with preallocated buffers: per step one matrix product
  h_{t-1} W_hh^T written straight into the step's slice of the gates buffer, then the
  elementwise gate math in place. The input part x_t W_ih^T + b_ih of all steps arrives already
  computed by one matrix product (the layer's ``Linear``), as ``xw`` of shape (T*B, G*H).
- backward is backpropagation through time written out by hand: a reverse sweep of per-step
  elementwise math plus one (B, G*H) @ (G*H, H) product for dL/dh_{t-1}. The weight gradients
  of all steps are ONE product after the sweep, dL/dW_hh = sum_t dgates_t^T h_{t-1} as
  (G*H, T*B) @ (T*B, H), and dL/d(xw) is returned for all steps at once, so the layer's
  ``Linear`` backward makes dL/dW_ih with one product too.

The elementwise math of a step is written once, as plain functions of the array module
(:func:`lstm_pointwise`, :func:`gru_pointwise`, ... ): on NumPy they run ufunc by ufunc on
preallocated buffers (``out=``); on CuPy :func:`pointwise_kernel` compiles the same function
into one GPU kernel with ``cupy.fuse``. tests/test_fused.py checks every output and gradient
against the graph cells.

Padded steps (``mask``/``full_steps``) follow the graph path exactly: past its length a
sequence keeps its state, and that step sends no gradient to the weights or to ``xw``.

Saved for backward: the gate activations (T, B, G*H), the hidden states h_0..h_T, the cell
states c_0..c_T (LSTM), W_hh n_t-part products (GRU), nothing else. Only first derivatives:
these ops' backward runs on raw arrays, so gradients of gradients (``create_graph=True``) are
not available through them; use the graph path (``fused=False``) for that.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable

from minigrad.autograd.function import Op
from minigrad.autograd.graph import TensorBase as Tensor  # the ops layer sits below Tensor
from minigrad.ops.common import xp_of

# ---------------------------------------------------------------------- the elementwise math
#
# Each function takes the array module ``xp`` and (B, H) arrays of one time step, and writes
# its results into the arrays passed as outputs. Only ufuncs, arithmetic operators and ``out=``
# are used (no slicing, no ``where``), which is exactly what ``cupy.fuse`` compiles.
# Expressions are evaluated in the same order as the graph cells' ops, so on NumPy the forward
# values are bit for bit those of the graph path.
#
# Layout, for NumPy's sake: a gate block of a (B, G*H) row is a strided view, and NumPy's
# ufuncs run 2-4x slower on those than on contiguous arrays at these sizes. So the saved gate
# activations are stored gate-major, (T, G, B, H): the kernels read the pre-activations once
# from strided views and do everything else on contiguous (B, H) arrays.


def sigmoid(xp: Any, z: Any, out: Any) -> None:
    """out = sigma(z) = 1 / (1 + e^-z), computed as the Sigmoid op does.

    (The Sigmoid op first caps -z at 80 in float32, where e^-z would overflow to inf, to avoid
    NumPy's warning; here the forward loop silences the warning instead, saving one pass. The
    result differs only for z < -80, by less than 2e-35.)
    """
    xp.negative(z, out=out)
    xp.exp(out, out=out)
    out += 1
    xp.reciprocal(out, out=out)


def lstm_pointwise(xp: Any, zi: Any, zf: Any, zg: Any, zo: Any, i: Any, f: Any, g: Any,
                   o: Any, c_prev: Any, c: Any, h: Any) -> None:
    """One LSTM step after the matrix products (:func:`~minigrad.nn.rnn.lstm_cell`); z* are
    the gates' pre-activations, i, f, g, o their activations (saved for backward)::

        i, f, o = sigma(zi), sigma(zf), sigma(zo);  g = tanh(zg)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)
    """
    sigmoid(xp, zi, i)
    sigmoid(xp, zf, f)
    xp.tanh(zg, out=g)
    sigmoid(xp, zo, o)
    xp.multiply(f, c_prev, out=c)
    xp.multiply(i, g, out=h)  # h as scratch: no temporary
    c += h
    xp.tanh(c, out=h)
    h *= o


def lstm_pointwise_backward(xp: Any, i: Any, f: Any, g: Any, o: Any, c_prev: Any, c: Any,
                            dh: Any, dc: Any, di: Any, df: Any, dg: Any, do: Any) -> None:
    """Backward of :func:`lstm_pointwise` (gates already activated).

    In: dh = dL/dh_t, dc = dL/dc_t from later steps and the outputs. Out: di, df, dg, do =
    dL/d(pre-activations), and dc <- dL/dc_{t-1}::

        dc_t   += dh * o * (1 - tanh(c_t)^2)
        do      = dh * tanh(c_t) * o * (1 - o)
        di      = dc_t * g * i * (1 - i)
        df      = dc_t * c_{t-1} * f * (1 - f)
        dg      = dc_t * i * (1 - g^2)
        dc_{t-1} = dc_t * f
    """
    tanh_c = xp.tanh(c)  # recomputed rather than saved: cheaper than (T, B, H) more memory
    dc += dh * o * (1 - tanh_c * tanh_c)
    xp.multiply(dh * tanh_c * o, 1 - o, out=do)
    xp.multiply(dc * g * i, 1 - i, out=di)
    xp.multiply(dc * c_prev * f, 1 - f, out=df)
    xp.multiply(dc * i, 1 - g * g, out=dg)
    dc *= f


def gru_pointwise(xp: Any, x_r: Any, x_z: Any, x_n: Any, h_r: Any, h_z: Any, h_n: Any,
                  h_prev: Any, r: Any, z: Any, n: Any, h: Any) -> None:
    """One GRU step, reset_after=True (:func:`~minigrad.nn.rnn.gru_cell`); x_* are the input
    parts, h_* = W_h* h_{t-1} + b_h* the hidden parts of the three gates::

        r_t = sigma(x_r + h_r);  z_t = sigma(x_z + h_z)
        n_t = tanh(x_n + r_t * h_n)
        h_t = n_t + z_t * (h_{t-1} - n_t)          (= (1 - z_t) * n_t + z_t * h_{t-1})
    """
    xp.add(x_r, h_r, out=r)
    sigmoid(xp, r, r)
    xp.add(x_z, h_z, out=z)
    sigmoid(xp, z, z)
    xp.multiply(r, h_n, out=h)  # h as scratch
    xp.add(x_n, h, out=n)
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)
    h *= z
    h += n


def gru_pointwise_backward(xp: Any, r: Any, z: Any, n: Any, h_n: Any, h_prev: Any, dh: Any,
                           dr: Any, dz: Any, dhn: Any, dn: Any) -> None:
    """Backward of :func:`gru_pointwise`. In: dh = dL/dh_t, replaced by its direct part
    dL/dh_{t-1} = dh * z_t. Out: dr, dz, dn = dL/d(pre-activations), dhn = dL/dh_n::

        dn  = (dh - dh * z_t) * (1 - n_t^2)
        dhn = dn * r_t
        dr  = dn * h_n * r_t * (1 - r_t)
        dz  = dh * (h_{t-1} - n_t) * z_t * (1 - z_t)
    """
    xp.multiply(dh - dh * z, 1 - n * n, out=dn)
    xp.multiply(dn, r, out=dhn)
    xp.multiply(dn * h_n * r, 1 - r, out=dr)
    xp.multiply(dh * (h_prev - n) * z, 1 - z, out=dz)
    dh *= z


def gru_textbook_gates(xp: Any, x_r: Any, x_z: Any, h_r: Any, h_z: Any, h_prev: Any, r: Any,
                       z: Any, rh: Any) -> None:
    """First half of a reset_after=False GRU step (Cho et al.)::

        r_t = sigma(x_r + h_r);  z_t = sigma(x_z + h_z);  rh = r_t * h_{t-1}

    (then rh W_hn^T + b_hn is one matrix product, and :func:`gru_textbook_output` finishes).
    """
    xp.add(x_r, h_r, out=r)
    sigmoid(xp, r, r)
    xp.add(x_z, h_z, out=z)
    sigmoid(xp, z, z)
    xp.multiply(r, h_prev, out=rh)


def gru_textbook_output(xp: Any, x_n: Any, rh_n: Any, z: Any, h_prev: Any, n: Any,
                        h: Any) -> None:
    """Second half: n_t = tanh(x_n + W_hn (r_t * h_{t-1}) + b_hn), h_t = n_t + z_t * (h_{t-1}
    - n_t); ``rh_n`` is the product W_hn (r_t * h_{t-1}) + b_hn."""
    xp.add(x_n, rh_n, out=n)
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)
    h *= z
    h += n


def gru_textbook_backward_output(xp: Any, z: Any, n: Any, h_prev: Any, dh: Any, dz: Any,
                                 dn: Any) -> None:
    """Backward of :func:`gru_textbook_output`: dz, dn = dL/d(pre-activations) of z and n;
    dh <- its direct part dh * z_t (dL/d(r_t h_{t-1}) = dn W_hn comes next, by a product)."""
    xp.multiply(dh - dh * z, 1 - n * n, out=dn)
    xp.multiply(dh * (h_prev - n) * z, 1 - z, out=dz)
    dh *= z


def gru_textbook_backward_gates(xp: Any, r: Any, h_prev: Any, drh: Any, dh: Any,
                                dr: Any) -> None:
    """Backward of rh = r_t * h_{t-1}: dr = drh * h_{t-1} * r_t * (1 - r_t), dh += drh * r_t."""
    xp.multiply(drh * h_prev * r, 1 - r, out=dr)
    dh += drh * r


def tanh_backward(xp: Any, h: Any, dh: Any, da: Any) -> None:
    """da = dh * (1 - h^2): back through h = tanh(a), the Elman cell's activation."""
    xp.multiply(dh, 1 - h * h, out=da)


def relu_backward(xp: Any, h: Any, dh: Any, da: Any) -> None:
    """da = dh where h > 0, else 0: back through h = relu(a)."""
    xp.multiply(dh, h > 0, out=da)


_KERNELS: dict[tuple[int, Callable], Callable] = {}


def pointwise_kernel(xp: Any, fn: Callable) -> Callable:
    """``fn`` bound to the array module: on CuPy one fused GPU kernel, elsewhere the function.

    ``cupy.fuse`` traces ``fn`` once per dtype and compiles its ufunc calls into a single
    elementwise kernel; in-place updates and ``out=`` arguments write to the arrays passed in.
    NumPy has no ``fuse``, so there the function runs ufunc by ufunc (NumPy's SIMD ufuncs are
    the fastest CPU option here, see benchmarks/README.md).
    """
    key = (id(xp), fn)
    kernel = _KERNELS.get(key)
    if kernel is None:
        def bound(*arrays: Any) -> None:
            fn(xp, *arrays)

        fuse = getattr(xp, "fuse", None)
        kernel = bound if fuse is None else fuse(kernel_name=fn.__name__)(bound)
        _KERNELS[key] = kernel
    return kernel


# ---------------------------------------------------------------------- shared scaffolding


class _Sequence:
    """Shapes, step order and the hidden-state buffer of one direction over a sequence.

    ``hbuf`` (T+1, B, H) holds every state. Forward direction: hbuf[0] = h_0 and hbuf[t+1] is
    the state after step t. Reverse direction: hbuf[T] = h_0 and hbuf[t] is the state after
    step t (steps run T-1 .. 0). Either way ``prev[t]`` is the state step t reads and
    ``nxt[t]`` the one it writes, both contiguous slices, so the output is ``nxt`` as is and
    dW_hh takes ``prev`` as one (T*B, H) matrix.
    """

    def __init__(self, xw: Any, h0: Any, reverse: bool, mask: Any, full_steps: int) -> None:
        self.xp = xp = xp_of(xw)
        self.batch, self.hidden = h0.shape
        self.steps = xw.shape[0] // self.batch
        self.dtype = xw.dtype
        self.reverse = reverse
        self.hbuf = xp.empty((self.steps + 1,) + h0.shape, self.dtype)
        self.prev, self.nxt = self.split(self.hbuf)
        self.start(self.hbuf)[...] = h0
        # steps at or after min(lengths) hold padding for some sequence: only those are masked
        self.keep = None if mask is None else ~mask  # (T, B, 1): True where the state is kept
        self.full_steps = self.steps if mask is None else full_steps

    def split(self, buf: Any) -> tuple[Any, Any]:
        """(prev, nxt) views of a (T+1, B, H) state buffer."""
        return (buf[1:], buf[:-1]) if self.reverse else (buf[:-1], buf[1:])

    def start(self, buf: Any) -> Any:
        return buf[-1] if self.reverse else buf[0]

    def final(self, buf: Any) -> Any:
        return buf[0] if self.reverse else buf[-1]

    def order(self, backward: bool = False) -> range:
        """Time indices in the order the forward pass visits them (or its reverse)."""
        forward = range(self.steps - 1, -1, -1) if self.reverse else range(self.steps)
        return forward[::-1] if backward else forward

    def keep_state(self, t: int, new: Any, old: Any) -> None:
        """Forward at a padded step: sequences past their length keep ``old``."""
        if t >= self.full_steps:
            self.xp.copyto(new, old, where=self.keep[t])

    def split_grad(self, t: int, *grads: Any) -> tuple[Any, ...]:
        """Backward at a padded step: take out the part of each state gradient that belongs to
        sequences past their length (it goes straight to the previous state, returned), and
        leave the rest, zero there, to flow through the cell."""
        if t < self.full_steps:
            return ()
        carried = []
        for g in grads:
            c = self.xp.zeros_like(g)
            self.xp.copyto(c, g, where=self.keep[t])
            self.xp.copyto(g, 0, where=self.keep[t])
            carried.append(c)
        return tuple(carried)

    def state_grad(self, g: Any) -> Any:
        """A writable copy of the incoming gradient of a final state (zeros if none came)."""
        return self.xp.zeros((self.batch, self.hidden), self.dtype) if g is None else g.copy()

    def rows(self, a: Any) -> Any:
        """A (T, B, n) buffer as the (T*B, n) matrix of all steps (a view: buffers are
        contiguous)."""
        return a.reshape(self.steps * self.batch, a.shape[-1])

    def weight_grads(self, ctx: Any, dgates: Any, inputs: Any) -> tuple[Any, Any]:
        """dL/dW_hh and dL/db_hh of all steps at once (None where not needed): dW_hh is ONE
        (G*H, T*B) @ (T*B, H) product of the gates' gradients and the states they read."""
        need_w, need_b = ctx.needs_input_grad[1:3]
        flat = self.rows(dgates)
        dw = flat.T @ self.rows(inputs) if need_w else None
        db = flat.sum(axis=0) if need_b and ctx.has_bias else None
        return dw, db


def _quiet(xp: Any) -> Any:
    """NumPy: no overflow warnings from e^-z in the sigmoids (1 / (1 + inf) = 0 is right)."""
    errstate = getattr(xp, "errstate", None)  # CuPy has none, and does not warn
    return errstate(over="ignore") if errstate is not None else contextlib.nullcontext()


def _check_first_order(name: str, grads: tuple) -> None:
    if any(isinstance(g, Tensor) for g in grads):
        raise RuntimeError(f"{name}: gradients of gradients (create_graph=True) are not "
                           "supported through the fused recurrent path; build the layer with "
                           "fused=False (graph cells) for higher-order derivatives")


# ---------------------------------------------------------------------- LSTM


class FusedLSTM(Op):
    """A whole LSTM sequence in one direction (equations in :func:`lstm_pointwise`).

    Inputs: xw (T*B, 4H) = x_t W_ih^T + b_ih for all steps (rows t*B .. t*B+B-1 are step t),
    W_hh (4H, H), b_hh (4H,) or None, h_0, c_0 (B, H), mask (T, B, 1) bool or None (True at
    real steps), full_steps (steps before it need no mask), reverse.
    Outputs: h_t for all t (T, B, H) in time order, h_T, c_T (B, H) (the final states; with a
    mask, each sequence's state after its last real step).
    """

    save_inputs = (1,)  # W_hh; xw, h_0, c_0 are copied into the saved buffers
    save_output = True  # the outputs are views of saved buffers: changing them is an error

    @staticmethod
    def forward(ctx: Any, xw: Any, w_hh: Any, b_hh: Any, h0: Any, c0: Any, mask: Any,
                full_steps: int, reverse: bool) -> tuple:
        seq = _Sequence(xw, h0, reverse, mask, full_steps)
        xp, hid = seq.xp, seq.hidden
        xw = xw.reshape(seq.steps, seq.batch, 4 * hid)
        gates = xp.empty((seq.steps, 4, seq.batch, hid), seq.dtype)  # i, f, g, o activated
        cbuf = xp.empty_like(seq.hbuf)
        c_prev, c_next = seq.split(cbuf)
        seq.start(cbuf)[...] = c0
        z = xp.empty((seq.batch, 4 * hid), seq.dtype)  # this step's pre-activations
        w_t = w_hh.T
        kernel = pointwise_kernel(xp, lstm_pointwise)
        with _quiet(xp):
            for t in seq.order():
                xp.matmul(seq.prev[t], w_t, out=z)
                if b_hh is not None:
                    z += b_hh
                z += xw[t]  # xw + (h W_hh^T + b_hh), as the graph cell adds them
                kernel(z[:, :hid], z[:, hid:2 * hid], z[:, 2 * hid:3 * hid], z[:, 3 * hid:],
                       *gates[t], c_prev[t], c_next[t], seq.nxt[t])
                if mask is not None:
                    seq.keep_state(t, seq.nxt[t], seq.prev[t])
                    seq.keep_state(t, c_next[t], c_prev[t])
        ctx.seq, ctx.gates, ctx.cbuf, ctx.w_hh = seq, gates, cbuf, w_hh
        ctx.has_bias = b_hh is not None
        return seq.nxt, seq.final(seq.hbuf), seq.final(cbuf)

    @staticmethod
    def backward(ctx: Any, g_out: Any, g_h: Any, g_c: Any) -> tuple:
        _check_first_order("FusedLSTM", (g_out, g_h, g_c))
        seq, gates, w_hh = ctx.seq, ctx.gates, ctx.w_hh
        xp, hid = seq.xp, seq.hidden
        c_prev, c_next = seq.split(ctx.cbuf)
        dgates = xp.empty((seq.steps, seq.batch, 4 * hid), seq.dtype)  # = dL/dxw, all steps
        dh, dc = seq.state_grad(g_h), seq.state_grad(g_c)  # dL/dh_t, dL/dc_t, running back
        kernel = pointwise_kernel(xp, lstm_pointwise_backward)
        for t in seq.order(backward=True):
            if g_out is not None:
                dh += g_out[t]
            carried = seq.split_grad(t, dh, dc)
            d = dgates[t]
            kernel(*gates[t], c_prev[t], c_next[t], dh, dc,
                   d[:, :hid], d[:, hid:2 * hid], d[:, 2 * hid:3 * hid], d[:, 3 * hid:])
            xp.matmul(d, w_hh, out=dh)  # dL/dh_{t-1} = dgates_t W_hh
            if carried:
                dh += carried[0]
                dc += carried[1]
        dw, db = seq.weight_grads(ctx, dgates, seq.prev)
        dxw = dgates.reshape(seq.steps * seq.batch, 4 * hid)
        return dxw, dw, db, dh, dc, None, None, None


# ---------------------------------------------------------------------- GRU


class FusedGRU(Op):
    """A whole GRU sequence in one direction, either form (:func:`gru_pointwise`,
    :func:`gru_textbook_gates`). Inputs as :class:`FusedLSTM` without c_0, plus
    ``reset_after``; outputs h_t for all t (T, B, H) and h_T."""

    save_inputs = (1,)
    save_output = True

    @staticmethod
    def forward(ctx: Any, xw: Any, w_hh: Any, b_hh: Any, h0: Any, mask: Any, full_steps: int,
                reverse: bool, reset_after: bool) -> tuple:
        seq = _Sequence(xw, h0, reverse, mask, full_steps)
        xp, hid = seq.xp, seq.hidden
        xw = xw.reshape(seq.steps, seq.batch, 3 * hid)
        gates = xp.empty((seq.steps, 3, seq.batch, hid), seq.dtype)  # r, z, n activated
        # what backward needs besides the gates: W_hn h_{t-1} + b_hn (reset_after) or
        # r_t * h_{t-1} (textbook), (T, B, H)
        extra = xp.empty_like(seq.nxt)
        ctx.seq, ctx.gates, ctx.extra, ctx.w_hh = seq, gates, extra, w_hh
        ctx.has_bias, ctx.reset_after = b_hh is not None, reset_after
        run = FusedGRU._forward_reset_after if reset_after else FusedGRU._forward_textbook
        with _quiet(xp):
            run(seq, xw, w_hh, b_hh, gates, extra, mask is not None)
        return seq.nxt, seq.final(seq.hbuf)

    @staticmethod
    def _forward_reset_after(seq: _Sequence, xw: Any, w_hh: Any, b_hh: Any, gates: Any,
                             extra: Any, masked: bool) -> None:
        xp, hid = seq.xp, seq.hidden
        hw = xp.empty((seq.batch, 3 * hid), seq.dtype)  # h_{t-1} W_hh^T + b_hh
        w_t = w_hh.T
        kernel = pointwise_kernel(xp, gru_pointwise)
        for t in seq.order():
            x = xw[t]
            xp.matmul(seq.prev[t], w_t, out=hw)
            if b_hh is not None:
                hw += b_hh
            extra[t] = hw[:, 2 * hid:]  # saved: backward needs W_hn h_{t-1} + b_hn
            kernel(x[:, :hid], x[:, hid:2 * hid], x[:, 2 * hid:], hw[:, :hid],
                   hw[:, hid:2 * hid], extra[t], seq.prev[t], *gates[t], seq.nxt[t])
            if masked:
                seq.keep_state(t, seq.nxt[t], seq.prev[t])

    @staticmethod
    def _forward_textbook(seq: _Sequence, xw: Any, w_hh: Any, b_hh: Any, gates: Any,
                          extra: Any, masked: bool) -> None:
        xp, hid = seq.xp, seq.hidden
        w_rz_t, w_n_t = w_hh[:2 * hid].T, w_hh[2 * hid:].T
        b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * hid], b_hh[2 * hid:])
        hw = xp.empty((seq.batch, 2 * hid), seq.dtype)  # h_{t-1} W_h(r,z)^T + b_h(r,z)
        hn = xp.empty((seq.batch, hid), seq.dtype)  # (r_t * h_{t-1}) W_hn^T + b_hn
        gates_k = pointwise_kernel(xp, gru_textbook_gates)
        output_k = pointwise_kernel(xp, gru_textbook_output)
        for t in seq.order():
            x, (r, z, n) = xw[t], gates[t]
            xp.matmul(seq.prev[t], w_rz_t, out=hw)
            if b_rz is not None:
                hw += b_rz
            gates_k(x[:, :hid], x[:, hid:2 * hid], hw[:, :hid], hw[:, hid:], seq.prev[t], r,
                    z, extra[t])  # extra[t] = r_t * h_{t-1}, saved
            xp.matmul(extra[t], w_n_t, out=hn)
            if b_n is not None:
                hn += b_n
            output_k(x[:, 2 * hid:], hn, z, seq.prev[t], n, seq.nxt[t])
            if masked:
                seq.keep_state(t, seq.nxt[t], seq.prev[t])

    @staticmethod
    def backward(ctx: Any, g_out: Any, g_h: Any) -> tuple:
        _check_first_order("FusedGRU", (g_out, g_h))
        seq, gates, extra, w_hh = ctx.seq, ctx.gates, ctx.extra, ctx.w_hh
        xp, hid = seq.xp, seq.hidden
        shape = (seq.steps, seq.batch, 3 * hid)
        dh = seq.state_grad(g_h)
        dh_cell = xp.empty_like(dh)  # the part of dL/dh_{t-1} through the matrix product
        if ctx.reset_after:
            # dL/d(h_{t-1} W_hh^T + b_hh) for all steps: [dr, dz, dhn]; dL/dxw differs only in
            # the n block (dn), kept apart and joined at the end
            dgh = xp.empty(shape, seq.dtype)
            dxn = xp.empty_like(seq.nxt)
            kernel = pointwise_kernel(xp, gru_pointwise_backward)
            for t in seq.order(backward=True):
                if g_out is not None:
                    dh += g_out[t]
                carried = seq.split_grad(t, dh)
                d = dgh[t]
                kernel(*gates[t], extra[t], seq.prev[t], dh, d[:, :hid], d[:, hid:2 * hid],
                       d[:, 2 * hid:], dxn[t])
                xp.matmul(d, w_hh, out=dh_cell)
                dh += dh_cell
                if carried:
                    dh += carried[0]
            dw, db = seq.weight_grads(ctx, dgh, seq.prev)
            dxw = xp.concatenate([dgh[..., :2 * hid], dxn], axis=-1)
        else:
            w_rz, w_n = w_hh[:2 * hid], w_hh[2 * hid:]
            dxw = xp.empty(shape, seq.dtype)  # [dr, dz, dn] = dL/d(pre-activations)
            drh = xp.empty((seq.batch, hid), seq.dtype)
            out_k = pointwise_kernel(xp, gru_textbook_backward_output)
            gates_k = pointwise_kernel(xp, gru_textbook_backward_gates)
            for t in seq.order(backward=True):
                if g_out is not None:
                    dh += g_out[t]
                carried = seq.split_grad(t, dh)
                (r, z, n), d = gates[t], dxw[t]
                out_k(z, n, seq.prev[t], dh, d[:, hid:2 * hid], d[:, 2 * hid:])
                xp.matmul(d[:, 2 * hid:], w_n, out=drh)  # dL/d(r_t * h_{t-1})
                gates_k(r, seq.prev[t], drh, dh, d[:, :hid])
                xp.matmul(d[:, :2 * hid], w_rz, out=dh_cell)
                dh += dh_cell
                if carried:
                    dh += carried[0]
            # W_hr, W_hz read h_{t-1} but W_hn reads r_t * h_{t-1}: two blocks of rows, each one
            # product over all steps
            dw_rz, db = seq.weight_grads(ctx, dxw[..., :2 * hid], seq.prev)
            dw_n, _ = seq.weight_grads(ctx, dxw[..., 2 * hid:], extra)
            dw = None if dw_rz is None else xp.concatenate([dw_rz, dw_n], axis=0)
            if db is not None:
                db = xp.concatenate([db, seq.rows(dxw[..., 2 * hid:]).sum(axis=0)])
        dxw = dxw.reshape(seq.steps * seq.batch, 3 * hid)
        return dxw, dw, db, dh, None, None, None, None


# ---------------------------------------------------------------------- Elman RNN


class FusedRNN(Op):
    """A whole Elman RNN sequence in one direction: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1}
    W_hh^T + b_hh) (or relu). Inputs as :class:`FusedLSTM` without c_0, plus
    ``nonlinearity``; outputs h_t for all t (T, B, H) and h_T."""

    save_inputs = (1,)
    save_output = True

    @staticmethod
    def forward(ctx: Any, xw: Any, w_hh: Any, b_hh: Any, h0: Any, mask: Any, full_steps: int,
                reverse: bool, nonlinearity: str) -> tuple:
        seq = _Sequence(xw, h0, reverse, mask, full_steps)
        xp = seq.xp
        xw = xw.reshape(seq.nxt.shape)
        w_t = w_hh.T
        for t in seq.order():
            a = seq.nxt[t]  # the pre-activation is built where h_t will live
            xp.matmul(seq.prev[t], w_t, out=a)
            if b_hh is not None:
                a += b_hh
            a += xw[t]
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
            if mask is not None:
                seq.keep_state(t, a, seq.prev[t])
        ctx.seq, ctx.w_hh = seq, w_hh
        ctx.has_bias, ctx.relu = b_hh is not None, nonlinearity == "relu"
        return seq.nxt, seq.final(seq.hbuf)

    @staticmethod
    def backward(ctx: Any, g_out: Any, g_h: Any) -> tuple:
        _check_first_order("FusedRNN", (g_out, g_h))
        seq, w_hh = ctx.seq, ctx.w_hh
        xp = seq.xp
        da = xp.empty_like(seq.nxt)  # dL/d(pre-activation) = dL/dxw, all steps
        dh = seq.state_grad(g_h)
        kernel = pointwise_kernel(xp, relu_backward if ctx.relu else tanh_backward)
        for t in seq.order(backward=True):
            if g_out is not None:
                dh += g_out[t]
            carried = seq.split_grad(t, dh)
            kernel(seq.nxt[t], dh, da[t])
            xp.matmul(da[t], w_hh, out=dh)
            if carried:
                dh += carried[0]
        dw, db = seq.weight_grads(ctx, da, seq.prev)
        return (da.reshape(seq.steps * seq.batch, seq.hidden), dw, db, dh, None, None, None,
                None)


# ---------------------------------------------------------------------- on Tensors


def lstm_sequence(xw: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor, c0: Tensor,
                  mask: Tensor | None = None, full_steps: int = 0,
                  reverse: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Run :class:`FusedLSTM`: returns (h_t for all t (T, B, H), h_T, c_T)."""
    return FusedLSTM.apply(xw, w_hh, b_hh, h0, c0, mask, full_steps, reverse)


def gru_sequence(xw: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor,
                 mask: Tensor | None = None, full_steps: int = 0, reverse: bool = False,
                 reset_after: bool = True) -> tuple[Tensor, Tensor]:
    """Run :class:`FusedGRU`: returns (h_t for all t (T, B, H), h_T)."""
    return FusedGRU.apply(xw, w_hh, b_hh, h0, mask, full_steps, reverse, reset_after)


def rnn_sequence(xw: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor,
                 mask: Tensor | None = None, full_steps: int = 0, reverse: bool = False,
                 nonlinearity: str = "tanh") -> tuple[Tensor, Tensor]:
    """Run :class:`FusedRNN`: returns (h_t for all t (T, B, H), h_T)."""
    return FusedRNN.apply(xw, w_hh, b_hh, h0, mask, full_steps, reverse, nonlinearity)


def install(layer: Any) -> Any:
    """Make ``layer`` (an nn.RNN/LSTM/GRU) run these hand-written ops for ``fused=True``: the
    benchmark's "mg-hand" row, the path the compiled one replaced."""
    from minigrad.nn import functional as F

    kind = type(layer).__name__

    def run(x: Tensor, state: Any, layer_idx: int, direction: int, masks: Any,
            full_steps: int, fused: bool) -> tuple[Tensor, Any]:
        seq_len, batch = x.shape[0], x.shape[1]
        names = layer._weight_names[layer_idx * layer.num_directions + direction]
        w_ih, w_hh, b_ih, b_hh = (None if n is None else layer._parameters[n] for n in names)
        xw = F.linear(x.reshape(seq_len * batch, x.shape[2]), w_ih, b_ih)
        parts, mask = layer._state_parts(state), None if masks is None else masks[0]
        if kind == "LSTM":
            out, *final = lstm_sequence(xw, w_hh, b_hh, parts[0], parts[1], mask, full_steps,
                                        bool(direction))
        elif kind == "GRU":
            out, *final = gru_sequence(xw, w_hh, b_hh, parts[0], mask, full_steps,
                                       bool(direction), layer.reset_after)
        else:
            out, *final = rnn_sequence(xw, w_hh, b_hh, parts[0], mask, full_steps,
                                       bool(direction), layer.nonlinearity)
        return out, layer._from_parts(final)

    layer._run_direction = run
    return layer
