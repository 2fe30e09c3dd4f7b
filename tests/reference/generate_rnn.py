"""Write PyTorch reference fixtures for minigrad's recurrent cells and layers.

Run from the repository root (needs torch==2.13.0; the tests that read the fixtures do not)::

    PYTHONPATH=$PWD python tests/reference/generate_rnn.py

It writes three files to ``tests/reference/fixtures/``, through ``minigrad.testing``'s
reference format (compressed ``.npz``, plain arrays, a header with each array's dtype, shape
and CRC-32):

``rnn_float64.npz`` and ``rnn_float32.npz``: bundles (:func:`minigrad.testing.save_references`)
with one reference per case, named after it:

    inputs    x; h0 and c0 when the case passes an initial state; lengths (int64, passed as
              an array) for variable-length cases; then the torch module's state_dict, one
              input per parameter (PyTorch's names and order)
    outputs   out (layers only), h_n, c_n (LSTM only); cells: h_n = h', c_n = c'
    upstream  a random gradient for each output
    grads     d(sum(out*gout) + sum(h_n*gh) + sum(c_n*gc)) / d(x, h0, c0 and every parameter)
    meta      config: the case (kind, sizes, options; read it, not the name); parameters:
              the state_dict's names in order. The bundle's meta: torch/numpy versions, dtype.

The float32 file holds the float64 arrays rounded to float32 (the same model and inputs).
Layers run with ``dropout=0`` so they are deterministic; variable-length cases go through
``pack_padded_sequence(enforce_sorted=False)`` and ``pad_packed_sequence`` (padded outputs are 0).

``rnn_long.npz`` (one reference, :func:`minigrad.testing.write_reference`): a 5,000-step
float64 LSTM (B=2, in=2, H=3) whose input is a formula of the step index (see
:func:`long_input`), so it needs no storing. Loss ``sum(out * out) / 2 + sum(h_n) +
sum(c_n)``; inputs: the state_dict; outputs: loss (upstream gradient 1), h_n, c_n, and
checksums of the output and of the input's gradient (sum, sum of squares, first and last 4
steps); grads: every parameter's.
"""

from __future__ import annotations

import argparse
import itertools
import zlib
from pathlib import Path
from typing import Any

import numpy as np

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
B, T, IN, H = 3, 5, 4, 3  # tiny on purpose: the files must stay small
LENGTHS = [5, 2, 4]  # unsorted, max == T so padded outputs keep length T
KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru")
LONG_T, LONG_B, LONG_IN, LONG_H = 5000, 2, 2, 3


def layer_cases() -> list[dict[str, Any]]:
    """The layer cases: every kind x num_layers x bidirectional x lengths x initial state x
    bias, with batch_first (a pure change of layout) alternating so that it meets every other
    option; plus one unbatched (T, in) case per kind with and without an initial state."""
    cases = []
    for kind in KINDS:
        grid = itertools.product((1, 2), (False, True), (False, True), (False, True),
                                 (True, False))
        for layers, bidir, var_len, with_h0, bias in grid:
            # the parity of the other four options: each value of each option, and both bias
            # settings, meet both layouts
            batch_first = (layers + bidir + var_len + with_h0) % 2 == 1
            cases.append(dict(kind=kind, num_layers=layers, bidirectional=bidir,
                              lengths=var_len, h0=with_h0, bias=bias, batch_first=batch_first,
                              unbatched=False))
        for with_h0 in (False, True):
            cases.append(dict(kind=kind, num_layers=2, bidirectional=True, lengths=False,
                              h0=with_h0, bias=True, batch_first=False, unbatched=True))
    for c in cases:
        c["name"] = "layer_" + "_".join(
            [c["kind"], f"L{c['num_layers']}", "bi" if c["bidirectional"] else "uni",
             "bias" if c["bias"] else "nobias", "bf" if c["batch_first"] else "tf",
             "h0" if c["h0"] else "noh0", "len" if c["lengths"] else "full"]
            + (["unbatched"] if c["unbatched"] else []))
    return cases


