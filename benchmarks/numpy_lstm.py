"""A hand-written LSTM in NumPy: forward, loss, BPTT and Adam/SGD with no autograd (the floor).

This is what a person writes when they derive every gradient by hand and know where NumPy
spends time. It is the floor the autograd rows of ``benchmarks/rnn.py`` are compared with:

- the input projection of all T steps is ONE matrix product, (T*B, in) @ W_ih^T, before the
  time loop; the output layer over all steps is one product after it;
- the backward sweep computes only dh_{t-1} = dz_t W_hh per step; the weight gradients of all
  steps are one product each after the sweep, dW_hh = dZ^T [h_0 .. h_{T-1}], dW_ih = dZ^T X;
- every array is written with ``out=`` into a buffer. With ``reuse_buffers=True`` the buffers
  live across steps (no allocation after the first step, so no page faults on fresh memory,
  see benchmarks/README.md); with ``False`` they are allocated afresh each step, as ordinary
  NumPy code allocates its temporaries.

Model (parameters named as PyTorch's state_dict, gates (i, f, g, o), time-major)::

    x (T, B) int64 -> embedding.weight (V, E)        (optional; else x is (T, B, in) float)
    LSTM: z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh = [z_i z_f z_g z_o]
          i, f, o = sigma(z_i, z_f, z_o);  g = tanh(z_g)
          c_t = f * c_{t-1} + i * g;       h_t = o * tanh(c_t);   h_0 = c_0 = 0
    head "last_ce": h_T -> fc (C, H) -> cross-entropy with targets (B,)
    head "all_ce":  every h_t -> fc -> cross-entropy with targets (T*B,), mean over T*B
    head "last_mse": mean((h_T - target)^2) with target (B, H)

Backward, per step, from dh (the gradient reaching h_t) and dc (reaching c_t from step t+1)::

    dc  += dh * o * (1 - tanh(c_t)^2)
    dz_o = dh * tanh(c_t) * o (1 - o)      dz_i = dc * g * i (1 - i)
    dz_f = dc * c_{t-1} * f (1 - f)        dz_g = dc * i * (1 - g^2)
    dc  <- dc * f;                         dh  <- dz_t W_hh  (+ the head's dh_{t-1})
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

HEADS = ("last_ce", "all_ce", "last_mse")
Params = dict[str, np.ndarray]


def init_params(input_size: int, hidden_size: int, *, vocab: int | None = None,
                n_out: int | None = None, dtype: Any = np.float32, seed: int = 0) -> Params:
    """Parameters with PyTorch's names and initialisation (U(+-1/sqrt(H)), embedding N(0, 1))."""
    rng = np.random.default_rng(seed)
    h4, bound = 4 * hidden_size, 1.0 / math.sqrt(hidden_size)

    def uniform(*shape: int, b: float = bound) -> np.ndarray:
        return rng.uniform(-b, b, shape).astype(dtype)

    params: Params = {}
    if vocab is not None:
        params["embedding.weight"] = rng.standard_normal((vocab, input_size)).astype(dtype)
    params["lstm.weight_ih_l0"] = uniform(h4, input_size)
    params["lstm.weight_hh_l0"] = uniform(h4, hidden_size)
    params["lstm.bias_ih_l0"] = uniform(h4)
    params["lstm.bias_hh_l0"] = uniform(h4)
    if n_out is not None:
        params["fc.weight"] = uniform(n_out, hidden_size)
        params["fc.bias"] = uniform(n_out)
    return params


