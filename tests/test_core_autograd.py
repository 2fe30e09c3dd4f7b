"""The engine: accumulation, graph freeing, grad modes, hooks, Functions, in-place checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.autograd import Function
from minigrad.testing import assert_close


def test_gradients_accumulate_in_leaves(device: str) -> None:
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, [5.0, 7.0])


def test_grad_is_not_shared_between_leaves() -> None:
    a = mg.ones(3, requires_grad=True)
    b = mg.ones(3, requires_grad=True)
    (a + b).sum().backward()  # Add passes one gradient array to both inputs
    a.grad.data *= 10
    assert_close(b.grad, [1.0, 1.0, 1.0])


def test_graph_is_freed_unless_retained() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, (4 * np.exp([1.0, 2.0])).astype(np.float32))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_ten_thousand_step_chain_without_recursion() -> None:
    x = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    h = x
    for _ in range(10_000):
        h = h * 0.9999 + 0.0001
    h.backward()
    assert math.isclose(x.grad.item(), 0.9999**10_000, rel_tol=1e-9)


def test_no_grad_and_enable_grad() -> None:
    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @mg.no_grad()
    def f(t: mg.Tensor) -> mg.Tensor:
        return t * 2

    assert not f(x).requires_grad
    assert mg.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_memory() -> None:
    x = mg.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    assert_close(x.grad, [2.0, 2.0])


def test_autograd_grad_leaves_dot_grad_alone() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * x
    y = (h * 3).sum()
    gx, gh = mg.autograd.grad(y, [x, h])
    assert_close(gx, 6 * np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert_close(gh, [3.0, 3.0, 3.0])
    assert x.grad is None
    unused = mg.ones(1, requires_grad=True)
    y2 = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not used"):
        mg.autograd.grad(y2, [unused], retain_graph=True)
    assert mg.autograd.grad(y2, [unused], allow_unused=True) == (None,)


def test_hooks_on_leaf_and_non_leaf() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 3
    handle = h.register_hook(lambda g: g * 10)
    h.retain_grad()
    h.sum().backward()
    assert_close(x.grad, [30.0, 30.0])
    assert_close(seen[0], [30.0, 30.0])
    handle.remove()
    x.grad = None
    h2 = x * 3
    h2.sum().backward()
    assert_close(x.grad, [3.0, 3.0])


def test_retain_grad_keeps_non_leaf_grad() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    (h * 2).sum().backward()
    assert_close(h.grad, [2.0, 2.0])


class Cube(Function):
    """y = x^3; dy/dx = 3 x^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class ScaleAndShift(Function):
    @staticmethod
    def forward(ctx, x, scale, shift):
        ctx.scale = scale
        return x * scale + shift

    @staticmethod
    def backward(ctx, g):
        return g * ctx.scale, None, g


