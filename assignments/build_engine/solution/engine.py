"""Assignment: build a small autograd engine, then train an RNN on sunspots with it.

Four stages, graded separately (README.md has the details):

1. ``sum_to_shape``: undo NumPy broadcasting on a gradient.
2. ``Tensor.backward``: visit the graph in reverse topological order, each node once.
3. The operations' backward rules: ``+``, ``*``, ``@``, ``sum``, ``tanh``, ``sigmoid``.
4. ``rnn_loss``: an Elman RNN's loss, written with your Tensor; ``train_rnn`` (given) then
   trains it on the yearly sunspot numbers.

Every Tensor holds float64 ``data`` (a NumPy array), a ``grad`` of the same shape (zeros until
backward fills it), the tensors it was computed from (``_prev``), and ``_backward``: a function
that reads ``out.grad`` and adds each input's share to that input's ``grad``. ``T`` (the
transpose) is written for you as an example of the pattern.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from minigrad.data import load_sunspots

# ----------------------------------------------------------------------------- stage 1


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the gradient of an input that broadcasting stretched.

    NumPy broadcasting prepends dimensions of size 1 and then repeats every size-1 dimension;
    each repeated copy of an element sends its gradient back to that one element, so the
    gradients of the copies add up. E.g. grad (2, 3, 4) to shape (3, 1) sums over axis 0
    (prepended) and axis 2 (stretched from 1 to 4), keeping a (3, 1) result.
    """
    ### BEGIN SOLUTION
    while grad.ndim > len(shape):  # prepended dimensions
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):  # stretched size-1 dimensions
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
    ### END SOLUTION


def _lift(x: Any) -> Tensor:
    """Numbers and arrays taking part in an operation become (constant) Tensors."""
    return x if isinstance(x, Tensor) else Tensor(x)


