"""The compiled recurrent path computes what the graph cells compute: values and every gradient.

``nn.RNN/LSTM/GRU(..., fused=True)`` runs each layer and direction as one node over the whole
sequence, compiled by minigrad/jit from the very cell functions the graph path unrolls; its
BPTT replays the ops' own backward rules. Here the same module, with the same weights, runs
once on each path, over every combination of options, and everything is compared: output,
final states, and the gradients of input, initial states and all parameters. The PyTorch
fixtures of tests/test_rnn.py are also run on both paths.

``PYTHONPATH=. python tests/test_fused.py`` prints the memory (tracemalloc) of one forward+backward
of the benchmark's workload (b), Embedding(65,128) -> LSTM(128,256) -> Linear(256,65) at every step,
B=64, T=64, on each path.
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from typing import Any

import numpy as np
import pytest
from conftest import count_nodes

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.nn.layers import Embedding, Linear
from minigrad.nn.rnn import (
    GRU,
    LSTM,
    RNN,
    is_fused_default,
    set_fused_default,
    use_fused,
)
from minigrad.testing import assert_close

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_textbook")
TOL = {"float64": dict(rtol=1e-12, atol=1e-14), "float32": dict(rtol=1e-5, atol=1e-6)}
T, B, IN, H = 5, 3, 4, 3
LENGTHS = [5, 2, 4]  # unsorted; min 2, so steps 2.. are masked


def build(kind: str, dtype: str, device: str, **kw: Any) -> Any:
    kw.update(dtype=dtype, device=device)
    if kind.startswith("rnn"):
        return RNN(IN, H, nonlinearity=kind[4:], **kw)
    if kind.startswith("gru"):
        return GRU(IN, H, reset_after=kind == "gru", **kw)
    return LSTM(IN, H, **kw)


def run(model: Any, fused: bool, x: mg.Tensor, state: Any, lengths: Any,
        upstream: dict[str, mg.Tensor]) -> dict[str, np.ndarray]:
    """Forward and backward on one path; every value and gradient, keyed by name."""
    model.fused = fused
    model.zero_grad()
    leaves = [x] + ([] if state is None else list(state) if isinstance(state, tuple) else [state])
    for t in leaves:
        t.grad = None
    out, final = model(x, state, lengths=lengths)
    h_n, c_n = final if isinstance(final, tuple) else (final, None)
    loss = (out * upstream["out"]).sum() + (h_n * upstream["h"]).sum()
    if c_n is not None:
        loss = loss + (c_n * upstream["c"]).sum()
    loss.backward()
    got = {"out": out, "h_n": h_n, "c_n": c_n, "grad x": x.grad}
    for i, t in enumerate(leaves[1:]):
        got[f"grad state {i}"] = t.grad
    for name, p in model.named_parameters():
        got[f"grad {name}"] = p.grad
    return {k: v.detach().cpu().numpy() for k, v in got.items() if v is not None}


def compare(kind: str, dtype: str, device: str, num_layers: int, bidirectional: bool,
            lengths: bool, with_state: bool, bias: bool, batch_first: bool) -> None:
    model = build(kind, dtype, device, num_layers=num_layers, bidirectional=bidirectional,
                  bias=bias, batch_first=batch_first)
    x = mg.randn(*((B, T, IN) if batch_first else (T, B, IN)), dtype=dtype, device=device,
                 requires_grad=True)
    d = 2 if bidirectional else 1
    shape = (num_layers * d, B, H)
    state = None
    if with_state:
        parts = [mg.randn(*shape, dtype=dtype, device=device, requires_grad=True)
                 for _ in range(2 if kind == "lstm" else 1)]
        state = tuple(parts) if kind == "lstm" else parts[0]
    out_shape = (B, T, d * H) if batch_first else (T, B, d * H)
    upstream = {"out": mg.randn(*out_shape, dtype=dtype, device=device),
                "h": mg.randn(*shape, dtype=dtype, device=device),
                "c": mg.randn(*shape, dtype=dtype, device=device)}
    lens = LENGTHS if lengths else None
    graph = run(model, False, x, state, lens, upstream)
    fused = run(model, True, x, state, lens, upstream)
    assert graph.keys() == fused.keys()
    n_params = len(list(model.parameters()))
    assert len(graph) == 3 + (kind == "lstm") + with_state * (1 + (kind == "lstm")) + n_params
    for key, want in graph.items():
        assert fused[key].dtype == want.dtype == np.dtype(dtype), key
        assert_close(fused[key], want, **TOL[dtype], name=key)


GRID = list(itertools.product((1, 2), (False, True), (False, True), (False, True),
                              (False, True), (False, True)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fused_equals_graph_every_option(kind: str, dtype: str, device: str) -> None:
    """kind x num_layers x bidirectional x lengths x initial state x bias x batch_first."""
    for num_layers, bidi, lengths, with_state, bias, batch_first in GRID:
        mg.manual_seed(hash((kind, num_layers, bidi, lengths, with_state, bias)) % 2**31)
        compare(kind, dtype, device, num_layers, bidi, lengths, with_state, bias, batch_first)


@pytest.mark.parametrize("kind", KINDS)
def test_fused_equals_graph_unbatched_and_long(kind: str, device: str) -> None:
    """Unbatched (T, in) input, and a 40-step sequence with wider layers (more rounding)."""
    model = build(kind, "float64", device, num_layers=2, bidirectional=True)
    x = mg.randn(T, IN, dtype=mg.float64, device=device)
    with use_fused(False):
        graph_out, graph_h = model(x)
    with use_fused(True):
        fused_out, fused_h = model(x)
    assert_close(fused_out, graph_out, rtol=1e-12, atol=1e-14)
    model = build(kind, "float64", device, num_layers=2)
    for layer in (0, 1):  # bigger weights than the default init: far from linear
        w = getattr(model, f"weight_hh_l{layer}")
        with mg.no_grad():
            w *= 3.0
    model_in = mg.randn(40, 6, IN, dtype=mg.float64, device=device, requires_grad=True)
    up = {"out": mg.randn(40, 6, H, dtype=mg.float64, device=device),
          "h": mg.randn(2, 6, H, dtype=mg.float64, device=device),
          "c": mg.randn(2, 6, H, dtype=mg.float64, device=device)}
    lens = [40, 1, 17, 39, 0, 25]
    graph = run(model, False, model_in, None, lens, up)
    fused = run(model, True, model_in, None, lens, up)
    for key, want in graph.items():
        assert_close(fused[key], want, rtol=1e-11, atol=1e-13, name=key)


def test_fused_forward_values_are_bitwise_those_of_the_graph() -> None:
    """Same expressions in the same order: on NumPy the forward is identical, not just close."""
    for kind in KINDS:
        model = build(kind, "float64", "cpu", num_layers=2, bidirectional=True)
        x = mg.randn(T, B, IN, dtype=mg.float64)
        with use_fused(False):
            graph = model(x, lengths=LENGTHS)[0].detach().numpy()
        with use_fused(True):
            fused = model(x, lengths=LENGTHS)[0].detach().numpy()
        assert_close(fused, graph, rtol=0, atol=0, name=kind)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_dropout_between_layers_same_on_both_paths(kind: str, device: str) -> None:
    model = build(kind, "float64", device, num_layers=3, dropout=0.4)
    x = mg.randn(T, B, IN, dtype=mg.float64, device=device, requires_grad=True)
    up = {k: mg.randn(*s, dtype=mg.float64, device=device)
          for k, s in (("out", (T, B, H)), ("h", (3, B, H)), ("c", (3, B, H)))}
    mg.manual_seed(7)
    graph = run(model, False, x, None, None, up)
    mg.manual_seed(7)  # the same dropout masks
    fused = run(model, True, x, None, None, up)
    for key, want in graph.items():
        assert_close(fused[key], want, rtol=1e-12, atol=1e-14, name=key)


# ---------------------------------------------------------------------- PyTorch's numbers


def _layer_cases() -> list[str]:
    from test_rnn import load

    return [n for n, ref in load("float64").items() if "num_layers" in ref.meta["config"]]


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_pytorch_fixtures_on_both_paths(fused: bool, dtype: str, device: str) -> None:
    """tests/test_rnn.py's reference cases (every layer option), run on the chosen path."""
    from test_rnn import test_matches_pytorch

    with use_fused(fused):
        for name in _layer_cases():
            test_matches_pytorch(name, dtype, device)


