"""Long sequences: BPTT through 5,000 steps without recursion, and memory that stays flat.

The reference (``tests/reference/fixtures/rnn_long.npz``, an ``mg.testing`` reference file) is
a 5,000-step float64 PyTorch LSTM; its input is a formula (``generate_rnn.long_input``), so
only the state_dict, final states, parameter gradients and checksums of the output and input
gradient are stored.
"""

from __future__ import annotations

import gc
import importlib.util
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType

import numpy as np

import minigrad as mg
from minigrad.nn.rnn import LSTM
from minigrad.testing import assert_close, load_reference

REFERENCE = Path(__file__).resolve().parent / "reference"


def _generator() -> ModuleType:
    """tests/reference/generate_rnn.py (it imports torch only when generating)."""
    name = "_minigrad_generate_rnn"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REFERENCE / "generate_rnn.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_5000_step_lstm_matches_pytorch() -> None:
    gen = _generator()
    ref = load_reference(REFERENCE / "fixtures" / "rnn_long.npz")
    lstm = LSTM(gen.LONG_IN, gen.LONG_H, dtype=mg.float64)
    lstm.load_state_dict(ref.inputs)  # the inputs are the torch LSTM's state_dict
    x = mg.tensor(gen.long_input(), requires_grad=True)
    assert x.shape == (5000, gen.LONG_B, gen.LONG_IN)
    out, (h_n, c_n) = lstm(x)
    loss = (out * out).sum() / 2 + h_n.sum() + c_n.sum()
    loss.backward()  # a 60,000-node chain: must not hit any recursion limit
    close = dict(rtol=1e-9, atol=1e-12)
    got = {"loss": loss, "h_n": h_n, "c_n": c_n,
           "out_checksums": gen.checksums(out.detach().numpy()),
           "grad_x_checksums": gen.checksums(x.grad.numpy())}
    assert list(got) == ref.output_names
    for name, value in got.items():
        assert_close(value, ref.outputs[name], name=name, **close)
    for name, p in lstm.named_parameters():
        assert_close(p.grad, ref.grads[name], name=f"grad of {name}", **close)


def test_memory_stays_flat_over_200_training_steps() -> None:
    """The graph of each step is freed by backward: nothing grows from step to step.

    A full garbage collection before each step empties CPython's free lists (of tuples,
    floats, ...), which tracemalloc counts as allocated; without it the measure saws up and
    down with the collector's schedule, not with minigrad's memory. ``gc.freeze()`` keeps those
    collections cheap, and the peaks go into a preallocated array so that recording them
    allocates nothing.
    """
    lstm = LSTM(4, 8, num_layers=2)
    x = mg.randn(10, 4, 4)
    y = mg.randn(10, 4, 8)
    peaks = np.zeros(200, dtype=np.int64)
    gc.freeze()
    tracemalloc.start()
    try:
        for step in range(200):
            gc.collect()
            tracemalloc.reset_peak()
            out, _ = lstm(x)
            loss = ((out - y) * (out - y)).mean()
            loss.backward()
            with mg.no_grad():
                for p in lstm.parameters():
                    p -= 0.01 * p.grad
                    p.grad = None
            del out, loss
            peaks[step] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        gc.unfreeze()
    early, late = int(peaks[20:50].max()), int(peaks[150:200].max())
    assert late <= early * 1.02 + 8 * 1024, (early, late)