class Tensor:
    """A float64 array that remembers how it was computed, to backpropagate through it."""

    def __init__(self, data: Any, _prev: tuple[Tensor, ...] = ()) -> None:
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self._prev = tuple(_prev)
        self._backward: Callable[[], None] = lambda: None  # a leaf has nothing to pass on

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Tensor({self.data!r})"

    # ------------------------------------------------------------------------- stage 2

    def backward(self, grad: Any = None) -> None:
        """Backpropagate from this tensor: add ``grad`` (default: ones, for a scalar loss) to
        ``self.grad``, then call every node's ``_backward`` once, each after all the nodes
        that use it (reverse topological order), so that its ``grad`` is complete when it runs.
        Must work on graphs 10,000 nodes deep (no recursion)."""
        ### BEGIN SOLUTION
        order: list[Tensor] = []  # every node after all of its inputs
        seen: set[int] = set()
        stack: list[tuple[Tensor, bool]] = [(self, False)]
        while stack:  # depth-first with an explicit stack: no recursion limit
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node._prev if id(p) not in seen)
        self.grad = self.grad + (np.ones_like(self.data) if grad is None
                                 else np.asarray(grad, dtype=np.float64))
        for node in reversed(order):
            node._backward()
        ### END SOLUTION

    # ------------------------------------------------------------------------- stage 3

    @property
    def T(self) -> Tensor:
        """The transpose (given, as an example): out = self^T, so dL/dself = (dL/dout)^T."""
        out = Tensor(self.data.T, (self,))

        def _backward() -> None:
            self.grad += out.grad.T

        out._backward = _backward
        return out

    def __add__(self, other: Any) -> Tensor:
        """self + other, with NumPy broadcasting."""
        other = _lift(other)
        ### BEGIN SOLUTION
        out = Tensor(self.data + other.data, (self, other))

        def _backward() -> None:
            self.grad += sum_to_shape(out.grad, self.shape)
            other.grad += sum_to_shape(out.grad, other.shape)

        out._backward = _backward
        return out
        ### END SOLUTION

    def __mul__(self, other: Any) -> Tensor:
        """self * other (elementwise), with NumPy broadcasting."""
        other = _lift(other)
        ### BEGIN SOLUTION
        out = Tensor(self.data * other.data, (self, other))

        def _backward() -> None:
            self.grad += sum_to_shape(out.grad * other.data, self.shape)
            other.grad += sum_to_shape(out.grad * self.data, other.shape)

        out._backward = _backward
        return out
        ### END SOLUTION

    def __matmul__(self, other: Any) -> Tensor:
        """self @ other for 2-D tensors: (n, k) @ (k, m) -> (n, m)."""
        other = _lift(other)
        ### BEGIN SOLUTION
        out = Tensor(self.data @ other.data, (self, other))

        def _backward() -> None:
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad

        out._backward = _backward
        return out
        ### END SOLUTION

    def sum(self) -> Tensor:
        """The sum of all elements, a tensor of shape ()."""
        ### BEGIN SOLUTION
        out = Tensor(self.data.sum(), (self,))

        def _backward() -> None:
            self.grad += np.broadcast_to(out.grad, self.shape)  # every element counts once

        out._backward = _backward
        return out
        ### END SOLUTION

    def tanh(self) -> Tensor:
        """Elementwise tanh."""
        ### BEGIN SOLUTION
        out = Tensor(np.tanh(self.data), (self,))

        def _backward() -> None:
            self.grad += out.grad * (1 - out.data ** 2)  # from the saved output

        out._backward = _backward
        return out
        ### END SOLUTION

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function 1 / (1 + e^{-x})."""
        ### BEGIN SOLUTION
        s = np.exp(-np.logaddexp(0.0, -self.data))  # 1 / (1 + e^{-x}) without overflow
        out = Tensor(s, (self,))

        def _backward() -> None:
            self.grad += out.grad * s * (1 - s)

        out._backward = _backward
        return out
        ### END SOLUTION

    # composites, given: they are built from the operations above, so need no backward
    def __radd__(self, other: Any) -> Tensor:
        return self + other

    def __rmul__(self, other: Any) -> Tensor:
        return self * other

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other: Any) -> Tensor:
        return self + (-_lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return _lift(other) + (-self)


# ----------------------------------------------------------------------------- stage 4

PARAM_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh", "W_hy", "b_y")


def rnn_loss(params: dict[str, Tensor], xs: np.ndarray, ys: np.ndarray) -> Tensor:
    """The mean squared error of an Elman RNN with a linear read-out, built with your Tensor.

    xs, ys: (T, B, 1) arrays; params: ``W_ih`` (H, 1), ``W_hh`` (H, H), ``b_ih``, ``b_hh``
    (H,), ``W_hy`` (1, H), ``b_y`` (1,). From h_0 = 0, for t = 1..T::

        h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
        y^_t = h_t W_hy^T + b_y
        L = 1/(T B) sum_t sum_b (y^_{t,b} - y_{t,b})^2

    Returns L as a Tensor of shape ().
    """
    ### BEGIN SOLUTION
    T, B, _ = xs.shape
    h = Tensor(np.zeros((B, params["W_hh"].shape[0])))
    total: Tensor | None = None
    for t in range(T):
        h = (Tensor(xs[t]) @ params["W_ih"].T + params["b_ih"]
             + h @ params["W_hh"].T + params["b_hh"]).tanh()
        diff = h @ params["W_hy"].T + params["b_y"] - ys[t]
        step = (diff * diff).sum()
        total = step if total is None else total + step
    assert total is not None, "xs has no time steps"
    return total * (1.0 / (T * B))
    ### END SOLUTION


def sunspot_windows(T: int = 16, B: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """B windows of T consecutive years of the standardised yearly sunspot series (1700-1955)
    as inputs xs (T, B, 1), and each next year's value as targets ys (T, B, 1)."""
    values = load_sunspots(monthly=False).values[:256]  # 1700-1955
    z = (values - values.mean()) / values.std()
    starts = np.arange(B) * ((len(z) - T - 1) // B)
    xs = np.stack([z[s:s + T] for s in starts], axis=1)[..., None]
    ys = np.stack([z[s + 1:s + T + 1] for s in starts], axis=1)[..., None]
    return xs, ys


def init_params(hidden_size: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial parameters, uniform in (-1/sqrt(H), 1/sqrt(H)) like PyTorch's nn.RNN."""
    rng = np.random.default_rng(seed)
    k = 1 / np.sqrt(hidden_size)
    shapes = {"W_ih": (hidden_size, 1), "W_hh": (hidden_size, hidden_size),
              "b_ih": (hidden_size,), "b_hh": (hidden_size,), "W_hy": (1, hidden_size),
              "b_y": (1,)}
    return {n: rng.uniform(-k, k, shapes[n]) for n in PARAM_NAMES}


def train_rnn(steps: int = 60, lr: float = 0.1, hidden_size: int = 8,
              seed: int = 0) -> list[float]:
    """Train the RNN of :func:`rnn_loss` on sunspot windows by gradient descent with your
    engine (given); returns the loss before each step."""
    xs, ys = sunspot_windows()
    params = {n: Tensor(v) for n, v in init_params(hidden_size, seed).items()}
    losses = []
    for _ in range(steps):
        for p in params.values():
            p.grad = np.zeros_like(p.data)
        loss = rnn_loss(params, xs, ys)
        loss.backward()
        for p in params.values():
            p.data = p.data - lr * p.grad
        losses.append(float(loss.data))
    return losses
