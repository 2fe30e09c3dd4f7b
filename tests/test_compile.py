"""The recurrence compiler (minigrad/jit) on cells it has never seen.

Each user cell of tests/custom_cells.py runs through ``nn.Recurrent`` on both paths, with the
same weights: compiled (one traced node per sequence, BPTT derived from the ops' backward
rules) and the cell's own graph. Outputs, final states and every gradient must agree to
float64 rounding, with ``lengths=`` and in both directions (a bidirectional layer is a forward
and a reverse ``Recurrent``). Then: when it retraces, that its cache is bounded, and the clear
errors for what it cannot compile.
"""

from __future__ import annotations

import copy
import functools
import importlib
from typing import Any

import custom_cells as cc
import numpy as np
import pytest
from conftest import count_nodes
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.autograd.function import Function
from minigrad.jit import TraceError
from minigrad.testing import assert_close

T, B, IN, H = 6, 3, 4, 5
LENGTHS = [6, 2, 4]
TOL = dict(rtol=1e-12, atol=1e-13)
# the module (minigrad.jit.scan is also the name of its function)
jit_scan = importlib.import_module("minigrad.jit.scan")


def make(name: str, device: str, dtype: str = "float64") -> nn.Module:
    kw = dict(dtype=dtype, device=device)
    if name == "ScaledCell":
        scale = nn.Parameter(mg.rand(H, **kw) + 0.5)
        return cc.ScaledCell(IN, H, scale, **kw)
    return getattr(cc, name)(IN, H, **kw)


CELLS = ["PeepholeLSTMCell", "MinimalGatedUnit", "IndRNNCell", "MLPCell", "SoftplusWhereCell",
         "ScaledCell", "BatchContextCell"]


def run(cell: nn.Module, fused: bool, x: mg.Tensor, state: Any, lengths: Any,
        reverse: bool, up: mg.Tensor) -> dict[str, Any]:
    layer = nn.Recurrent(cell, fused=fused, reverse=reverse)
    leaves = [x, *(state if isinstance(state, tuple) else (state,))]
    params = list(cell.parameters()) + ([cell.shared_scale] if hasattr(cell, "shared_scale")
                                        else [])
    for t in leaves + params:
        t.grad = None
    out, final = layer(x, state, lengths=lengths)
    parts = final if isinstance(final, tuple) else (final,)
    loss = (out * up).sum() + sum((p * p).sum() for p in parts)
    loss.backward()
    got = {"out": out.detach(), **{f"final {i}": p.detach() for i, p in enumerate(parts)}}
    got.update({f"grad leaf {i}": t.grad for i, t in enumerate(leaves)})
    got.update({f"grad param {i}": p.grad for i, p in enumerate(params)})
    return got


@pytest.mark.parametrize("name", CELLS)
def test_compiled_equals_graph_for_user_cells(name: str, device: str) -> None:
    mg.manual_seed(CELLS.index(name))
    cell = make(name, device)
    for lengths, reverse in ((None, False), (LENGTHS, False), (LENGTHS, True), (None, True)):
        x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
        h0 = cell.initial_state(B)
        state = (tuple(mg.randn(*p.shape, dtype="float64", device=device, requires_grad=True)
                       for p in h0) if isinstance(h0, tuple)
                 else mg.randn(*h0.shape, dtype="float64", device=device, requires_grad=True))
        up = mg.randn(T, B, H, dtype="float64", device=device)
        graph = run(cell, False, x, state, lengths, reverse, up)
        compiled = run(cell, True, x, state, lengths, reverse, up)
        assert graph.keys() == compiled.keys()
        for key, want in graph.items():
            assert want is not None and compiled[key] is not None, key
            assert_close(compiled[key], want, **TOL,
                         name=f"{name} lengths={lengths} reverse={reverse}: {key}")


# What a random elementwise cell may do to the values it has: each of these is one or a few
# elementwise ops, kept finite (no overflow, no division by ~0) so the two paths stay close.
RECIPE_OPS = {
    "add": lambda u, v: u + v, "sub": lambda u, v: u - v, "mul": lambda u, v: u * v,
    "div": lambda u, v: u / (1 + v * v), "tanh": lambda u, v: u.tanh(),
    "sigmoid": lambda u, v: u.sigmoid(), "relu": lambda u, v: u.relu() - v,
    "neg": lambda u, v: -u, "exp": lambda u, v: (-(u * u)).exp(),
    "where": lambda u, v: mg.where(u > v, u, v * 0.5), "scale": lambda u, v: u * 0.5 + 1,
    # values of other shapes, which the ops after them broadcast against (B, H) ones: the
    # batch's mean (1, H), a sum over the features (B, 1)
    "batch_mean": lambda u, v: (u.mean(0, keepdims=True) * 0.5).tanh(),
    "row_sum": lambda u, v: (u.sum(-1, keepdims=True) * 0.2).tanh(),
    "feature": None,  # u * p, p a per-feature parameter (H,) of the cell
}


