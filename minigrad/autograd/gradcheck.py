"""Check a backward rule against finite differences, in float64.

For each input element x_j, the numerical derivative is the central difference
(f(x + eps e_j) - f(x - eps e_j)) / (2 eps), which is accurate to O(eps^2). Backward gives the
analytical one, row by row of the Jacobian: d(out_i)/d(x_j) for every output element i.
They must agree within ``atol + rtol * |numerical|``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from minigrad import backend
from minigrad.autograd.engine import grad as autograd_grad
from minigrad.autograd.graph import TensorBase as Tensor


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names the worst element."""


def gradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """True if ``fn``'s backward matches finite differences for every differentiable input.

    Inputs that require grad must be float64 (float32 differences are too coarse to check
    against). Raises :class:`GradcheckError` naming the input, the element, both values and
    the output element, unless ``raise_exception=False`` (then returns False).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad; create them with "
                         "requires_grad=True")
    for i in diff:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs "
                             "(x.double()) so finite differences are accurate")

    def outputs() -> list[Tensor]:
        out = fn(*inputs)
        return [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]

    outs = outputs()
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        flat_n = o.data.size
        # analytical: one backward per output element gives one row of the Jacobian
        analytical = {i: np.zeros((flat_n, inputs[i].data.size)) for i in diff}
        xp = backend.get_array_module(o.data)
        for r in range(flat_n):
            seed = xp.zeros(flat_n, dtype=o.dtype)
            seed[r] = 1
            grads = autograd_grad(o, [inputs[i] for i in diff], seed.reshape(o.shape),
                                  retain_graph=True, allow_unused=True)
            for i, g in zip(diff, grads):
                if g is not None:
                    analytical[i][r] = backend.to_host(g.data).reshape(-1)
        # numerical: perturb one input element at a time
        for i in diff:
            x = inputs[i].data
            flat = x.reshape(-1)  # a view: writing to it perturbs the input in place
            numerical = np.zeros((flat_n, x.size))
            for j in range(x.size):
                orig = float(flat[j])
                flat[j] = orig + eps
                plus = backend.to_host(outputs()[k].data).reshape(-1)
                flat[j] = orig - eps
                minus = backend.to_host(outputs()[k].data).reshape(-1)
                flat[j] = orig
                numerical[:, j] = (plus - minus) / (2 * eps)
            err = np.abs(analytical[i] - numerical) - (atol + rtol * np.abs(numerical))
            if err.size and err.max() > 0:
                r, j = np.unravel_index(int(np.argmax(err)), err.shape)
                msg = (f"gradcheck failed for input {i} (shape {tuple(x.shape)}), element "
                       f"{_index(j, x.shape)}, output {k} element {_index(r, o.shape)}: "
                       f"backward gives "
                       f"{analytical[i][r, j]:.10g}, finite differences give "
                       f"{numerical[r, j]:.10g} (atol={atol}, rtol={rtol})")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def _index(flat: int, shape: tuple) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def gradgradcheck(fn: Callable[..., Any], inputs: Tensor | Sequence[Any],
                  grad_outputs: Sequence[Tensor] | None = None, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True) -> bool:
    """Check second derivatives: gradcheck applied to the gradient of ``fn``.

    The gradient is v^T d(fn)/d(inputs) for fixed random ``grad_outputs`` v, computed with
    ``create_graph=True``; finite differences of it are compared with its own backward.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outs = fn(*inputs)
    outs = [outs] if isinstance(outs, Tensor) else [o for o in outs if isinstance(o, Tensor)]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [type(o)(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device)
                        for o in outs]

    def first_derivative(*xs: Any) -> tuple:
        out = fn(*xs)
        out = [out] if isinstance(out, Tensor) else [o for o in out if isinstance(o, Tensor)]
        used = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = autograd_grad(out, used, list(grad_outputs), create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