def test_user_function(device: str) -> None:
    x = mg.tensor([1.0, -2.0], dtype=mg.float64, device=device, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn is not None
    y.sum().backward()
    assert_close(x.grad, [3.0, 12.0])
    assert mg.autograd.gradcheck(Cube.apply, [x])
    b = mg.tensor([0.5, 0.5], dtype=mg.float64, device=device, requires_grad=True)
    assert mg.autograd.gradcheck(lambda x, b: ScaleAndShift.apply(x, 2.0, b), [x, b])


class BadShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g.sum()


def test_user_function_errors_are_clear() -> None:
    x = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadShape.backward returned a gradient of shape"):
        BadShape.apply(x).sum().backward()


class WrongDtype(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return (g * 2).double()  # the input is float32


class WrongDevice(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return (g * 2).cpu()  # the input is on cuda


def test_user_function_gradient_of_wrong_dtype_is_named() -> None:
    x = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongDtype.backward returned a float64 gradient "
                                           r"for input 0, which is float32"):
        WrongDtype.apply(x).sum().backward()


def test_user_function_gradient_on_wrong_device_is_named() -> None:
    x = mg.ones(3, device="cuda", requires_grad=True)  # the strict fake device in CI
    with pytest.raises(RuntimeError, match=r"WrongDevice.backward returned a gradient on cpu "
                                           r"for input 0, which is on cuda:0"):
        WrongDevice.apply(x).sum().backward()


def test_freed_graph_from_a_previous_batch_advises_detach() -> None:
    cell = mg.nn.RNNCell(2, 3)
    h = mg.zeros(1, 3)
    h = cell(mg.randn(1, 2), h)
    h.sum().backward()  # batch 1 frees its graph
    h = cell(mg.randn(1, 2), h)  # batch 2 starts from batch 1's state, not detached
    with pytest.raises(RuntimeError, match=r"recurrent state.*h = h\.detach\(\).*truncated "
                                           r"backpropagation through time") as err:
        h.sum().backward()
    assert "second time" not in str(err.value)
    h2 = cell(mg.randn(1, 2), h.detach())  # the fix: gradients stop at the batch boundary
    h2.sum().backward()
    assert cell.weight_hh.grad is not None


def test_second_backward_on_the_same_result_advises_retain_graph() -> None:
    y = (mg.ones(2, requires_grad=True) * 3).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True") as err:
        y.backward()
    assert "detach" not in str(err.value)


class SquarePlusExp(mg.autograd.Op):
    """y = x^2 + e^x, reading its input and its output: dL/dx = g (2x + y - x^2)."""

    save_inputs = (0,)
    save_output = True

    @staticmethod
    def forward(ctx, x):
        return x * x + np.exp(x)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors  # saved inputs in save_inputs order, then the output
        return g * (2 * x + y - x * x)


def test_ops_and_functions_share_one_save_vocabulary() -> None:
    x = mg.tensor([0.5, -1.0], dtype=mg.float64, requires_grad=True)
    y = SquarePlusExp.apply(x)
    assert not hasattr(y.grad_fn, "saved")  # the old name is gone
    y.sum().backward()
    xs = np.array([0.5, -1.0])
    assert_close(x.grad, 2 * xs + np.exp(xs))
    c = Cube.apply(mg.tensor([2.0], requires_grad=True))
    (saved,) = c.grad_fn.saved_tensors  # a Function reads them by the same name
    assert_close(saved, [2.0])


def test_gradcheck_reports_the_worst_element() -> None:
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    with pytest.raises(mg.autograd.GradcheckError, match=r"input 0 .*element \(1,\)"):
        mg.autograd.gradcheck(Wrong.apply, [x])
    assert mg.autograd.gradcheck(Wrong.apply, [x], raise_exception=False) is False


@pytest.mark.parametrize("mutate", ["iadd", "add_", "zero_", "setitem", "mul_"])
def test_inplace_change_of_saved_value_raises(mutate: str, device: str) -> None:
    x = mg.tensor([1.0, 2.0], device=device, requires_grad=True)
    h = x * 1  # a non-leaf, so it may be changed in place
    y = h * h  # saves h for backward
    with mg.no_grad():
        if mutate == "iadd":
            h += 1
        elif mutate == "add_":
            h.add_(1)
        elif mutate == "zero_":
            h.zero_()
        elif mutate == "setitem":
            h[0] = 5.0
        else:
            h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_inplace_on_saved_output_and_views_is_caught() -> None:
    x = mg.ones(2, 2, requires_grad=True)
    y = x.exp()  # saves its output
    with mg.no_grad():
        y.T[0, 0] = 3.0  # through a view of y: the version counter is shared
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_inplace_on_unsaved_value_is_fine_and_recorded() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h += 1  # recorded: h is now (x * 2) + 1
    h.mul_(3)  # recorded, with the old value of h kept for the Mul backward
    h.sum().backward()
    assert_close(x.grad, [6.0, 6.0])
    assert_close(h, [9.0, 15.0])


def test_setitem_builds_the_graph_like_pytorch() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = mg.zeros(2, 3)
    buf[0] = x * 2
    buf[1] = x * x
    buf.sum().backward()
    assert_close(x.grad, [4.0, 6.0, 8.0])


def test_inplace_on_leaf_requiring_grad_raises() -> None:
    w = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1
    with mg.no_grad():
        w -= 0.5  # as an optimizer does
    assert_close(w, [0.5, 0.5])


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_anomaly_mode_names_the_op() -> None:
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        y = x.sqrt()  # gradient 1 / (2 sqrt(0)) = inf
        with pytest.raises(RuntimeError, match=r"'Sqrt' returned inf.*created here"):
            y.sum().backward()


def test_nonscalar_backward_needs_gradient() -> None:
    x = mg.ones(2, 3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\); pass gradient="):
        y.backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the tensor has"):
        y.backward(mg.ones(3))
    y.backward(mg.ones(2, 3))
    assert_close(x.grad, np.full((2, 3), 2.0, dtype=np.float32))


def test_backward_on_tensor_without_grad_is_explained() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_integer_tensors_carry_no_gradient() -> None:
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        mg.tensor([1, 2], requires_grad=True)
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    assert not (x > 1).requires_grad
    assert not x.argmax().requires_grad


def test_multi_output_node_with_unused_output() -> None:
    x = mg.arange(6, dtype=mg.float64).requires_grad_()
    a, b, c = x.chunk(3)
    (b * 2).sum().backward()
    assert_close(x.grad, [0, 0, 2, 2, 0, 0])


def test_shared_subgraph_gets_summed_gradient() -> None:
    x = mg.tensor(2.0, requires_grad=True)
    h = x * x
    y = h * 3 + h.exp()
    y.backward()
    assert math.isclose(x.grad.item(), 2 * 2.0 * (3 + math.exp(4.0)), rel_tol=1e-6)


class PassThrough(Function):
    """Returns its input unchanged: the output must still be a new node's output."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_user_function_returning_its_input() -> None:
    x = mg.ones(3, requires_grad=True)
    y = PassThrough.apply(x)
    assert y is not x and y.grad_fn is not None and x.grad_fn is None
    y.sum().backward()
    assert_close(x.grad, [2.0, 2.0, 2.0])


def test_backward_from_outputs_that_lead_to_each_other() -> None:
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h1 = x * 2
    h2 = h1 * 3  # a second output, reached from the first's graph too
    (g,) = mg.autograd.grad([mg.stack([h1, h2]), h2], [x], [mg.ones(2, 3), mg.ones(3)])
    assert_close(g, [14.0, 14.0, 14.0])
    h2 = x * 2 * 3
    mg.autograd.backward([h2 * 1, h2], [mg.ones(3), mg.ones(3)])
    assert_close(x.grad, [12.0, 12.0, 12.0])
