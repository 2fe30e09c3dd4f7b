"""Write PyTorch reference fixtures for minigrad's recurrent cells and layers.

Run from the repository root (needs torch==2.13.0; the tests that read the fixtures do not)::

    python tests/reference/generate_rnn.py

It writes three compressed ``.npz`` files (plain arrays only, no pickles) to
``tests/reference/fixtures/``:

``rnn_float64.npz`` and ``rnn_float32.npz``, one group of keys per case:

    <case>/config        0-d string: JSON of the case (kind, sizes, options); read it, not the name
    <case>/sd/<name>     the torch module's state_dict, as arrays (PyTorch's names and order)
    <case>/x             the input; <case>/lengths (int64) for variable-length cases
    <case>/h0, c0        the initial state, when the case passes one
    <case>/gout, gh, gc  the upstream gradients of output, h_n (cells: h') and c_n (cells: c')
    <case>/out, h_n, c_n what torch computed (cells: out = h', c_n = c')
    <case>/grad/x, grad/h0, grad/c0, grad/<name>
                         d(sum(out*gout) + sum(h_n*gh) + sum(c_n*gc)) / d(input, state, param)
    __meta__/...         torch and numpy versions, dtype, the list of case names

The float32 file holds the float64 arrays rounded to float32 (the same model and inputs).
Layers run with ``dropout=0`` so they are deterministic; variable-length cases go through
``pack_padded_sequence(enforce_sorted=False)`` and ``pad_packed_sequence`` (padded outputs are 0).

``rnn_long.npz``: one 5,000-step float64 LSTM (B=2, in=2, H=3) whose input is a formula of
the step index (see :func:`long_input`), so it needs no storing. Loss
``sum(out * out) / 2 + sum(h_n) + sum(c_n)``; stored: state_dict, h_n, c_n, param grads, and
checksums of the output and input gradient (sum, sum of squares, first and last 4 steps).
"""

from __future__ import annotations

import argparse
import itertools
import json
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


def run_case(torch: Any, case: dict[str, Any], layer: bool) -> dict[str, np.ndarray]:
    """Run one case in float64; return its arrays (keys without the case prefix)."""
    rng = _rng(case["name"])
    module = _torch_module(torch, case, layer).double()
    rec: dict[str, np.ndarray] = {"config": np.array(json.dumps(case, sort_keys=True))}
    for k, v in module.state_dict().items():
        rec[f"sd/{k}"] = v.numpy().copy()
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

    if layer:
        inp: Any = x
        if case["lengths"]:
            rec["lengths"] = np.array(LENGTHS, dtype=np.int64)
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

    loss = 0
    if out is not None:
        rec["gout"] = rng.standard_normal(tuple(out.shape))
        loss = loss + (out * torch.from_numpy(rec["gout"])).sum()
        rec["out"] = out.detach().numpy().copy()
    rec["gh"] = rng.standard_normal(tuple(h_n.shape))
    loss = loss + (h_n * torch.from_numpy(rec["gh"])).sum()
    rec["h_n"] = h_n.detach().numpy().copy()
    if c_n is not None:
        rec["gc"] = rng.standard_normal(tuple(c_n.shape))
        loss = loss + (c_n * torch.from_numpy(rec["gc"])).sum()
        rec["c_n"] = c_n.detach().numpy().copy()
    loss.backward()
    for k, t in leaves.items():
        rec[k] = t.detach().numpy().copy()
        rec[f"grad/{k}"] = t.grad.numpy().copy()
    for k, p in module.named_parameters():
        rec[f"grad/{k}"] = p.grad.numpy().copy()
    return rec


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


def run_long(torch: Any) -> dict[str, np.ndarray]:
    torch.manual_seed(5000)
    lstm = torch.nn.LSTM(LONG_IN, LONG_H).double()
    x = torch.from_numpy(long_input()).requires_grad_()
    out, (h_n, c_n) = lstm(x)
    loss = (out * out).sum() / 2 + h_n.sum() + c_n.sum()
    loss.backward()
    rec = {f"sd/{k}": v.numpy().copy() for k, v in lstm.state_dict().items()}
    rec.update({f"grad/{k}": p.grad.numpy().copy() for k, p in lstm.named_parameters()})
    rec["h_n"], rec["c_n"] = h_n.detach().numpy().copy(), c_n.detach().numpy().copy()
    rec["loss"] = np.array(loss.item())
    rec["out_checksums"] = checksums(out.detach().numpy())
    rec["grad_x_checksums"] = checksums(x.grad.numpy())
    return rec


def generate(out_dir: Path = FIXTURE_DIR) -> list[Path]:
    import torch

    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    out_dir.mkdir(parents=True, exist_ok=True)
    records: dict[str, np.ndarray] = {}
    names = []
    for layer, cases in ((False, cell_cases()), (True, layer_cases())):
        for case in cases:
            names.append(case["name"])
            for k, v in run_case(torch, case, layer).items():
                records[f"{case['name']}/{k}"] = v
    meta = {"__meta__/torch_version": np.array(torch.__version__),
            "__meta__/numpy_version": np.array(np.__version__),
            "__meta__/cases": np.array(json.dumps(names))}
    written = []
    for dtype in ("float64", "float32"):
        payload = {k: (v.astype(dtype) if v.dtype == np.float64 else v)
                   for k, v in records.items()}
        payload.update(meta)
        payload["__meta__/dtype"] = np.array(dtype)
        path = out_dir / f"rnn_{dtype}.npz"
        np.savez_compressed(path, **payload)
        written.append(path)
    long_rec = run_long(torch)
    long_rec.update(meta)
    del long_rec["__meta__/cases"]
    path = out_dir / "rnn_long.npz"
    np.savez_compressed(path, **long_rec)
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