# ---------------------------------------------------------------------- dtypes, safety


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_float32_model_has_float32_gradients_fused(cls: Any, device: str) -> None:
    emb = Embedding(10, 4).to(device)
    model = cls(4, 3, num_layers=2, bidirectional=True, dropout=0.3, device=device, fused=True)
    head = Linear(6, 5).to(device)
    x = emb(mg.tensor(np.random.randint(0, 10, (6, 3)), device=device)) * 0.5
    h0 = mg.zeros(4, 3, 3, device=device, requires_grad=True)
    out, final = model(x, (h0, h0) if cls is LSTM else h0, lengths=[6, 2, 4])
    logits = head(out)
    loss = F.cross_entropy(logits.reshape(-1, 5),
                           mg.tensor(np.random.randint(0, 5, 18), device=device))
    assert out.dtype == mg.float32 and loss.dtype == mg.float32
    loss.backward()
    for p in [*model.parameters(), *emb.parameters(), *head.parameters(), h0]:
        assert p.grad is not None and p.grad.dtype == mg.float32, p.grad.dtype


@pytest.mark.parametrize("kind", KINDS)
def test_changing_weight_hh_in_place_before_backward_raises(kind: str, device: str) -> None:
    model = build(kind, "float64", device, fused=True)
    out, _ = model(mg.randn(T, B, IN, dtype=mg.float64, device=device))
    w = model.weight_hh_l0
    with mg.no_grad():
        w += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_changing_the_output_in_place_before_backward_raises() -> None:
    """The output is a view of the buffer backward reads, so it is guarded like a saved value."""
    lstm = LSTM(IN, H, fused=True)
    out, (h_n, c_n) = lstm(mg.randn(T, B, IN))
    loss = (out * out).sum()
    with mg.no_grad():
        out += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_retain_graph_backward_twice_gives_the_same_gradients(device: str) -> None:
    lstm = LSTM(IN, H, bidirectional=True, dtype=mg.float64, device=device, fused=True)
    out, _ = lstm(mg.randn(T, B, IN, dtype=mg.float64, device=device), lengths=[5, 3, 1])
    loss = (out * out).sum()
    loss.backward(retain_graph=True)
    first = [p.grad.cpu().numpy().copy() for p in lstm.parameters()]
    lstm.zero_grad()
    loss.backward()
    for a, b in zip(first, lstm.parameters()):
        assert_close(b.grad.cpu().numpy(), a, rtol=0, atol=0)