class HandLSTM:
    """Embedding (optional) -> one LSTM layer -> head, with a hand-derived backward.

    Args:
        params: arrays named as :func:`init_params` returns them (updated in place by the
            optimizers below).
        head: one of ``HEADS`` (see the module docstring).
        reuse_buffers: keep work arrays across calls (True) or allocate them per call.
    """

    def __init__(self, params: Params, head: str, reuse_buffers: bool = True) -> None:
        if head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {head!r}")
        if head.endswith("_ce") and "fc.weight" not in params:
            raise ValueError(f"head {head!r} needs fc.weight and fc.bias")
        self.p, self.head, self.reuse = params, head, reuse_buffers
        self.hidden = params["lstm.weight_hh_l0"].shape[1]
        self._buffers: dict[str, np.ndarray] = {}

    def _buf(self, name: str, *shape: int) -> np.ndarray:
        """A work array (contents undefined); reused across calls if ``reuse_buffers``."""
        buf = self._buffers.get(name) if self.reuse else None
        if buf is None or buf.shape != shape:
            buf = np.empty(shape, self.p["lstm.weight_hh_l0"].dtype)
            if self.reuse:
                self._buffers[name] = buf
        return buf

    def loss_and_grads(self, inputs: np.ndarray, target: np.ndarray) -> tuple[float, Params]:
        """Forward, loss and BPTT: the loss and the gradient of every parameter."""
        p, H = self.p, self.hidden
        H4 = 4 * H
        T, B = inputs.shape[:2]
        w_ih, w_hh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
        n_in = w_ih.shape[1]

        # ---- forward. X (T*B, in); A holds z_t, activated in place into [i f g o]
        if "embedding.weight" in p:
            X = np.take(p["embedding.weight"], inputs.reshape(-1), axis=0,
                        out=self._buf("X", T * B, n_in))
        else:
            X = inputs.reshape(T * B, n_in)
        A = np.matmul(X, w_ih.T, out=self._buf("A", T * B, H4))
        A += p["lstm.bias_ih_l0"]
        A += p["lstm.bias_hh_l0"]
        A = A.reshape(T, B, H4)
        Hs, Cs = self._buf("Hs", T + 1, B, H), self._buf("Cs", T + 1, B, H)  # h_0..h_T
        TC = self._buf("TC", T, B, H)  # tanh(c_t)
        Hs[0] = 0
        Cs[0] = 0
        hw, tmp = self._buf("hw", B, H4), self._buf("tmp", B, H)
        for t in range(T):
            z = A[t]
            z += np.matmul(Hs[t], w_hh.T, out=hw)
            i, f, g, o = z[:, :H], z[:, H:2 * H], z[:, 2 * H:3 * H], z[:, 3 * H:]
            np.tanh(g, out=g)
            _sigmoid_(z[:, :2 * H])
            _sigmoid_(o)
            np.multiply(f, Cs[t], out=Cs[t + 1])
            Cs[t + 1] += np.multiply(i, g, out=tmp)
            np.tanh(Cs[t + 1], out=TC[t])
            np.multiply(o, TC[t], out=Hs[t + 1])

        # ---- head and loss; dH_all (T, B, H) is the head's gradient for every h_t, or None
        grads: Params = {}
        dh = self._buf("dh", B, H)  # the gradient reaching h_t, during the sweep
        dH_all = None
        if self.head == "last_mse":
            diff = np.subtract(Hs[T], target, out=dh)
            loss = float(np.vdot(diff, diff)) / diff.size
            dh *= 2.0 / diff.size
        else:
            feats = Hs[T] if self.head == "last_ce" else Hs[1:].reshape(T * B, H)
            logits = np.matmul(feats, p["fc.weight"].T,
                               out=self._buf("logits", feats.shape[0], p["fc.weight"].shape[0]))
            logits += p["fc.bias"]
            loss, dlogits = _cross_entropy_(logits, target.reshape(-1))
            grads["fc.weight"] = dlogits.T @ feats
            grads["fc.bias"] = dlogits.sum(axis=0)
            if self.head == "last_ce":
                np.matmul(dlogits, p["fc.weight"], out=dh)
            else:
                dH_all = np.matmul(dlogits, p["fc.weight"],
                                   out=self._buf("dH_all", T * B, H)).reshape(T, B, H)
                dh[...] = dH_all[T - 1]

        # ---- backward through time; dZ (T, B, 4H) collects dz_t
        dZ = self._buf("dZ", T, B, H4)
        dc = self._buf("dc", B, H)
        dc[...] = 0
        for t in range(T - 1, -1, -1):
            i, f, g, o = (A[t, :, k * H:(k + 1) * H] for k in range(4))
            dz_i, dz_f, dz_g, dz_o = (dZ[t, :, k * H:(k + 1) * H] for k in range(4))
            tc = TC[t]
            # dc += dh * o * (1 - tanh(c)^2)
            np.multiply(tc, tc, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= o
            tmp *= dh
            dc += tmp
            # dz_o = dh * tanh(c) * o (1 - o)
            np.multiply(dh, tc, out=dz_o)
            _times_dsigmoid_(dz_o, o, tmp)
            # dz_i = dc * g * i (1 - i);  dz_f = dc * c_{t-1} * f (1 - f)
            np.multiply(dc, g, out=dz_i)
            _times_dsigmoid_(dz_i, i, tmp)
            np.multiply(dc, Cs[t], out=dz_f)
            _times_dsigmoid_(dz_f, f, tmp)
            # dz_g = dc * i * (1 - g^2)
            np.multiply(g, g, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            tmp *= i
            np.multiply(dc, tmp, out=dz_g)
            dc *= f
            if t > 0:  # h_0 is a constant: no product for it
                np.matmul(dZ[t], w_hh, out=dh)
                if dH_all is not None:
                    dh += dH_all[t - 1]

        # ---- weight gradients of all steps, one product each
        dZ2 = dZ.reshape(T * B, H4)
        grads["lstm.weight_ih_l0"] = dZ2.T @ X
        grads["lstm.weight_hh_l0"] = dZ2.T @ Hs[:T].reshape(T * B, H)
        grads["lstm.bias_ih_l0"] = dZ2.sum(axis=0)
        grads["lstm.bias_hh_l0"] = grads["lstm.bias_ih_l0"].copy()
        if "embedding.weight" in p:
            dX = np.matmul(dZ2, w_ih, out=self._buf("dX", T * B, n_in))
            grads["embedding.weight"] = g_emb = np.zeros_like(p["embedding.weight"])
            np.add.at(g_emb, inputs.reshape(-1), dX)
        return loss, grads


def _sigmoid_(x: np.ndarray) -> None:
    """x <- 1 / (1 + exp(-x)), in place."""
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)


def _times_dsigmoid_(d: np.ndarray, s: np.ndarray, tmp: np.ndarray) -> None:
    """d <- d * s * (1 - s): the sigmoid's derivative from its output s."""
    np.subtract(1.0, s, out=tmp)
    tmp *= s
    d *= tmp


def _cross_entropy_(logits: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of rows of ``logits`` (overwritten) and d loss / d logits."""
    n = logits.shape[0]
    rows = np.arange(n)
    logits -= logits.max(axis=1, keepdims=True)
    picked = logits[rows, target]
    np.exp(logits, out=logits)
    total = logits.sum(axis=1, keepdims=True)
    loss = float(np.log(total).sum() - picked.sum()) / n
    logits /= total  # softmax
    logits[rows, target] -= 1.0
    logits *= 1.0 / n
    return loss, logits


class HandAdam:
    """Adam as ``torch.optim.Adam`` (defaults), in place, one scratch array per parameter."""

    def __init__(self, params: Params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        self.p, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.tmp = {k: np.empty_like(v) for k, v in params.items()}

    def step(self, grads: Params) -> None:
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1**self.t)
        c2 = math.sqrt(1 - b2**self.t)
        for k, g in grads.items():
            m, v, tmp, p = self.m[k], self.v[k], self.tmp[k], self.p[k]
            m *= b1
            m += np.multiply(g, 1 - b1, out=tmp)   # m <- b1 m + (1 - b1) g
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp                                # v <- b2 v + (1 - b2) g^2
            np.sqrt(v, out=tmp)
            tmp *= 1.0 / c2
            tmp += self.eps                         # sqrt(v / (1 - b2^t)) + eps
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size
            p += tmp


class HandSGD:
    """Plain SGD, p <- p - lr * g, in place."""

    def __init__(self, params: Params, lr: float = 0.01) -> None:
        self.p, self.lr = params, lr
        self.tmp = {k: np.empty_like(v) for k, v in params.items()}

    def step(self, grads: Params) -> None:
        for k, g in grads.items():
            self.p[k] -= np.multiply(g, self.lr, out=self.tmp[k])