class RecipeCell(cc._Cell):
    """A cell made of ``steps`` random elementwise ops on its state (h, c) and the input's
    projection a = W x + U h, batch means, sums over the features and a per-feature parameter:
    the generated region kernels' in-place reuse of dead temporaries must give exactly what the
    ops give one by one, with (1, H), (B, 1) and (B, H) values side by side."""

    n_state = 2

    def __init__(self, steps: list[tuple[str, int, int]], device: str) -> None:
        super().__init__(IN, H, dtype="float64", device=device)
        self.w, self.u, self.p = self.param(H, IN), self.param(H, H), self.param(H)
        self.steps = steps

    def forward(self, x: mg.Tensor, state: Any) -> Any:
        h, c = state
        pool = [nn.functional.linear(x, self.w) + nn.functional.linear(h, self.u), h, c]
        for op, i, j in self.steps:
            u, v = pool[i % len(pool)], pool[j % len(pool)]
            pool.append(u * self.p if op == "feature" else RECIPE_OPS[op](u, v))
        zero = h * 0  # the new state is (B, H) even when the last values are (1, H)
        # both parts bounded: a product of the state with itself must not grow step by step
        # into an overflow (NaN on both paths, which compares as a mismatch)
        return pool[-1].tanh() + zero, (pool[-2] * 0.5 + pool[-1] * 0.25).tanh() + zero