def test_no_grad_inference_builds_no_graph() -> None:
    gru = GRU(IN, H, num_layers=2, fused=True)
    with mg.no_grad():
        out, h_n = gru(mg.randn(T, B, IN))
    assert not out.requires_grad and out._node is None


def test_higher_order_gradients_are_refused() -> None:
    lstm = LSTM(IN, H, dtype=mg.float64, fused=True)
    x = mg.randn(T, B, IN, dtype=mg.float64, requires_grad=True)
    out, _ = lstm(x)
    with pytest.raises(RuntimeError, match="create_graph.*fused=False"):
        mg.autograd.grad((out * out).sum(), [x], create_graph=True)


# ---------------------------------------------------------------------- switches, kernel


def test_switches_choose_the_path() -> None:
    x = mg.randn(20, 2, IN)
    lstm = LSTM(IN, H)
    assert lstm.fused is None and is_fused_default()
    fused_nodes = count_nodes(lstm(x)[0])
    assert fused_nodes <= 4  # reshape, Linear (all steps' input part), reshape, the scan
    with use_fused(False):
        assert not is_fused_default()
        assert count_nodes(lstm(x)[0]) > 12 * 20
        assert count_nodes(LSTM(IN, H, fused=True)(x)[0]) == fused_nodes  # explicit wins
    assert is_fused_default()
    set_fused_default(False)
    try:
        assert count_nodes(lstm(x)[0]) > 12 * 20
    finally:
        set_fused_default(True)
    assert "fused=False" in repr(LSTM(IN, H, fused=False))
    assert "fused" not in repr(LSTM(IN, H))


# ---------------------------------------------------------------------- memory (item 6)


def memory(fused: bool, batch: int = 64, steps: int = 64, hidden: int = 256) -> tuple[int, int]:
    """Bytes traced in one forward+backward of workload (b) (float32): (held between forward
    and backward, i.e. what is saved for backward; peak over forward and backward)."""
    mg.manual_seed(0)
    emb, lstm, head = Embedding(65, 128), LSTM(128, hidden, fused=fused), Linear(hidden, 65)
    tokens = mg.tensor(np.random.randint(0, 65, (steps, batch)))
    target = mg.tensor(np.random.randint(0, 65, steps * batch))
    gc.collect()
    tracemalloc.start()
    try:
        out, _ = lstm(emb(tokens))
        loss = F.cross_entropy(head(out).reshape(-1, 65), target)
        del out
        held = tracemalloc.get_traced_memory()[0]
        loss.backward()
        return held, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_compiled_path_saves_less_for_backward() -> None:
    """It keeps what the ops' backward rules read and no graph: less than the graph path.
    Its peak is somewhat higher (every step's saved values stay until the whole sequence's
    backward returns, and the weight gradients gather the gate gradients of a chunk of steps;
    here the chunk is the whole sequence): bounded here so that it cannot grow unnoticed.
    (Freeing each step's values as backward passed it brought this to 1.23x, but made glibc
    return the heap's top to the system at every step: 1 -> 5,751 page faults and 15% more
    time per forward + backward of workload (b)'s layer.)"""
    (graph_held, graph_peak), (fused_held, fused_peak) = (memory(False, 16, 32, 64),
                                                          memory(True, 16, 32, 64))
    assert fused_held < 0.95 * graph_held, (fused_held, graph_held)
    assert fused_peak < 1.4 * graph_peak, (fused_peak, graph_peak)


if __name__ == "__main__":
    for fused in (False, True):
        held, peak = memory(fused)
        print(f"workload (b), fused={fused}: {held / 2**20:.1f} MiB held from forward to "
              f"backward, peak {peak / 2**20:.1f} MiB")
