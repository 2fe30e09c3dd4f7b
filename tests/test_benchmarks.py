"""The benchmarks: the hand-written NumPy LSTM's gradients are right, and the scripts run.

``benchmarks/numpy_lstm.py`` is the floor every autograd row is compared with, so its BPTT is
checked here against minigrad's graph LSTM (float64, rtol 1e-6) for each of the three heads the
benchmark uses. The two benchmark scripts are then run in subprocesses, on tiny sizes, side by
side to keep the wall time down.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.testing import assert_close

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))
from numpy_lstm import HandLSTM, init_params  # noqa: E402

LSTM_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def graph_lstm(n_in: int, hidden: int) -> mg.nn.LSTM:
    """minigrad's LSTM on the graph path."""
    return mg.nn.LSTM(n_in, hidden, dtype=mg.float64, fused=False)


def minigrad_grads(p: dict[str, np.ndarray], head: str, x: np.ndarray,
                   target: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """The same model as HandLSTM, built from minigrad layers; loss and gradients."""
    n_in, hidden = p["lstm.weight_ih_l0"].shape[1], p["lstm.weight_hh_l0"].shape[1]
    lstm = graph_lstm(n_in, hidden)
    leaves = {}
    for name in LSTM_NAMES:
        getattr(lstm, name).data[...] = p["lstm." + name]
        leaves["lstm." + name] = getattr(lstm, name)
    for name in ("embedding.weight", "fc.weight", "fc.bias"):
        if name in p:
            leaves[name] = mg.tensor(p[name], requires_grad=True)
    inputs = (F.embedding(mg.tensor(x), leaves["embedding.weight"])
              if "embedding.weight" in p else mg.tensor(x))
    out, _ = lstm(inputs)
    T, B = x.shape[:2]
    if head == "last_mse":
        loss = F.mse_loss(out[-1], mg.tensor(target))
    else:
        feats = out[-1] if head == "last_ce" else out.reshape(T * B, hidden)
        logits = F.linear(feats, leaves["fc.weight"], leaves["fc.bias"])
        loss = F.cross_entropy(logits, mg.tensor(target))
    loss.backward()
    return loss.item(), {k: v.grad for k, v in leaves.items()}


@pytest.mark.parametrize("reuse", [True, False])
@pytest.mark.parametrize("head", ["last_ce", "all_ce", "last_mse"])
def test_hand_bptt_matches_minigrad(head: str, reuse: bool) -> None:
    T, B, n_in, hidden, vocab, n_out = 5, 3, 4, 6, 7, 5
    uses_emb = head != "last_mse"
    p = init_params(n_in, hidden, vocab=vocab if uses_emb else None,
                    n_out=n_out if head != "last_mse" else None, dtype=np.float64, seed=3)
    rng = np.random.default_rng(1)
    x = rng.integers(0, vocab, (T, B)) if uses_emb else rng.standard_normal((T, B, n_in))
    if head == "last_mse":
        target = rng.standard_normal((B, hidden))
    else:
        target = rng.integers(0, n_out, (T * B,) if head == "all_ce" else (B,))
    hand = HandLSTM({k: v.copy() for k, v in p.items()}, head, reuse_buffers=reuse)
    hand.loss_and_grads(x, target)  # twice: reused buffers must not leak into the next call
    loss, grads = hand.loss_and_grads(x, target)
    want_loss, want = minigrad_grads(p, head, x, target)
    assert_close(loss, want_loss, rtol=1e-12, name="loss")
    assert set(grads) == set(want)
    for name, g in grads.items():
        assert_close(g, want[name], rtol=1e-6, atol=1e-12, name=name)


def test_hand_bptt_keeps_float32() -> None:
    p = init_params(4, 6, vocab=7, n_out=5)
    rng = np.random.default_rng(0)
    _, grads = HandLSTM(p, "all_ce").loss_and_grads(rng.integers(0, 7, (5, 3)),
                                                    rng.integers(0, 5, 15))
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}


def test_benchmark_scripts_run(tmp_path: Path) -> None:
    """rnn.py --quick (CPU, and the GPU rows on the fake device), paired.py --quick and
    overhead.py at one tiny size exit 0 and print their tables."""
    env = dict(os.environ, PYTHONPATH=str(BENCH.parent))
    md = tmp_path / "rnn.md"
    rnn_cmd = [sys.executable, str(BENCH / "rnn.py"), "--quick", "--markdown", str(md)]
    try:
        import matplotlib  # noqa: F401

        rnn_cmd += ["--plot", str(tmp_path / "rnn.png")]
    except ImportError:  # the plot is optional; the tables are what is checked
        pass
    procs = {  # side by side: each is mostly process start-up and imports
        "rnn": subprocess.Popen(rnn_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env),
        "overhead": subprocess.Popen(
            [sys.executable, str(BENCH / "overhead.py"), "--sizes", "8x32", "--repeats", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
        "cuda": subprocess.Popen(  # the GPU rows' code path, on the fake device
            [sys.executable, str(BENCH / "rnn.py"), "--quick", "--device", "cuda",
             "--workloads", "a,b-gru"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(env, MINIGRAD_FAKE_CUDA="1")),
        "paired": subprocess.Popen(
            [sys.executable, str(BENCH / "paired.py"), "--quick", "--rounds", "3",
             "--workloads", "a,b-gru", "--impls", "mg-fused,mg-hand,mg-graph",
             "--reference", "mg-graph"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
    }
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name} failed:\n{stdout}\n{stderr}"
        out[name] = stdout
    assert "ms/step" in out["rnn"] and "vs LSTMCell loop" in out["rnn"]
    for workload in ("a", "b", "c"):
        assert f"\n{workload} " in out["rnn"], f"no row for workload {workload}"
    assert "minigrad graph" in out["rnn"] and "NumPy hand BPTT" in out["rnn"]
    assert "Where minigrad's time goes" in out["rnn"]
    assert "| workload | implementation |" in md.read_text()
    if "--plot" in rnn_cmd:
        assert (tmp_path / "rnn.png").stat().st_size > 0
    assert "chain" in out["overhead"] and "matmul" in out["overhead"]
    for w in ("a", "b-gru"):
        for row in ("minigrad compiled", "minigrad hand-written fused", "minigrad graph"):
            assert any(line.startswith(w + " ") and row in line
                       for line in out["cuda"].splitlines()), (w, row, out["cuda"])
    rows = [line.split() for line in out["paired"].splitlines() if line[:2] in ("a ", "b-")]
    assert len(rows) == 6, out["paired"]  # 3 rows per workload, in one process each
    for row in rows:
        ratio, interval = row[-2], row[-1]  # "1.23x" "(1.10-1.30)": the median lies inside
        lo, hi = map(float, interval.strip("()").split("-"))
        assert lo <= float(ratio.rstrip("x")) <= hi, row
    assert sum(row[-2:] == ["1.00x", "(1.00-1.00)"] for row in rows) == 2  # the reference