def cell_cases() -> list[dict[str, Any]]:
    """Every cell kind x bias x (initial state given or not), plus an unbatched (in,) input."""
    cases = []
    for kind in KINDS:
        for bias, with_h0 in itertools.product((True, False), (True, False)):
            cases.append(dict(kind=kind, bias=bias, h0=with_h0, unbatched=False))
        cases.append(dict(kind=kind, bias=True, h0=True, unbatched=True))
    for c in cases:
        c["name"] = "cell_" + "_".join(
            [c["kind"], "bias" if c["bias"] else "nobias", "h0" if c["h0"] else "noh0"]
            + (["unbatched"] if c["unbatched"] else []))
    return cases


def _rng(name: str) -> np.random.Generator:
    """One generator per case, seeded by its name: adding cases never changes other cases."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def _torch_module(torch: Any, case: dict[str, Any], layer: bool) -> Any:
    nn = torch.nn
    kind, bias = case["kind"], case["bias"]
    torch.manual_seed(zlib.crc32(case["name"].encode()))
    if layer:
        kw = dict(num_layers=case["num_layers"], bias=bias, batch_first=case["batch_first"],
                  bidirectional=case["bidirectional"], dropout=0.0)
        if kind.startswith("rnn"):
            return nn.RNN(IN, H, nonlinearity=kind[4:], **kw)
        return (nn.LSTM if kind == "lstm" else nn.GRU)(IN, H, **kw)
    if kind.startswith("rnn"):
        return nn.RNNCell(IN, H, bias=bias, nonlinearity=kind[4:])
    return (nn.LSTMCell if kind == "lstm" else nn.GRUCell)(IN, H, bias=bias)


def run_case(torch: Any, case: dict[str, Any], layer: bool) -> dict[str, Any]:
    """Run one case in float64; return the arguments of ``write_reference`` for it."""
    rng = _rng(case["name"])
    module = _torch_module(torch, case, layer).double()
    params = {k: v.numpy().copy() for k, v in module.state_dict().items()}
    lstm = case["kind"] == "lstm"
    if layer:
        n_state = case["num_layers"] * (2 if case["bidirectional"] else 1)
        if case["unbatched"]:
            x_shape, h_shape = (T, IN), (n_state, H)
        else:
            x_shape = (B, T, IN) if case["batch_first"] else (T, B, IN)
            h_shape = (n_state, B, H)
    else:
        x_shape = (IN,) if case["unbatched"] else (B, IN)
        h_shape = (H,) if case["unbatched"] else (B, H)

    x = torch.from_numpy(rng.standard_normal(x_shape)).requires_grad_()
    leaves = {"x": x}
    state = None
    if case["h0"]:
        leaves["h0"] = torch.from_numpy(rng.standard_normal(h_shape)).requires_grad_()
        if lstm:
            leaves["c0"] = torch.from_numpy(rng.standard_normal(h_shape)).requires_grad_()
            state = (leaves["h0"], leaves["c0"])
        else:
            state = leaves["h0"]
    inputs: dict[str, np.ndarray] = {k: t.detach().numpy().copy() for k, t in leaves.items()}

    if layer:
        inp: Any = x
        if case["lengths"]:
            inputs["lengths"] = np.array(LENGTHS, dtype=np.int64)
            inp = nn_utils(torch).pack_padded_sequence(
                x, torch.tensor(LENGTHS), batch_first=case["batch_first"], enforce_sorted=False)
        out, hn = module(inp, state)
        if case["lengths"]:
            out, _ = nn_utils(torch).pad_packed_sequence(out, batch_first=case["batch_first"])
        h_n, c_n = hn if lstm else (hn, None)
    else:
        res = module(x, state)
        h_n, c_n = res if lstm else (res, None)
        out = None

    outputs: dict[str, np.ndarray] = {}
    gouts: dict[str, np.ndarray] = {}
    loss = 0
    # drawn in this order (out, h_n, c_n) so that the values stay those of earlier fixtures
    for key, t in (("out", out), ("h_n", h_n), ("c_n", c_n)):
        if t is not None:
            gouts[key] = rng.standard_normal(tuple(t.shape))
            loss = loss + (t * torch.from_numpy(gouts[key])).sum()
            outputs[key] = t.detach().numpy().copy()
    loss.backward()
    grads = {k: t.grad.numpy().copy() for k, t in leaves.items()}
    grads.update({k: p.grad.numpy().copy() for k, p in module.named_parameters()})
    return dict(inputs={**inputs, **params}, outputs=outputs, grads=grads, grad_outputs=gouts,
                input_kinds={"lengths": "array"} if "lengths" in inputs else None,
                meta={"config": case, "parameters": list(params)})


def nn_utils(torch: Any) -> Any:
    return torch.nn.utils.rnn


def long_input(t: int = LONG_T, b: int = LONG_B, n_in: int = LONG_IN) -> np.ndarray:
    """The long case's input, (T, B, in) float64: smooth waves, so it needs no storing."""
    steps = np.arange(t, dtype=np.float64)[:, None, None]
    phase = np.arange(b * n_in, dtype=np.float64).reshape(1, b, n_in)
    return np.sin(0.01 * steps * (1.0 + 0.3 * phase) + phase)