@settings(max_examples=60, deadline=None,  # (explain traces every line: minutes on a failure)
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # device: a string
@given(steps=st.lists(st.tuples(st.sampled_from(sorted(RECIPE_OPS)), st.integers(0, 20),
                                st.integers(0, 20)), min_size=1, max_size=10),
       reverse=st.booleans(), padded=st.booleans())
def test_random_elementwise_cells_compile_to_what_the_ops_compute(
        steps: list[tuple[str, int, int]], reverse: bool, padded: bool, device: str) -> None:
    mg.manual_seed(3)
    cell = RecipeCell(steps, device)
    x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
    state = tuple(mg.randn(B, H, dtype="float64", device=device, requires_grad=True)
                  for _ in range(2))
    up = mg.randn(T, B, H, dtype="float64", device=device)
    lengths = LENGTHS if padded else None
    want = run(cell, False, x, state, lengths, reverse, up)
    got = run(cell, True, x, state, lengths, reverse, up)
    assert got.keys() == want.keys()
    for key, value in want.items():
        if value is None and key in ("grad leaf 1", "grad leaf 2") and got[key] is not None:
            # a state part the cell never reads: the graph gives None, the compiled node a
            # gradient of zeros (a state part is an input of the padding's where(mask, new,
            # old) as well, and the trace does not know whether a gradient comes that way)
            assert not got[key].numpy().any(), key
        elif value is None:  # x or a weight the random cell does not read
            assert got[key] is None, key
        else:
            assert_close(got[key], value, **TOL, name=f"{steps}: {key}")


def test_values_of_another_dtype_keep_it_in_the_compiled_step(device: str) -> None:
    """A float32 cell with a float64 parameter: y = tanh(s * h) is float64 and meets float32
    values in adjacent elementwise ops. The compiled step must keep y in float64, as the ops
    do: over one step, from the same h_0, s's gradient equals the graph's to float64
    precision (in float32 it would be off by about 1e-7)."""
    mg.manual_seed(11)
    cell = cc.MixedPrecisionCell(IN, H, dtype="float32", device=device)
    x = mg.randn(1, B, IN, device=device, requires_grad=True)
    h0 = mg.randn(B, H, device=device, requires_grad=True)
    up = mg.randn(1, B, H, device=device)
    graph = run(cell, False, x, h0, None, False, up)
    compiled = run(cell, True, x, h0, None, False, up)
    s_grad = f"grad param {next(i for i, p in enumerate(cell.parameters()) if p is cell.s)}"
    assert compiled[s_grad].dtype == mg.float64
    assert_close(compiled[s_grad], graph[s_grad], rtol=1e-12, atol=1e-14)
    for key in graph:
        assert_close(compiled[key], graph[key], rtol=1e-5, atol=1e-6, name=key)


class AttributeCell(cc._Cell):
    """Reads a Python number and a tensor it holds as plain attributes: h_t = tanh(W x +
    k * U h + h * buf)."""

    def __init__(self, device: str) -> None:
        super().__init__(IN, H, dtype="float64", device=device)
        self.w, self.u = self.param(H, IN), self.param(H, H)
        self.k, self.buf = 0.5, mg.ones(B, H, dtype="float64", device=device)

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return (nn.functional.linear(x, self.w) + nn.functional.linear(h, self.u) * self.k
                + h * self.buf).tanh()


def test_changing_what_a_cell_holds_traces_again(device: str) -> None:
    """A recording holds the cell's Python numbers and tensors as they were. Changing one
    (cell.k = 2.0; a tensor attribute replaced) must not replay the old value: the trace's key
    holds them, so the next call traces again. A change in place (buf *= 3) is read as is."""
    def changes(cell: AttributeCell) -> Any:
        yield
        cell.k = 2.0
        yield
        cell.buf = mg.full((B, H), 3.0, dtype="float64", device=device)
        yield
        with mg.no_grad():
            cell.buf.mul_(0.5)
        yield

    x = mg.randn(T, B, IN, dtype="float64", device=device)
    runs: dict[bool, list] = {}
    for fused in (False, True):
        mg.manual_seed(5)
        cell = AttributeCell(device)
        layer = nn.Recurrent(cell, fused=fused)
        runs[fused] = [layer(x)[0].detach() for _ in changes(cell)]
        if fused:
            assert len(layer._traces.programs) == 3  # the in-place change: no new trace
    for k, (want, got) in enumerate(zip(runs[False], runs[True])):
        assert_close(got, want, **TOL, name=f"after change {k}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "Recurrent"])
def test_a_deep_copy_of_a_compiled_layer_traces_again(kind: str, device: str) -> None:
    """copy.deepcopy of a layer after compiled calls (e.g. to keep the best model): the copy
    starts with an empty trace cache, since a program's generated code refers to the nodes of
    the original. The copy, with its own weights, matches its graph path; the original still
    runs."""
    mg.manual_seed(8)
    layer = (nn.Recurrent(make("PeepholeLSTMCell", device)) if kind == "Recurrent" else
             getattr(nn, kind)(IN, H, dtype="float64", device=device))
    x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
    layer(x)[0].sum().backward()
    twin = copy.deepcopy(layer)
    assert len(twin._traces.programs) == 0
    with mg.no_grad():
        for p in twin.parameters():
            p.mul_(1.5)
    got = twin(x)[0].detach()
    twin.fused = False
    assert_close(got, twin(x)[0].detach(), **TOL)
    assert len(layer._traces.programs) == 1
    layer(x)[0].sum().backward()


@pytest.mark.parametrize("rows", [B, 4 * B])
def test_weight_gradients_streamed_in_chunks_of_steps(rows: int, device: str,
                                                      monkeypatch: Any) -> None:
    """Backward streams the row-wise products (h W_hh^T, and x_t W_ih^T of the peephole cell)
    in chunks of ``_CHUNK_ROWS`` rows: here chunks of 1 step, and of 4 steps (T = 6: a last
    chunk of 2), both directions, with lengths; the same numbers as the graph."""
    monkeypatch.setattr(jit_scan, "_CHUNK_ROWS", rows)
    mg.manual_seed(7)
    for cell in (make("PeepholeLSTMCell", device), nn.LSTMCell(IN, H, dtype="float64",
                                                               device=device)):
        for lengths, reverse in ((None, False), (LENGTHS, True)):
            x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
            state = tuple(mg.randn(B, H, dtype="float64", device=device, requires_grad=True)
                          for _ in range(2))
            up = mg.randn(T, B, H, dtype="float64", device=device)
            want = run(cell, False, x, state, lengths, reverse, up)
            got = run(cell, True, x, state, lengths, reverse, up)
            for key in want:
                assert_close(got[key], want[key], **TOL, name=f"{type(cell).__name__} "
                             f"chunk of {rows // B} step(s) reverse={reverse}: {key}")


def test_bidirectional_user_cell_and_default_state(device: str) -> None:
    """Two directions of a peephole LSTM from cell.initial_state, batch_first, lengths."""
    mg.manual_seed(3)
    fwd, bwd = make("PeepholeLSTMCell", device), make("PeepholeLSTMCell", device)
    x = mg.randn(B, T, IN, dtype="float64", device=device, requires_grad=True)
    results = []
    for fused in (False, True):
        x.grad = None
        for p in [*fwd.parameters(), *bwd.parameters()]:
            p.grad = None
        a, _ = nn.Recurrent(fwd, batch_first=True, fused=fused)(x, lengths=LENGTHS)
        b, _ = nn.Recurrent(bwd, batch_first=True, fused=fused, reverse=True)(x, lengths=LENGTHS)
        out = mg.cat([a, b], -1)
        assert out.shape == (B, T, 2 * H)
        (out * out).sum().backward()
        results.append([out.detach(), x.grad] + [p.grad for p in [*fwd.parameters(),
                                                                  *bwd.parameters()]])
    assert_close(results[1], results[0], **TOL)


def test_builtin_cells_through_recurrent_match_the_layers(device: str) -> None:
    """nn.Recurrent(nn.LSTMCell) is nn.LSTM: same weights, same numbers."""
    mg.manual_seed(1)
    lstm = nn.LSTM(IN, H, dtype="float64", device=device)
    cell = nn.LSTMCell(IN, H, dtype="float64", device=device)
    for a, b in (("weight_ih", "weight_ih_l0"), ("weight_hh", "weight_hh_l0"),
                 ("bias_ih", "bias_ih_l0"), ("bias_hh", "bias_hh_l0")):
        getattr(cell, a).data = getattr(lstm, b).data.copy()
    x = mg.randn(T, B, IN, dtype="float64", device=device)
    out, (h, c) = nn.Recurrent(cell)(x, lengths=LENGTHS)
    want, (h_n, c_n) = lstm(x, lengths=LENGTHS)
    assert_close([out, h, c], [want, h_n[0], c_n[0]], **TOL)


def test_retraces_when_shapes_or_dtypes_change_and_the_cache_is_bounded() -> None:
    cell = cc.IndRNNCell(IN, H, dtype="float64")
    layer = nn.Recurrent(cell)
    layer(mg.randn(T, B, IN, dtype="float64"))
    layer(mg.randn(T + 3, B, IN, dtype="float64"))  # another T: same step, no new trace
    assert len(layer._traces.programs) == 1
    layer(mg.randn(T, B + 1, IN, dtype="float64"))  # another batch: a new step shape
    assert len(layer._traces.programs) == 2
    layer(mg.randn(T, B, IN, dtype="float64", requires_grad=True))  # x needs a gradient now
    assert len(layer._traces.programs) == 3
    with mg.no_grad():  # the same program, run without saving anything for backward
        layer(mg.randn(T, B, IN, dtype="float64"))
    assert len(layer._traces.programs) == 3
    cell.to("float32")
    layer(mg.randn(T, B, IN))  # float32 now
    assert len(layer._traces.programs) == 4
    for batch in range(1, 20):
        layer(mg.randn(2, batch, IN))
    assert len(layer._traces.programs) <= layer._traces.size


def test_replaced_parameter_is_seen() -> None:
    """The trace reads the cell's current parameters, also after one is replaced."""
    cell = cc.IndRNNCell(IN, H, dtype="float64")
    layer = nn.Recurrent(cell)
    x = mg.randn(T, B, IN, dtype="float64")
    layer(x)
    cell.u = nn.Parameter(mg.zeros(H, dtype="float64"))
    with mg.no_grad():
        got, _ = layer(x)
        want, _ = nn.Recurrent(cell, fused=False)(x)
    assert_close(got, want, rtol=0, atol=0)


def test_compiled_layer_is_one_node_per_sequence() -> None:
    cell = cc.PeepholeLSTMCell(IN, H)
    out, _ = nn.Recurrent(cell)(mg.randn(50, B, IN))
    graph_out, _ = nn.Recurrent(cell, fused=False)(mg.randn(50, B, IN))
    assert count_nodes(out) == 1
    assert count_nodes(graph_out) > 15 * 50


# ---------------------------------------------------------------------- what it refuses


class _Base(cc._Cell):
    def __init__(self) -> None:
        super().__init__(IN, H)
        self.w = self.param(H, IN + H)

    def a(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return nn.functional.linear(mg.cat([x, h], -1), self.w)


class DropoutCell(_Base):
    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return nn.functional.dropout(self.a(x, h), 0.3, training=True).tanh()


class BranchCell(_Base):
    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        a = self.a(x, h)
        return a.tanh() if a.sum() > 0 else a.sigmoid()


class NoiseCell(_Base):
    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return (self.a(x, h) + mg.randn(h.shape[0], H)).tanh()


class Square(Function):
    @staticmethod
    def forward(ctx: Any, x: mg.Tensor) -> mg.Tensor:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: mg.Tensor) -> mg.Tensor:
        (x,) = ctx.saved_tensors
        return 2 * g * x


class FunctionCell(_Base):
    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return Square.apply(self.a(x, h)).tanh()


class DetachCell(_Base):
    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return (self.a(x, h) + h.detach()).tanh()


class InPlaceCell(_Base):
    """Writes into tensors: under the tracer (no graph) that calls no op, so a recording
    would silently miss it."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how

    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        a = self.a(x, h)
        if self.how == "mul_":
            a.mul_(0.5)
        elif self.how == "+=":
            a += h
        else:
            a[:, 0] = 0
        return a.tanh()


class WrongShapeCell(_Base):
    def forward(self, x: mg.Tensor, h: mg.Tensor) -> mg.Tensor:
        return self.a(x, h)[:, :2]


@pytest.mark.parametrize("cls, match", [
    (DropoutCell, "Dropout.*fused=False"),
    (BranchCell, "data-dependent control flow.*fused=False"),
    (NoiseCell, "different values on different steps.*fused=False"),
    (DetachCell, r"different values.*\.detach\(\).*fused=False"),
    (FunctionCell, "Square.*fused=False"),
    (WrongShapeCell, r"shape \(3, 2\).*\(3, 5\)"),
    (functools.partial(InPlaceCell, "mul_"), r"in place \(Mul: \+=.*out of place.*fused=False"),
    (functools.partial(InPlaceCell, "+="), r"in place \(Add"),
    (functools.partial(InPlaceCell, "setitem"), r"in place \(SetItem"),
])
def test_what_cannot_be_compiled_is_refused_by_name(cls: Any, match: str) -> None:
    cell = cls()
    x = mg.randn(T, B, IN, requires_grad=True)
    with pytest.raises(TraceError, match=match):
        nn.Recurrent(cell)(x)
    if cls is not WrongShapeCell:  # each runs as written on the graph path
        out, _ = nn.Recurrent(cell, fused=False)(x)
        out.sum().backward()


def test_a_state_of_another_dtype_than_the_input_is_named_as_such() -> None:
    cell = cc.MinimalGatedUnit(IN, H)
    with pytest.raises(TypeError, match=r"state is float64 but the input is float32; .*"
                                        r"state.to\('float32'\), or the input, input.to"):
        nn.Recurrent(cell)(mg.randn(T, B, IN), mg.zeros(B, H, dtype="float64"))


def test_gradients_of_gradients_are_refused_with_the_way_out() -> None:
    x = mg.randn(T, B, IN, dtype="float64", requires_grad=True)
    out, _ = nn.Recurrent(cc.MinimalGatedUnit(IN, H, dtype="float64"))(x)
    with pytest.raises(RuntimeError, match="create_graph.*fused=False"):
        mg.autograd.grad((out * out).sum(), [x], create_graph=True)


def test_a_failure_inside_the_compiled_node_is_named_in_a_few_lines() -> None:
    """An array error in the replay (NumPy's ValueError) comes back as the engine's error,
    naming the node and the shapes; the node's plan, which holds the whole traced program,
    is shown cut short, not printed whole."""
    layer = nn.GRU(IN, H)
    x = mg.randn(T, B, IN)
    layer(x)
    (program,) = layer._traces.programs.values()

    def broken(*args: Any) -> None:
        raise ValueError("operands could not be broadcast together")

    program.generated.forward = broken
    with pytest.raises(RuntimeError) as err:
        layer(x)
    message = str(err.value)
    assert message.startswith("Scan[GRU] failed on inputs namespace(")
    assert f"of shape {(T, B, 3 * H)} (float32)" in message and "broadcast" in message
    assert len(message) < 400, message


def test_the_tracer_leaves_no_trace() -> None:
    """After a trace, and after a refused one, ops and tensors behave as before."""
    with pytest.raises(TraceError):
        nn.Recurrent(BranchCell())(mg.randn(T, B, IN))
    with pytest.raises(TraceError):
        nn.Recurrent(InPlaceCell("+="))(mg.randn(T, B, IN))
    t = mg.tensor([1.0])
    assert bool(t) and t.item() == 1.0
    t += 1
    t[0] = t[0] * 3
    assert t.item() == 6.0
    out = Square.apply(mg.tensor([3.0], requires_grad=True))
    assert out.item() == 9.0


# ---------------------------------------------------------------------- layer inputs


@pytest.mark.parametrize("bad, err, match", [
    ([2.7, 3, 1], TypeError, "lengths must be integers"),
    ([True, 3, 1], TypeError, "lengths must be integers"),
    ([[2, 3, 1]], ValueError, "lengths must be one-dimensional"),
    (mg.tensor([2.0, 3.0, 1.0]), TypeError, "lengths must hold integers"),
])
def test_layer_refuses_bad_lengths(bad: Any, err: type, match: str) -> None:
    lstm = nn.LSTM(IN, H)
    with pytest.raises(err, match=match):
        lstm(mg.randn(T, B, IN), lengths=bad)
    with pytest.raises(err, match=match):
        nn.Recurrent(nn.GRUCell(IN, H))(mg.randn(T, B, IN), lengths=bad)


def test_numpy_integer_lengths_are_fine() -> None:
    import numpy as np

    out, _ = nn.GRU(IN, H)(mg.randn(T, B, IN), lengths=np.array([6, 2, 4]))
    assert out.shape == (T, B, H)


@pytest.mark.parametrize("layer", [nn.LSTM(IN, H), nn.Recurrent(nn.RNNCell(IN, H))])
def test_empty_batch_is_a_clear_error(layer: nn.Module) -> None:
    with pytest.raises(ValueError, match=r"empty input of shape \(6, 0, 4\)"):
        layer(mg.randn(T, 0, IN))


def test_initial_state_on_another_device_or_dtype_is_named() -> None:
    lstm = nn.LSTM(IN, H)
    h0 = mg.zeros(1, B, H)
    with pytest.raises(TypeError, match="c0 is float64"):
        lstm(mg.randn(T, B, IN), (h0, mg.zeros(1, B, H, dtype="float64")))
    with pytest.raises(RuntimeError, match="h0 is on cuda"):
        lstm(mg.randn(T, B, IN), (h0.to("cuda"), h0))
    with pytest.raises(RuntimeError, match=r"state\[1\] is on cuda"):
        nn.Recurrent(nn.LSTMCell(IN, H))(mg.randn(T, B, IN), (mg.zeros(B, H),
                                                               mg.zeros(B, H).to("cuda")))


# ---------------------------------------------------------------------- generated GPU kernels


def _lstm_program(device: str) -> Any:
    lstm = nn.LSTM(IN, H, dtype="float64", device=device)
    out, _ = lstm(mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True))
    out.sum().backward()
    return next(iter(lstm._traces.programs.values()))


def test_lstm_step_is_one_gemm_and_one_kernel_region() -> None:
    from minigrad.jit import kernels

    p = _lstm_program("cpu")
    items = kernels.regions(p)
    names = [type(i).__name__ if isinstance(i, kernels.Region) else i.cls.__name__
             for i in items]
    assert names == ["Linear", "Add", "Split", "Region"]  # gates, c_t and h_t: one region
    region = items[-1]
    assert len(region.nodes) == 9 and len(region.inputs) == 5  # f, c_{t-1}, i, g, o
    fwd, bwd, targets = region.forward, region.backward, region.targets
    ins, outs, body = fwd.source()
    assert ins == "double in0, double in1, double in2, double in3, double in4"
    # c_t and h_t, then what backward reads: the activations f, i, g, o and tanh(c_t)
    assert outs == ", ".join(f"double out{k}" for k in range(7))
    assert body.count("exp(") == 3 and body.count("tanh(") == 2  # three sigmoids, two tanh
    assert "out0 = " in body and "out1 = " in body
    bwd_ins = bwd.source()[0]  # those five values and c_{t-1}, then dL/dc_t and dL/dh_t
    assert bwd_ins.count("double ") == 8 and bwd_ins.endswith("double g0, double g1")
    assert len(targets) == 5
    assert "exp(" not in bwd.source()[2]  # backward reads the activations, recomputes none


def test_gru_step_is_one_region_that_saves_a_copy_of_its_product_slice() -> None:
    """The GRU cell splits before its activations, so a step's elementwise math is ONE region
    (not two around a split). Backward reads W_hn h + b_hn, a slice of the step's product
    h W_hh^T: the forward kernel saves a copy of it in the region's own memory, so the
    (B, 3H) product of every step is not kept alive until backward."""
    from minigrad.jit import kernels

    gru = nn.GRU(IN, H, dtype="float64")
    out, _ = gru(mg.randn(T, B, IN, dtype="float64", requires_grad=True))
    out.sum().backward()
    items = kernels.regions(next(iter(gru._traces.programs.values())))
    names = [type(i).__name__ if isinstance(i, kernels.Region) else i.cls.__name__
             for i in items]
    assert names == ["Split", "Linear", "Split", "Region"]
    region, (xw_split, product, h_split) = items[-1], items[:3]
    assert h_split.args[0][1] == product.outs[0] and xw_split.args[0][1] != product.outs[0]
    assert all(i >= len(region.inputs) for i in region.tape)  # nothing saved by reference
    h_n = region.inputs.index(h_split.outs[2])
    ins = [np.random.default_rng(j).standard_normal((B, H)) for j in range(len(region.inputs))]
    got = region.forward(np, *ins)
    (copy,) = [a for a in got if np.array_equal(a, ins[h_n])]
    assert not np.shares_memory(copy, ins[h_n])


def test_per_step_products_read_their_weights_in_the_layout_blas_prefers() -> None:
    """On NumPy a step's product by a loop-invariant matrix gets it laid out so that ``matmul``
    reads it C-contiguous (forward only): W_hh column-major for ``F.linear`` (its forward
    multiplies by W_hh^T), a hoisted ``uf.T`` made row-major for the MGU's ``h @ uf.T``."""
    p = _lstm_program("cpu")
    ((k, lay),) = p.layout.items()
    assert p.nodes[k].cls.__name__ == "Linear" and lay is jit_scan._transposed_copy
    for shape in ((4 * H, H), (130, 7), (1, 65), (64, 1)):  # copied in blocks of 64 rows
        w = np.random.default_rng(0).standard_normal(shape)
        for arr in (w, np.asfortranarray(w), w[::-1]):
            laid = lay(arr)
            assert laid.flags.f_contiguous and np.array_equal(laid, arr), shape
    mg.manual_seed(2)
    layer = nn.Recurrent(make("MinimalGatedUnit", "cpu"), fused=True)
    layer(mg.randn(T, B, IN, dtype="float64"))
    (mgu,) = layer._traces.programs.values()
    assert sorted(lay.__name__ for lay in mgu.layout.values()) == ["_transposed_copy",
                                                                  "ascontiguousarray"]


def test_the_generated_step_is_printable_python_calling_the_ops_rules() -> None:
    """One straight-line function per step forward and one backward: an LSTM step's source
    calls Linear, Add and Split, then the gates' region as one generated kernel, and their
    backward in reverse. The kernels are printed too: NumPy ufunc calls, each temporary's
    memory reused once it is dead (``out=``)."""
    from minigrad.jit import show

    p = _lstm_program("cpu")
    src = show(p)
    step_src, kernel_src = src.split("def mg_fwd", 1)
    fwd, bwd = step_src.split("def backward_step")
    calls = [line.split(" = ")[-1].split(".forward")[0].rsplit("_", 1)[0]
             for line in fwd.splitlines() if ".forward(" in line]
    assert calls == ["Linear", "Add", "Split"]
    back = [line.split("= ")[-1].split(".backward")[0].rsplit("_", 1)[0]
            for line in bwd.splitlines() if ".backward(" in line]
    assert back == calls[::-1]
    assert fwd.count("R3(xp") == 1 and bwd.count("B3(xp") == 1  # the gates: one kernel each
    assert "for " not in src  # straight-line: no loop over the ops or the statements
    assert "L[0]" in fwd  # W_hh in the layout BLAS prefers
    forward_kernel = kernel_src.split("def mg_bwd")[0]
    assert forward_kernel.count("xp.exp(") == 3 and forward_kernel.count("xp.tanh(") == 2
    assert forward_kernel.count("out=") >= 10  # the sigmoids' steps run in place


def test_generated_kernels_compute_what_the_ops_compute() -> None:
    """The program, evaluated by NumPy ufuncs, against the ops' own forward and backward."""
    import numpy as np

    from minigrad.jit import kernels

    p = _lstm_program("cpu")
    region = kernels.regions(p)[-1]
    fwd, bwd = region.forward, region.backward
    rng = np.random.default_rng(0)
    i, f, g, o, c = (rng.standard_normal((B, H)) for _ in range(5))
    ins = (f, c, i, g, o)  # the region reads them in the cell's order
    outs = fwd(np, *ins)
    c_t, h_t = outs[:2]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert_close(c_t, sig(f) * c + sig(i) * np.tanh(g), rtol=1e-15, atol=0)
    assert_close(h_t, sig(o) * np.tanh(c_t), rtol=1e-15, atol=0)
    tensors = [mg.tensor(a, requires_grad=True) for a in (i, f, g, o, c)]
    ti, tf, tg, to, tc = tensors
    tc_t = tf.sigmoid() * tc + ti.sigmoid() * tg.tanh()
    th_t = to.sigmoid() * tc_t.tanh()
    gc, gh = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    ((tc_t * mg.tensor(gc)).sum() + (th_t * mg.tensor(gh)).sum()).backward()
    saved = [(ins + outs)[k] for k in region.tape]  # what forward kept for backward
    kept = [a.copy() for a in (*ins, *saved, gc, gh)]
    assert_close(list(bwd(np, *saved, gc, gh)), [t.grad for t in (tf, tc, ti, tg, to)],
                 rtol=1e-13, atol=1e-15)
    # memory is reused in place only for the kernels' own temporaries: what they were given
    # (inputs, saved values, gradients) is left as it was, so backward can run twice
    assert_close([*ins, *saved, gc, gh], kept, rtol=0, atol=0)


def test_on_cupy_each_region_is_one_elementwise_kernel() -> None:
    """The CuPy branch: a stand-in module receives the generated source (once per region)."""
    import numpy as np

    from minigrad.jit import kernels

    made = []

    class FakeCupy:
        def __getattr__(self, name: str) -> Any:
            return getattr(np, name)

        def ElementwiseKernel(self, ins: str, outs: str, body: str, name: str) -> Any:  # noqa: N802
            made.append(name)
            kernel = next(k for k in kernels_of_region if k.name == name)
            return lambda *arrays: kernel(np, *arrays)

    p = _lstm_program("cpu")
    region = kernels.regions(p)[-1]
    kernels_of_region = region.forward, region.backward
    xp = FakeCupy()
    arrays = [np.random.randn(B, H) for _ in range(5)]
    first = kernels_of_region[0](xp, *arrays)
    again = kernels_of_region[0](xp, *arrays)
    assert made == [kernels_of_region[0].name]  # compiled once, launched twice
    assert_close(list(first), list(kernels_of_region[0](np, *arrays)), rtol=0, atol=0)
    assert_close(list(again), list(first), rtol=0, atol=0)
    # the arrays to write into follow the inputs, as ElementwiseKernel's output arguments
    into = [np.empty((B, H)) for _ in kernels_of_region[0].outputs]
    got = kernels_of_region[0](xp, *arrays, *into)
    assert all(g is d for g, d in zip(got, into)) and len(made) == 1
    assert_close(list(got), list(first), rtol=0, atol=0)


class PassThroughCell(cc._Cell):
    """State (h, c) where c is handed on unchanged and h = tanh(W x + U h + c)."""

    n_state = 2

    def __init__(self) -> None:
        super().__init__(IN, H, dtype="float64")
        self.w, self.u = self.param(H, IN), self.param(H, H)

    def forward(self, x: mg.Tensor, state: Any) -> Any:
        h, c = state
        linear = nn.functional.linear
        return (linear(x, self.w) + linear(h, self.u) + c).tanh(), c


def test_a_state_part_handed_on_unchanged(device: str) -> None:
    cell = PassThroughCell().to(device)
    x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
    c0 = mg.randn(B, H, dtype="float64", device=device, requires_grad=True)
    results = []
    for fused in (False, True):
        x.grad = c0.grad = None
        cell.zero_grad()
        out, (h, c) = nn.Recurrent(cell, fused=fused)(x, (mg.zeros_like(c0), c0), lengths=LENGTHS)
        ((out * out).sum() + (c * h).sum()).backward()
        results.append([out.detach(), c.detach(), x.grad, c0.grad, cell.w.grad, cell.u.grad])
    assert_close(results[1], results[0], **TOL)


def test_on_the_cuda_device_each_step_runs_one_kernel_per_region(monkeypatch: Any) -> None:
    """On the (fake) CUDA device the compiled LSTM launches its region's kernel once per step
    forward and once per step backward, and still matches the graph path."""
    from minigrad.jit import kernels

    calls = []
    run = kernels.Kernel.__call__

    def counted(self: kernels.Kernel, xp: Any, *arrays: Any) -> tuple:
        calls.append(self.name.split("_")[1])
        return run(self, xp, *arrays)

    monkeypatch.setattr(kernels.Kernel, "__call__", counted)
    lstm = nn.LSTM(IN, H, dtype="float64", device="cuda")
    x = mg.randn(T, B, IN, dtype="float64", device="cuda", requires_grad=True)
    out, _ = lstm(x)
    out.sum().backward()
    assert calls == ["fwd"] * T + ["bwd"] * T
    compiled = [out.detach(), x.grad] + [p.grad for p in lstm.parameters()]
    lstm.zero_grad()
    x.grad = None
    with nn.use_fused(False):
        out, _ = lstm(x)
    out.sum().backward()
    assert_close(compiled, [out.detach(), x.grad] + [p.grad for p in lstm.parameters()],
                 **TOL)


# ---------------------------------------------------------------------- where a step writes


def _flat(result: Any) -> list[mg.Tensor]:
    out, final = result
    return [out.detach(), *(p.detach() for p in (final if isinstance(final, tuple) else
                                                 (final,)))]


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "PeepholeLSTMCell", "SoftplusWhereCell"])
def test_without_backward_two_steps_of_arrays_give_the_same_values(kind: str,
                                                                   device: str) -> None:
    """Without backward a step's values need not outlive the next step, so the regions write
    into two alternating arrays: step t reads step t-1's state while it writes its own. The
    outputs and final states are bit for bit those of the forward that keeps every step,
    with padding (``lengths=``) and in both directions."""
    mg.manual_seed(3)
    if kind in ("LSTM", "GRU"):
        layer = getattr(nn, kind)(IN, H, dtype="float64", device=device, bidirectional=True)
    else:
        layer = nn.Recurrent(make(kind, device), reverse=True)
    x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
    kept = _flat(layer(x, lengths=LENGTHS))  # recorded for backward: every step's values kept
    with mg.no_grad():
        alternating = _flat(layer(x, lengths=LENGTHS))
        with nn.use_fused(False):
            graph = _flat(layer(x, lengths=LENGTHS))
    assert_close(alternating, kept, rtol=0, atol=0)
    assert_close(alternating, graph, **TOL)


class _User:
    """Stands for a call's record for backward: the pool gets the array back when it dies."""


def test_a_regions_forward_writes_into_the_arrays_it_is_given() -> None:
    """What region k computes at step t goes into ``D[k][t]``: h_t into the sequence's
    ``outputs[t]``, each other value into one array T steps deep for all of them (NumPy maps
    one large array with few page faults), or two steps deep, reused, without backward."""
    from minigrad.jit import codegen

    p = _lstm_program("cpu")
    gen = codegen.step(p)
    ((k, region),) = gen.regions.items()
    outputs, user = np.empty((T, B, H)), _User()
    steps = gen.buffers(T, T, np, {p.outputs[0]: outputs}, user)[k]
    h_at = region.outputs.index(p.outputs[0])
    assert len(steps) == T and all(len(d) == 7 for d in steps)  # c_t, h_t, 5 kept values
    assert all(d[h_at].base is outputs for d in steps)
    others = [a for d in steps for j, a in enumerate(d) if j != h_at]
    assert len({id(a.base) for a in others}) == 1 and others[0].base.shape == (6, T, B, H)
    ins = [np.random.default_rng(j).standard_normal((B, H)) for j in range(5)]
    got = region.forward(np, *ins, *steps[2])
    assert all(g is d for g, d in zip(got, steps[2]))  # computed in place, none copied
    assert_close(list(got), list(region.forward(np, *ins)), rtol=0, atol=0)
    two = gen.buffers(T, 2, np, {}, _User())[k]
    assert all(np.shares_memory(a, b) for a, b in zip(two[0], two[2]))
    assert not any(np.shares_memory(a, b) for a, b in zip(two[0], two[1]))
    region.forward.outputs[3].dtype = np.dtype(bool)  # a value of another dtype: its own array
    mixed = gen.buffers(T, T, np, {}, _User())[k][0]
    assert mixed[3].dtype == bool and mixed[3].base.shape == (T, B, H)
    assert mixed[4].dtype == np.float64 and mixed[4].base.shape == (7, T, B, H)


def test_a_regions_array_is_reused_only_once_backward_is_done_with_it(device: str) -> None:
    """A region's array goes back to its program's pool when the call's record for backward
    is freed (after backward, or with the graph), so that the next call writes into memory
    the process has already touched. While a graph still needs it (no backward yet, or
    ``retain_graph=True``), the next call gets another array. Forward and backward calls
    interleaved in every order give the graph path's gradients."""
    from minigrad.jit import codegen

    def train(fused: bool) -> tuple[list[mg.Tensor], list[Any]]:
        mg.manual_seed(5)
        lstm = nn.LSTM(IN, H, dtype="float64", device=device, fused=fused)
        x = mg.randn(T, B, IN, dtype="float64", device=device, requires_grad=True)
        ups = [mg.randn(T, B, H, dtype="float64", device=device) for _ in range(4)]
        pools: list[dict] = []

        def pool() -> dict:  # what the pool of the LSTM's program holds now
            if not fused:
                return {}
            return dict(codegen.step(next(iter(lstm._traces.programs.values()))).pool)
        out1, _ = lstm(x)
        out2, _ = lstm(x * 2)  # the first graph still needs its array: a second one
        pools.append(pool())
        (out1 * ups[0]).sum().backward()
        pools.append(pool())  # out1's array is free again
        out3, _ = lstm(x * 3)  # and taken
        pools.append(pool())
        (out2 * ups[1]).sum().backward()
        pools.append(pool())
        (out3 * ups[2]).sum().backward(retain_graph=True)
        pools.append(pool())  # out3's graph is retained: its array is not free
        out4, _ = lstm(x * 4)
        pools.append(pool())
        (out3 * ups[2]).sum().backward()
        pools.append(pool())
        (out4 * ups[3]).sum().backward()
        pools.append(pool())
        return [x.grad] + [w.grad for w in lstm.parameters()], pools

    compiled, pools = train(True)
    graph, _ = train(False)
    assert_close(compiled, graph, **TOL)
    ((k, first),) = pools[1].items()
    second = pools[3][k]
    assert second is not first
    want = [None, first, None, second, second, None, first, second]
    assert all(p.get(k) is w for p, w in zip(pools, want)), [id(p.get(k)) for p in pools]
