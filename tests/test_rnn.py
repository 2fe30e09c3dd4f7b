"""Recurrent cells and layers: PyTorch's numbers, PyTorch's names, and the lengths= semantics.

The reference values come from ``tests/reference/fixtures/rnn_{float64,float32}.npz``, bundles
of ``mg.testing`` references written by ``tests/reference/generate_rnn.py`` with PyTorch (not
needed here). Each case loads the
torch state_dict into the minigrad module, runs the same inputs, and compares outputs, final
states and the gradients of input, initial state and every parameter.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import close_to_reference, count_nodes

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.nn.layers import Embedding, Linear
from minigrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell, gru_cell
from minigrad.testing import Reference, load_references

FIXTURES = Path(__file__).resolve().parent / "reference" / "fixtures"
REGENERATE = "regenerate with `python tests/reference/generate_rnn.py` (needs torch)"


@functools.cache
def load(dtype: str) -> dict[str, Reference]:
    """Every case of the bundle ``rnn_<dtype>.npz``, read once through mg.testing."""
    path = FIXTURES / f"rnn_{dtype}.npz"
    if not path.exists():
        pytest.fail(f"missing fixture {path}; {REGENERATE}")
    return load_references(path)


def case_names() -> list[str]:
    return list(load("float64"))


def build(cfg: dict[str, Any], dtype: Any, device: str) -> Any:
    """The minigrad module a fixture case describes (sizes as in generate_rnn.py)."""
    kind, n_in, hidden = cfg["kind"], 4, 3
    kw: dict[str, Any] = dict(bias=cfg["bias"], dtype=dtype, device=device)
    if "num_layers" not in cfg:  # a cell
        if kind.startswith("rnn"):
            return RNNCell(n_in, hidden, nonlinearity=kind[4:], **kw)
        return (LSTMCell if kind == "lstm" else GRUCell)(n_in, hidden, **kw)
    kw.update(num_layers=cfg["num_layers"], batch_first=cfg["batch_first"],
              bidirectional=cfg["bidirectional"])
    if kind.startswith("rnn"):
        return RNN(n_in, hidden, nonlinearity=kind[4:], **kw)
    return (LSTM if kind == "lstm" else GRU)(n_in, hidden, **kw)


def assert_matches(actual: mg.Tensor, expected: np.ndarray, dtype: str, device: str,
                   what: str) -> None:
    """On the device asked for, and close to the fixture (shape, dtype and values)."""
    assert actual.device == mg.device(device), f"{what}: on {actual.device}, expected {device}"
    close_to_reference(actual, expected, dtype, name=what)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", case_names())
def test_matches_pytorch(name: str, dtype: str, device: str) -> None:
    ref = load(dtype)[name]
    cfg = ref.meta["config"]
    model = build(cfg, dtype, device)
    sd = {k: ref.inputs[k] for k in ref.meta["parameters"]}
    # same parameter names in the same order as torch, so the state_dict loads as is
    assert list(model.state_dict()) == list(sd)
    model.load_state_dict(sd)

    lstm = cfg["kind"] == "lstm"
    leaves = {k: mg.tensor(ref.inputs[k], device=device, requires_grad=True)
              for k in ("x", "h0", "c0") if k in ref.inputs}
    state: Any = None
    if cfg["h0"]:
        state = (leaves["h0"], leaves["c0"]) if lstm else leaves["h0"]
    if "num_layers" in cfg:
        lengths = ref.inputs["lengths"].tolist() if cfg["lengths"] else None
        out, final = model(leaves["x"], state, lengths=lengths)
    else:
        out, final = None, model(leaves["x"], state)
    h_n, c_n = final if lstm else (final, None)
    got = {k: v for k, v in (("out", out), ("h_n", h_n), ("c_n", c_n)) if v is not None}
    assert list(got) == ref.output_names, f"outputs {list(got)}, expected {ref.output_names}"

    loss: Any = 0
    for key, t in got.items():
        assert_matches(t, ref.outputs[key], dtype, device, key)
        loss = loss + (t * mg.tensor(ref.grad_outputs[key], device=device)).sum()
    loss.backward()
    for key, t in leaves.items():
        assert t.grad is not None, f"{key} got no gradient"
        assert_matches(t.grad, ref.grads[key], dtype, device, f"grad of {key}")
    for key, p in model.named_parameters():
        assert p.grad is not None, f"{key} got no gradient"
        assert_matches(p.grad, ref.grads[key], dtype, device, f"grad of {key}")


def test_fixtures_cover_every_option() -> None:
    cfgs = [ref.meta["config"] for ref in load("float64").values()]
    layers = [c for c in cfgs if "num_layers" in c]
    for kind in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
        mine = [c for c in layers if c["kind"] == kind]
        for key in ("num_layers", "bias", "batch_first", "bidirectional", "h0", "lengths",
                    "unbatched"):
            assert len({c[key] for c in mine}) == 2, (kind, key)
        cells = [c for c in cfgs if "num_layers" not in c and c["kind"] == kind]
        assert {(c["bias"], c["h0"]) for c in cells} == {(a, b) for a in (0, 1) for b in (0, 1)}
    assert list(load("float32")) == list(load("float64"))


# ---------------------------------------------------------------------- structure


def test_parameter_names_shapes_and_order() -> None:
    lstm = LSTM(4, 3, num_layers=2, bidirectional=True)
    shapes = [(k, tuple(v.shape)) for k, v in lstm.state_dict().items()]
    expected = []
    for layer, n_in in ((0, 4), (1, 6)):
        for sfx in ("", "_reverse"):
            expected += [(f"weight_ih_l{layer}{sfx}", (12, n_in)),
                         (f"weight_hh_l{layer}{sfx}", (12, 3)),
                         (f"bias_ih_l{layer}{sfx}", (12,)), (f"bias_hh_l{layer}{sfx}", (12,))]
    assert shapes == expected
    gru = GRU(4, 3, bias=False)
    assert [(k, tuple(v.shape)) for k, v in gru.state_dict().items()] == [
        ("weight_ih_l0", (9, 4)), ("weight_hh_l0", (9, 3))]
    cell = LSTMCell(4, 3, bias=False)
    assert list(cell.state_dict()) == ["weight_ih", "weight_hh"]
    assert cell.bias_ih is None and cell.bias_hh is None


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell])
def test_init_uniform_and_seeded(cls: Any) -> None:
    mg.manual_seed(1)
    a = cls(4, 16)
    mg.manual_seed(1)
    b = cls(4, 16)
    bound = 1 / 4  # 1/sqrt(H)
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        v = p.detach().numpy()
        assert p.dtype == mg.float32 and p.requires_grad
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.8 * bound, name
        np.testing.assert_array_equal(v, q.detach().numpy())


def test_graph_nodes_per_step() -> None:
    """LSTM 12 (one product, one add, one split, 9 for the gates to h_t); GRU 13 (two splits
    into r, z, n, so that r and z have a sigmoid each and the elementwise math is one run)."""
    lstm = LSTM(4, 3, fused=False)
    counts = [count_nodes(lstm(mg.randn(t, 2, 4))[0]) for t in (10, 20)]
    assert (counts[1] - counts[0]) / 10 == 12
    gru = GRU(4, 3, fused=False)
    counts = [count_nodes(gru(mg.randn(t, 2, 4))[0]) for t in (10, 20)]
    assert (counts[1] - counts[0]) / 10 == 13


def test_cells_and_layers_share_the_math(device: str) -> None:
    """A Python loop over LSTMCell with the layer's weights gives the layer's output."""
    lstm = LSTM(4, 3, device=device, dtype=mg.float64)
    cell = LSTMCell(4, 3, device=device, dtype=mg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = mg.randn(6, 2, 4, dtype=mg.float64, device=device)
    out, (h_n, c_n) = lstm(x)
    state = None
    for t in range(6):
        state = cell(x[t], state)
        np.testing.assert_allclose(state[0].detach().cpu().numpy(),
                                   out[t].detach().cpu().numpy(), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(state[1].detach().cpu().numpy(), c_n[0].detach().cpu().numpy(),
                               rtol=1e-14, atol=1e-15)


def test_repr() -> None:
    assert "LSTM(4, 3, num_layers=2, bidirectional=True)" in repr(
        LSTM(4, 3, num_layers=2, bidirectional=True))
    assert "RNNCell(4, 3, bias=False, nonlinearity='relu')" in repr(
        RNNCell(4, 3, bias=False, nonlinearity="relu"))
    assert "reset_after=False" in repr(GRU(4, 3, reset_after=False))


# ---------------------------------------------------------------------- GRU reset_after=False


def np_sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


def np_gru_textbook(x: np.ndarray, h: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                    b_ih: np.ndarray, b_hh: np.ndarray) -> np.ndarray:
    """Cho et al. 2014, written out gate by gate in NumPy."""
    hid = h.shape[-1]
    w_ir, w_iz, w_in = np.split(w_ih, 3)
    w_hr, w_hz, w_hn = np.split(w_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    assert w_hn.shape == (hid, hid)
    r = np_sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = np_sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n = np.tanh(x @ w_in.T + b_in + (r * h) @ w_hn.T + b_hn)
    return (1 - z) * n + z * h


def test_gru_textbook_matches_numpy(device: str) -> None:
    cell = GRUCell(4, 3, reset_after=False, dtype=mg.float64, device=device)
    gru = GRU(4, 3, reset_after=False, dtype=mg.float64, device=device)
    gru.load_state_dict({k + "_l0": v for k, v in cell.state_dict().items()})
    x = mg.randn(5, 2, 4, dtype=mg.float64, device=device)
    h0 = mg.randn(1, 2, 3, dtype=mg.float64, device=device)
    w = [v.cpu().numpy() for v in cell.state_dict().values()]  # w_ih, w_hh, b_ih, b_hh
    h = h0[0].cpu().numpy()
    out, h_n = gru(x, h0)
    for t in range(5):
        h_cell = cell(x[t], mg.tensor(h, device=device))
        h = np_gru_textbook(x[t].cpu().numpy(), h, *w)
        np.testing.assert_allclose(h_cell.detach().cpu().numpy(), h, rtol=1e-13)
        np.testing.assert_allclose(out[t].detach().cpu().numpy(), h, rtol=1e-13)
    np.testing.assert_allclose(h_n[0].detach().cpu().numpy(), h, rtol=1e-13)
    # the two forms differ (same weights), so the switch does something
    default = GRUCell(4, 3, dtype=mg.float64, device=device)
    default.load_state_dict(cell.state_dict())
    h1 = mg.randn(2, 3, dtype=mg.float64, device=device)
    assert not np.allclose(default(x[0], h1).detach().cpu().numpy(),
                           cell(x[0], h1).detach().cpu().numpy())


@pytest.mark.parametrize("bias", [True, False])
def test_gru_textbook_gradcheck(bias: bool) -> None:
    cell = GRUCell(3, 2, bias=bias, reset_after=False, dtype=mg.float64)
    x = mg.randn(2, 3, dtype=mg.float64, requires_grad=True)
    h = mg.randn(2, 2, dtype=mg.float64, requires_grad=True)
    params = list(cell.parameters())

    def f(x: mg.Tensor, h: mg.Tensor, *ps: mg.Tensor) -> mg.Tensor:
        w_ih, w_hh, *bs = ps
        b_ih, b_hh = bs if bs else (None, None)
        return gru_cell(F.linear(x, w_ih, b_ih), h, w_hh, b_hh, reset_after=False)

    assert mg.autograd.gradcheck(f, [x, h, *params])


def test_gru_textbook_layer_gradcheck() -> None:
    gru = GRU(2, 2, bidirectional=True, reset_after=False, dtype=mg.float64)
    x = mg.randn(4, 3, 2, dtype=mg.float64, requires_grad=True)
    h0 = mg.randn(2, 3, 2, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda x, h0: gru(x, h0, lengths=[4, 1, 3])[0], [x, h0])


# ---------------------------------------------------------------------- lengths


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_equal_running_each_sequence_alone(cls: Any, batch_first: bool,
                                                   device: str) -> None:
    model = cls(4, 3, num_layers=2, bidirectional=True, batch_first=batch_first,
                dtype=mg.float64, device=device)
    lengths = [5, 0, 2, 4]
    x = mg.randn(4, 5, 4, dtype=mg.float64, device=device, requires_grad=True)
    xs = x if batch_first else x.transpose(0, 1)
    out, final = model(xs, lengths=mg.tensor(lengths))
    out = out if batch_first else out.transpose(0, 1)  # (B, T, 2H)
    h_n = final[0] if cls is LSTM else final
    gout = mg.randn(*out.shape, dtype=mg.float64, device=device)
    (out * gout).sum().backward()
    for b, n in enumerate(lengths):
        np.testing.assert_array_equal(out[b, n:].detach().cpu().numpy(), 0)
        np.testing.assert_array_equal(x.grad[b, n:].cpu().numpy(), 0)
        if n == 0:  # an empty sequence keeps the initial (zero) state
            np.testing.assert_array_equal(h_n[:, b].detach().cpu().numpy(), 0)
            continue
        xb = x[b:b + 1, :n].detach()
        out_b, final_b = model(xb if batch_first else xb.transpose(0, 1))
        out_b = out_b if batch_first else out_b.transpose(0, 1)
        hb = final_b[0] if cls is LSTM else final_b
        np.testing.assert_allclose(out[b, :n].detach().cpu().numpy(),
                                   out_b[0].detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(h_n[:, b].detach().cpu().numpy(),
                                   hb[:, 0].detach().cpu().numpy(), rtol=1e-12, atol=1e-14)


def test_lengths_with_initial_state_keep_it_for_empty_sequences(device: str) -> None:
    lstm = LSTM(2, 3, bidirectional=True, device=device)
    h0, c0 = mg.randn(2, 2, 3, device=device), mg.randn(2, 2, 3, device=device)
    _, (h_n, c_n) = lstm(mg.randn(4, 2, 2, device=device), (h0, c0), lengths=[0, 4])
    np.testing.assert_array_equal(h_n[:, 0].detach().cpu().numpy(), h0[:, 0].cpu().numpy())
    np.testing.assert_array_equal(c_n[:, 0].detach().cpu().numpy(), c0[:, 0].cpu().numpy())


# ---------------------------------------------------------------------- dropout, dtype


def test_dropout_between_layers_only() -> None:
    x = mg.randn(5, 2, 4)
    one = LSTM(4, 3, dropout=0.5)
    assert np.array_equal(one(x)[0].detach().numpy(), one.eval()(x)[0].detach().numpy())
    two = LSTM(4, 3, num_layers=2, dropout=0.5)
    train_out = two(x)[0].detach().numpy()
    two.eval()
    eval_out = two(x)[0].detach().numpy()
    assert not np.allclose(train_out, eval_out)
    assert np.array_equal(eval_out, two(x)[0].detach().numpy())  # eval is deterministic
    # layer 1's h_n is computed before any dropout: equal in both modes
    two.train()
    np.testing.assert_array_equal(two(x)[1][0][0].detach().numpy(),
                                  two.eval()(x)[1][0][0].detach().numpy())


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_float32_model_has_float32_gradients(cls: Any, device: str) -> None:
    """No float64 sneaks in (a Python float, a mask, a zero state): every grad is float32."""
    emb = Embedding(10, 4).to(device)
    model = cls(4, 3, num_layers=2, bidirectional=True, dropout=0.3, device=device)
    head = Linear(6, 5).to(device)
    x = emb(mg.tensor(np.random.randint(0, 10, (6, 3)), device=device)) * 0.5  # a Python float
    h0 = mg.zeros(4, 3, 3, device=device)
    out, _ = model(x, (h0, h0) if cls is LSTM else h0, lengths=[6, 2, 4])
    logits = head(out)
    loss = F.cross_entropy(logits.reshape(-1, 5),
                           mg.tensor(np.random.randint(0, 5, 18), device=device))
    loss.backward()
    for p in [*model.parameters(), *emb.parameters(), *head.parameters()]:
        assert p.grad is not None and p.grad.dtype == mg.float32, p.grad.dtype


# ---------------------------------------------------------------------- errors


def test_error_messages() -> None:
    lstm = LSTM(4, 3, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: expected input of shape \(T, B, 4\) "
                                         r"\(batch_first=False\), got \(5, 3, 7\)"):
        lstm(mg.randn(5, 3, 7))
    with pytest.raises(ValueError, match=r"expected input of shape \(B, T, 4\)"):
        GRU(4, 3, batch_first=True)(mg.randn(2, 5, 3, 4))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 3, 3\).*got \(1, 3, 3\)"):
        lstm(mg.randn(5, 3, 4), (mg.zeros(1, 3, 3), mg.zeros(2, 3, 3)))
    with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 3, 3\)"):
        lstm(mg.randn(5, 3, 4), (mg.zeros(2, 3, 3), mg.zeros(2, 3)))
    with pytest.raises(TypeError, match=r"expected hx to be a tuple \(h0, c0\)"):
        lstm(mg.randn(5, 3, 4), mg.zeros(2, 3, 3))
    with pytest.raises(TypeError, match="expected hx to be a tensor h0"):
        GRU(4, 3)(mg.randn(5, 3, 4), (mg.zeros(1, 3, 3), mg.zeros(1, 3, 3)))
    with pytest.raises(ValueError, match=r"one length in \[0, T=5\] per batch element \(B=3\)"):
        lstm(mg.randn(5, 3, 4), lengths=[5, 6, 1])
    with pytest.raises(ValueError, match=r"one length .* got \[5, 1\]"):
        lstm(mg.randn(5, 3, 4), lengths=[5, 1])
    with pytest.raises(TypeError, match=r"input is float64 but the parameters are float32"):
        lstm(mg.randn(5, 3, 4, dtype=mg.float64))
    with pytest.raises(TypeError, match=r"c0 is float64 but the parameters are float32"):
        lstm(mg.randn(5, 3, 4), (mg.zeros(2, 3, 3), mg.zeros(2, 3, 3, dtype=mg.float64)))
    with pytest.raises(TypeError, match=r"GRUCell: state is float64"):
        GRUCell(4, 3)(mg.randn(2, 4), mg.zeros(2, 3, dtype=mg.float64))
    with pytest.raises(ValueError, match=r"LSTMCell: expected input of shape \(B, 4\)"):
        LSTMCell(4, 3)(mg.randn(2, 5))
    with pytest.raises(ValueError, match=r"expected a state of shape \(2, 3\)"):
        GRUCell(4, 3)(mg.randn(2, 4), mg.zeros(3, 3))
    with pytest.raises(TypeError, match=r"the state must be a tuple \(h, c\)"):
        LSTMCell(4, 3)(mg.randn(2, 4), mg.zeros(2, 3))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        LSTM(4, 0)