def checksums(a: np.ndarray) -> np.ndarray:
    """sum, sum of squares, then the first and last 4 steps flattened (for (T, ...) arrays)."""
    return np.concatenate([[a.sum(), (a * a).sum()], a[:4].ravel(), a[-4:].ravel()])


def run_long(torch: Any) -> dict[str, Any]:
    """The 5,000-step case; return the arguments of ``write_reference`` for it."""
    torch.manual_seed(5000)
    lstm = torch.nn.LSTM(LONG_IN, LONG_H).double()
    x = torch.from_numpy(long_input()).requires_grad_()
    out, (h_n, c_n) = lstm(x)
    loss = (out * out).sum() / 2 + h_n.sum() + c_n.sum()
    loss.backward()
    outputs = {"loss": np.array(loss.item()), "h_n": h_n.detach().numpy().copy(),
               "c_n": c_n.detach().numpy().copy(),
               "out_checksums": checksums(out.detach().numpy()),
               "grad_x_checksums": checksums(x.grad.numpy())}
    return dict(inputs={k: v.numpy().copy() for k, v in lstm.state_dict().items()},
                outputs=outputs,
                grads={k: p.grad.numpy().copy() for k, p in lstm.named_parameters()},
                grad_outputs={"loss": np.array(1.0)})


def _cast(value: Any, dtype: str) -> Any:
    """float64 arrays (also inside dicts) as ``dtype``; everything else as is."""
    if isinstance(value, dict):
        return {k: _cast(v, dtype) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(dtype)
    return value


def generate(out_dir: Path = FIXTURE_DIR) -> list[Path]:
    import torch

    from minigrad.testing import save_references, write_reference

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = {case["name"]: run_case(torch, case, layer)
               for layer, cases in ((False, cell_cases()), (True, layer_cases()))
               for case in cases}
    versions = {"torch_version": torch.__version__, "numpy_version": np.__version__}
    written = []
    for dtype in ("float64", "float32"):
        refs = {name: write_reference(None, **{k: v if k == "meta" else _cast(v, dtype)
                                               for k, v in rec.items()})
                for name, rec in records.items()}
        path = out_dir / f"rnn_{dtype}.npz"
        save_references(refs, path, meta={**versions, "dtype": dtype})
        written.append(path)
    path = out_dir / "rnn_long.npz"
    write_reference(path, **run_long(torch), meta=versions)
    written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=FIXTURE_DIR)
    args = parser.parse_args(argv)
    for path in generate(args.out_dir):
        with np.load(path, allow_pickle=False) as data:
            n = len(data.files)
        print(f"{path.name}: {n} arrays, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
