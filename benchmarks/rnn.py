"""One training step of a recurrent network: minigrad vs a hand-written NumPy floor vs PyTorch.

A step is: forward over the whole sequence, the loss, BPTT, and the optimizer step (Adam unless
stated). Workloads (time-major, float32):

- ``a``: Embedding(5000, 64) -> LSTM(64, 128), B=32, T=50, last h -> Linear(128, 2), CE, Adam
- ``b``: Embedding(65, 128) -> LSTM(128, 256), B=64, T=64, Linear(256, 65) at every step, CE,
  Adam (a character-level language model)
- ``c``: LSTM(512, 1024), B=128, T=32, MSE on the last h, SGD
- ``a-gru``, ``b-gru``, ``a-rnn``, ``b-rnn`` (any of a/b/c with ``-gru``/``-rnn``): the same
  with a GRU or an Elman RNN layer.

Rows (an implementation that cannot run here, e.g. torch not installed, is left out):

- ``mg-graph``: minigrad ``nn.LSTM(..., fused=False)``: the cell as a graph of primitive ops.
- ``mg-fused``: minigrad ``nn.LSTM(..., fused=True)``: the path compiled from the same cell
  (minigrad/jit), the default.
- ``mg-hand``: the hand-written fused ops the compiled path replaced (handwritten_fused.py).
- ``mg-peep-graph`` / ``mg-peep-compiled``: a user cell, the peephole LSTM of
  tests/custom_cells.py, through ``nn.Recurrent(cell, fused=False|True)`` (LSTM workloads).
- ``numpy`` / ``numpy-reuse``: the hand-written forward + BPTT of ``numpy_lstm.py`` (LSTM only),
  its work arrays allocated per step / kept across steps. The floor.
- ``torch-nn``: ``torch.nn.LSTM`` (oneDNN kernels); ``torch-cell``: a Python loop over
  ``torch.nn.LSTMCell`` (the reference of every ratio); ``torch-prim``: a Python loop over a
  cell written from ``torch.matmul``, ``sigmoid``, ``tanh`` and ``chunk``.

Method (benchmarks/README.md): 2 threads for every row (BLAS, OpenMP, torch); each
implementation and workload runs in a FRESH subprocess (allocator state from one run must not
slow another); the order of the rows alternates between rounds; warm-up steps are discarded;
the step times of all rounds are pooled and their median reported, with the spread of the
per-round medians. The machine may be shared: treat differences within ~15% as equal.

For workload ``b`` the script also prints where minigrad's time goes (forward / backward /
optimizer phases; the matrix products timed alone at the same shapes; the NumPy floor's
non-GEMM arithmetic; the rest is engine overhead; and a cProfile grouping by file) and the
peak memory of one step (tracemalloc).

``--device cuda`` times the GPU instead (CuPy for minigrad, torch's CUDA build): rows
``mg-fused`` (compiled), ``mg-hand``, ``mg-graph``, ``torch-nn`` (cuDNN) and ``torch-cell``,
each step ending with a device synchronisation. With ``MINIGRAD_FAKE_CUDA=1`` (no GPU) the
minigrad rows run on the fake device, which checks the code path, not the speed.

Run: ``python benchmarks/rnn.py [--workloads a,b,c] [--rounds 3] [--steps N] [--quick]
[--device cpu|cuda] [--markdown PATH] [--plot PATH] [--json PATH]``.
"""

from __future__ import annotations

import os

# ``--cpu-time`` (for a machine too busy for wall-clock times): one thread per row, and each
# step timed by the CPU time of the process instead of the wall clock
THREADS = int(os.environ.get("MINIGRAD_BENCH_THREADS", "2"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)  # before numpy is imported: pinned for every row

import argparse  # noqa: E402
import cProfile  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from importlib import metadata, util  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]
sys.path.append(os.path.join(ROOT, "tests"))
import handwritten_fused  # noqa: E402
from numpy_lstm import HandAdam, HandLSTM, HandSGD, init_params  # noqa: E402

import minigrad as mg  # noqa: E402

Step = Callable[[], None]

# ----------------------------------------------------------------------------- workloads


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str  # "a", "b-gru", ...
    cell: str  # "lstm", "gru", "rnn"
    vocab: int | None  # embedding rows, or None for a float input
    input_size: int
    hidden: int
    batch: int
    seq: int
    n_out: int | None  # classes of the output layer, or None (MSE on h)
    head: str  # "last_ce", "all_ce", "last_mse" (see numpy_lstm.py)
    optimizer: str  # "adam" or "sgd"
    steps: int  # timed steps per run
    warmup: int  # discarded steps per run

    def describe(self) -> str:
        src = f"Embedding({self.vocab},{self.input_size})->" if self.vocab else ""
        head = {"last_ce": f"last h->Linear({self.hidden},{self.n_out}), CE",
                "all_ce": f"Linear({self.hidden},{self.n_out}) every step, CE",
                "last_mse": "MSE on last h"}[self.head]
        return (f"{src}{self.cell.upper()}({self.input_size},{self.hidden}), B{self.batch} "
                f"T{self.seq}, {head}, {'Adam' if self.optimizer == 'adam' else 'SGD'}")


BASE: dict[str, dict[str, Any]] = {
    "a": dict(vocab=5000, input_size=64, hidden=128, batch=32, seq=50, n_out=2,
              head="last_ce", optimizer="adam", steps=20, warmup=3),
    "b": dict(vocab=65, input_size=128, hidden=256, batch=64, seq=64, n_out=65,
              head="all_ce", optimizer="adam", steps=10, warmup=2),
    "c": dict(vocab=None, input_size=512, hidden=1024, batch=128, seq=32, n_out=None,
              head="last_mse", optimizer="sgd", steps=3, warmup=1),
}
QUICK: dict[str, dict[str, Any]] = {  # tiny sizes for a smoke run
    "a": dict(vocab=50, input_size=8, hidden=16, batch=4, seq=6, n_out=2),
    "b": dict(vocab=11, input_size=8, hidden=16, batch=4, seq=6, n_out=11),
    "c": dict(input_size=16, hidden=32, batch=4, seq=5),
}
CELLS = ("lstm", "gru", "rnn")


def parse_steps(text: str) -> dict[str, int]:
    """``--steps``: "N" (every workload) or "a=10,b=5,c=2" (per base workload)."""
    if "=" not in text:
        return {b: int(text) for b in BASE}
    pairs = [kv.split("=") for kv in text.split(",") if kv.strip()]
    return {k.strip(): int(v) for k, v in pairs}


def get_workload(key: str, quick: bool = False,
                 steps: int | dict[str, int] | None = None) -> Workload:
    """The workload named ``key`` ("a", "b", "c", optionally "-gru" or "-rnn")."""
    base, _, cell = key.partition("-")
    if isinstance(steps, dict):
        steps = steps.get(base)
    cell = cell or "lstm"
    if base not in BASE or cell not in CELLS:
        raise ValueError(f"unknown workload {key!r}: expected a, b or c, optionally with "
                         f"-gru or -rnn (e.g. b-gru)")
    kw = dict(BASE[base])
    if quick:
        kw.update(QUICK[base], steps=2, warmup=1)
    if steps is not None:
        kw["steps"] = steps
    return Workload(name=key, cell=cell, **kw)


def make_data(wl: Workload, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One fixed batch: inputs (T, B) int64 or (T, B, in) float32, and targets."""
    rng = np.random.default_rng(seed)
    T, B = wl.seq, wl.batch
    if wl.vocab:
        x = rng.integers(0, wl.vocab, (T, B), dtype=np.int64)
    else:
        x = rng.standard_normal((T, B, wl.input_size)).astype(np.float32)
    if wl.head == "last_mse":
        y = rng.uniform(-0.5, 0.5, (B, wl.hidden)).astype(np.float32)
    else:
        y = rng.integers(0, wl.n_out, (T * B,) if wl.head == "all_ce" else (B,), dtype=np.int64)
    return x, y


# ----------------------------------------------------------------------------- implementations

IMPLS: dict[str, str] = {
    "mg-graph": "minigrad graph (fused=False)",
    "mg-fused": "minigrad compiled (fused=True)",
    "mg-hand": "minigrad hand-written fused (before)",
    "mg-peep-graph": "minigrad peephole LSTM, graph",
    "mg-peep-compiled": "minigrad peephole LSTM, compiled",
    "numpy": "NumPy hand BPTT, fresh arrays",
    "numpy-reuse": "NumPy hand BPTT, buffers reused",
    "torch-nn": "torch nn.{CELL}",
    "torch-cell": "torch {CELL}Cell loop",
    "torch-prim": "torch primitive-op loop",
}
REFERENCE = "torch-cell"  # every ratio is to this row ...
NUMPY_ROWS = ("numpy", "numpy-reuse")  # ... and to the best of these


def impl_label(impl: str, cell: str = "lstm") -> str:
    return IMPLS[impl].replace("{CELL}", {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}[cell])


def mg_rnn_class(cell: str) -> type:
    return {"lstm": mg.nn.LSTM, "gru": mg.nn.GRU, "rnn": mg.nn.RNN}[cell]


def mg_has_fused(cell: str = "lstm") -> bool:
    """Whether minigrad's layer takes ``fused=`` (the fused fast path is being added)."""
    try:
        mg_rnn_class(cell)(2, 2, fused=True)
    except TypeError:
        return False
    return True


CUDA_ROWS = ("mg-fused", "mg-hand", "mg-graph", "torch-nn", "torch-cell")


def available(impl: str, cell: str, device: str = "cpu") -> bool:
    if device != "cpu" and impl not in CUDA_ROWS:
        return False
    if impl == "mg-fused":
        return mg_has_fused(cell)
    if impl in NUMPY_ROWS or impl.startswith("mg-peep"):
        return cell == "lstm"
    if impl.startswith("torch"):
        if util.find_spec("torch") is None:
            return False
        if device != "cpu":  # a CPU-only build of torch has no CUDA rows
            import torch

            return bool(torch.cuda.is_available())
    return True


def build_net(lib: Any, wl: Workload, mode: str, rnn_kw: dict[str, Any]) -> Any:
    """The model of ``wl`` in ``lib`` (minigrad or torch: the same code serves both).

    ``mode``: "layer" (nn.LSTM/GRU/RNN), "cell" (a loop over nn.*Cell) or "prim" (a loop over a
    cell written from primitive ops).
    """
    nn, cell = lib.nn, wl.cell
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[cell]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            if wl.vocab:
                self.embedding = nn.Embedding(wl.vocab, wl.input_size)
            args = (wl.input_size, wl.hidden)
            if mode == "layer":
                self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell](*args, **rnn_kw)
            elif mode == "peephole":
                from custom_cells import PeepholeLSTMCell

                self.rnn = nn.Recurrent(PeepholeLSTMCell(*args), **rnn_kw)
            elif mode == "cell":
                self.rnn = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}[cell](*args)
            else:  # the same parameters as a cell, used by prim_step below
                ref = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}[cell](*args)
                self.w_ih, self.w_hh = ref.weight_ih, ref.weight_hh
                self.b_ih, self.b_hh = ref.bias_ih, ref.bias_hh
                assert self.w_ih.shape[0] == gates * wl.hidden
            if wl.n_out:
                self.fc = nn.Linear(wl.hidden, wl.n_out)

        def forward(self, x: Any) -> Any:
            if wl.vocab:
                x = self.embedding(x)  # (T, B, E)
            if mode in ("layer", "peephole"):
                out, _ = self.rnn(x)
                last = out[-1]
            else:
                state = lib.zeros(wl.batch, wl.hidden)
                if cell == "lstm":
                    state = (state, state)
                hs = []
                for t in range(wl.seq):
                    state = self.rnn(x[t], state) if mode == "cell" else self.prim_step(
                        x[t], state)
                    hs.append(state[0] if cell == "lstm" else state)
                last = hs[-1]
                out = lib.stack(hs, 0) if wl.head == "all_ce" else None
            if wl.head == "all_ce":
                return self.fc(out.reshape(wl.seq * wl.batch, wl.hidden))
            return self.fc(last) if wl.n_out else last

        def prim_step(self, x: Any, state: Any) -> Any:
            mm, sigmoid, tanh = lib.matmul, lib.sigmoid, lib.tanh
            xw = mm(x, self.w_ih.t()) + self.b_ih
            hw = mm(state[0] if cell == "lstm" else state, self.w_hh.t()) + self.b_hh
            if cell == "lstm":
                i, f, g, o = (xw + hw).chunk(4, 1)
                c = sigmoid(f) * state[1] + sigmoid(i) * tanh(g)
                return sigmoid(o) * tanh(c), c
            if cell == "gru":
                x_r, x_z, x_n = xw.chunk(3, 1)
                h_r, h_z, h_n = hw.chunk(3, 1)
                r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
                n = tanh(x_n + r * h_n)
                return (1 - z) * n + z * state
            return tanh(xw + hw)

    return Net()


def training_step(lib: Any, model: Any, wl: Workload, x: Any, y: Any,
                  clock: list[float] | None = None) -> Step:
    """The step closure for a minigrad or torch ``model``; with ``clock``, it appends the
    times after zero_grad, forward + loss, backward and the optimizer step."""
    F = lib.nn.functional
    loss_fn = F.mse_loss if wl.head == "last_mse" else F.cross_entropy
    params = list(model.parameters())
    opt = (lib.optim.Adam(params, lr=1e-3) if wl.optimizer == "adam"
           else lib.optim.SGD(params, lr=0.01))
    now = time.perf_counter

    def step() -> None:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    def timed_step() -> None:
        assert clock is not None
        clock.append(now())
        opt.zero_grad()
        clock.append(now())
        loss = loss_fn(model(x), y)
        clock.append(now())
        loss.backward()
        clock.append(now())
        opt.step()
        clock.append(now())

    return step if clock is None else timed_step


def build(impl: str, wl: Workload, clock: list[float] | None = None,
          device: str = "cpu") -> Step:
    """A closure that runs one training step of ``wl`` with implementation ``impl``."""
    if device != "cpu":
        step = build_on_device(impl, wl, device)
        return step
    x, y = make_data(wl)
    if impl in NUMPY_ROWS:
        if wl.cell != "lstm":
            raise ValueError("the NumPy hand version is an LSTM only")
        params = init_params(wl.input_size, wl.hidden, vocab=wl.vocab, n_out=wl.n_out)
        model = HandLSTM(params, wl.head, reuse_buffers=impl == "numpy-reuse")
        opt = HandAdam(params) if wl.optimizer == "adam" else HandSGD(params)

        def step() -> None:
            _, grads = model.loss_and_grads(x, y)
            opt.step(grads)
        return step
    if impl.startswith("mg-"):
        mg.manual_seed(0)
        kw: dict[str, Any] = {}
        if impl == "mg-fused" or mg_has_fused(wl.cell):
            kw["fused"] = impl in ("mg-fused", "mg-hand", "mg-peep-compiled")
        net = build_net(mg, wl, "peephole" if impl.startswith("mg-peep") else "layer", kw)
        if impl == "mg-hand":
            handwritten_fused.install(net.rnn)
        return training_step(mg, net, wl, mg.tensor(x), mg.tensor(y), clock)
    import torch

    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    mode = {"torch-nn": "layer", "torch-cell": "cell", "torch-prim": "prim"}[impl]
    net = build_net(torch, wl, mode, {})
    return training_step(torch, net, wl, torch.from_numpy(x), torch.from_numpy(y), clock)


def build_on_device(impl: str, wl: Workload, device: str) -> Step:
    """As :func:`build` on a GPU; each step waits for the device to finish."""
    x, y = make_data(wl)
    if impl.startswith("mg-"):
        mg.manual_seed(0)
        net = build_net(mg, wl, "layer", {"fused": impl != "mg-graph"}).to(device)
        if impl == "mg-hand":
            handwritten_fused.install(net.rnn)
        inner = training_step(mg, net, wl, mg.tensor(x, device=device),
                              mg.tensor(y, device=device))
        sync = mg.cuda.synchronize
    else:
        import torch

        torch.manual_seed(0)
        net = build_net(torch, wl, "layer" if impl == "torch-nn" else "cell", {}).to(device)
        inner = training_step(torch, net, wl, torch.from_numpy(x).to(device),
                              torch.from_numpy(y).to(device))
        sync = torch.cuda.synchronize

    def step() -> None:
        inner()
        sync()
    return step


# ----------------------------------------------------------------------------- workers
# Each job runs in a fresh interpreter: `rnn.py --worker '<json>'` prints one RESULT line.


def time_steps(step: Step, warmup: int, steps: int) -> list[float]:
    """Milliseconds of each of ``steps`` steps, after ``warmup`` discarded ones."""
    for _ in range(warmup):
        step()
    times = []
    clock = time.process_time if os.environ.get("MINIGRAD_BENCH_CPU_TIME") else time.perf_counter
    for _ in range(steps):
        t0 = clock()
        step()
        times.append((clock() - t0) * 1e3)
    return times


def job_time(job: dict[str, Any]) -> dict[str, Any]:
    """Time ``job["impl"]`` on each of ``job["workloads"]``."""
    out = {}
    for name in job["workloads"]:
        wl = get_workload(name, job["quick"], job["steps"])
        step = build(job["impl"], wl, device=job.get("device", "cpu"))
        out[name] = time_steps(step, wl.warmup, wl.steps)
    return out


def gemm_shapes(wl: Workload, hoisted: bool) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The matrix products of one LSTM training step of ``wl``, as (M, K) x (K, N) pairs.

    Forward: the input projection of all steps, one hidden product per step, the output layer.
    Backward: the output layer's two; per step dh_{t-1} = dz_t W_hh (none for the constant h_0)
    and, unless ``hoisted``, dW_hh += dz_t^T h_{t-1}; with ``hoisted`` that is one product
    over all steps; the input projection's dW_ih and (with an embedding) dX.
    """
    T, B, H, n_in, gh = wl.seq, wl.batch, wl.hidden, wl.input_size, 4 * wl.hidden
    n = T * B if wl.head == "all_ce" else B
    shapes = [((T * B, n_in), (n_in, gh))] + [((B, H), (H, gh))] * T
    if wl.n_out:
        shapes += [((n, H), (H, wl.n_out)), ((n, wl.n_out), (wl.n_out, H)),
                   ((wl.n_out, n), (n, H))]
    shapes += [((B, gh), (gh, H))] * (T - 1)
    shapes += [((gh, T * B), (T * B, H))] if hoisted else [((gh, B), (B, H))] * T
    shapes += [((gh, T * B), (T * B, n_in))]
    if wl.vocab:
        shapes += [((T * B, gh), (gh, n_in))]
    return shapes


def time_gemms(shapes: list[tuple[tuple[int, int], tuple[int, int]]], repeats: int) -> float:
    """Median ms to run all ``shapes`` products once (float32, fresh outputs as an engine)."""
    rng = np.random.default_rng(0)
    pairs = [(rng.standard_normal(a).astype(np.float32), rng.standard_normal(b).astype(np.float32))
             for a, b in shapes]
    runs = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        for a, b in pairs:
            a @ b
        runs.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(runs[1:])


def job_breakdown(job: dict[str, Any]) -> dict[str, Any]:
    """Phases of minigrad's step (zero_grad, forward + loss, backward, optimizer) and a cProfile
    grouping of its time by source file."""
    wl = get_workload(job["workload"], job["quick"], job["steps"])
    clock: list[float] = []
    step = build(job["impl"], wl, clock)
    time_steps(step, wl.warmup, 0)
    clock.clear()
    for _ in range(wl.steps):
        step()
    marks = np.array(clock).reshape(wl.steps, 5) * 1e3
    phases = np.diff(marks, axis=1)
    names = ("zero_grad", "forward_loss", "backward", "optimizer")
    out: dict[str, Any] = {k: float(np.median(phases[:, i])) for i, k in enumerate(names)}
    out["total"] = sum(out[k] for k in names)  # additive, so the split below adds up
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(max(1, wl.steps // 3)):
        step()
    prof.disable()
    out["profile"] = profile_by_file(prof)
    return out


def profile_by_file(prof: cProfile.Profile) -> dict[str, float]:
    """Share of profiled time (own time, callees excluded) per minigrad source file.

    NumPy's ufuncs and the ``@``/``+`` operators are not calls cProfile sees, so the arithmetic
    an op does counts to the file of the Python function running it (e.g. ops/linalg.py holds
    the GEMMs' time); C functions that are seen are grouped as "C functions (numpy, builtins)".
    """
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    pkg = os.path.join(ROOT, "minigrad") + os.sep
    for (path, _, _), (_, _, tottime, _, _) in stats.items():
        if path.startswith(pkg):
            key = path[len(pkg):].replace(os.sep, "/")
        elif path == "~":
            key = "C functions (numpy, builtins)"
        else:
            key = "other Python (benchmark, stdlib)"
        groups[key] = groups.get(key, 0.0) + tottime
    total = sum(groups.values()) or 1.0
    return {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}


def job_floor(job: dict[str, Any]) -> dict[str, Any]:
    """The floor's parts for the breakdown: GEMMs alone (both layouts) and the hand version's
    loss_and_grads and optimizer, each timed alone."""
    wl = get_workload(job["workload"], job["quick"], job["steps"])
    reps = max(5, wl.steps)
    out = {"gemm_per_step": time_gemms(gemm_shapes(wl, hoisted=False), reps),
           "gemm_hoisted": time_gemms(gemm_shapes(wl, hoisted=True), reps),
           "n_gemm_per_step": len(gemm_shapes(wl, hoisted=False)),
           "n_gemm_hoisted": len(gemm_shapes(wl, hoisted=True))}
    x, y = make_data(wl)
    params = init_params(wl.input_size, wl.hidden, vocab=wl.vocab, n_out=wl.n_out)
    model, opt = HandLSTM(params, wl.head, reuse_buffers=True), HandAdam(params)
    fwd_bwd, upd = [], []
    for i in range(wl.warmup + reps):
        t0 = time.perf_counter()
        _, grads = model.loss_and_grads(x, y)
        t1 = time.perf_counter()
        opt.step(grads)
        t2 = time.perf_counter()
        if i >= wl.warmup:
            fwd_bwd.append((t1 - t0) * 1e3)
            upd.append((t2 - t1) * 1e3)
    out["hand_loss_and_grads"] = statistics.median(fwd_bwd)
    out["hand_optimizer"] = statistics.median(upd)
    return out


def job_memory(job: dict[str, Any]) -> dict[str, Any]:
    """Peak memory allocated during one step (after one warm-up step), by tracemalloc, which
    sees NumPy's array buffers and Python objects; the parameters and optimizer state that
    exist before the step are not counted."""
    wl = get_workload(job["workload"], job["quick"], job["steps"])
    step = build(job["impl"], wl)
    step()
    tracemalloc.start()
    step()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak_mb": peak / 2**20, "after_mb": current / 2**20}


JOBS = {"time": job_time, "breakdown": job_breakdown, "floor": job_floor, "memory": job_memory}


def worker(jobs: list[dict[str, Any]]) -> None:
    """Run ``jobs`` one after the other; print their results (None for a failed one)."""
    results = []
    for job in jobs:
        try:
            results.append(JOBS[job["kind"]](job))
        except Exception as e:  # report it and go on: one broken row must not lose the rest
            print(f"job {job} failed: {type(e).__name__}: {e}", file=sys.stderr)
            results.append(None)
    print("RESULT " + json.dumps(results), flush=True)


def run_jobs(jobs: list[dict[str, Any]], timeout: float = 3600) -> list[Any]:
    """Run ``jobs`` in ONE fresh interpreter; their results (None where one failed)."""
    threads = os.environ.get("MINIGRAD_BENCH_THREADS", str(THREADS))
    env = dict(os.environ, **{v: threads for v in
                              ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(jobs)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  jobs {jobs} timed out after {timeout:.0f} s", file=sys.stderr)
        return [None] * len(jobs)
    if proc.stderr.strip():
        print("  " + "\n  ".join(proc.stderr.strip().splitlines()[-6:]), file=sys.stderr)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    print(f"  jobs {jobs} failed (exit {proc.returncode})", file=sys.stderr)
    return [None] * len(jobs)


def run_all(jobs: list[dict[str, Any]], fresh: bool) -> list[Any]:
    """Each job in its own fresh process (``fresh``), or, for a quick smoke run, all torch jobs
    in one process and all others in another."""
    if fresh:
        return [run_jobs([job])[0] for job in jobs]
    results: list[Any] = [None] * len(jobs)
    for uses_torch in (False, True):
        idx = [k for k, j in enumerate(jobs) if j["impl"].startswith("torch") == uses_torch]
        if idx:
            for k, res in zip(idx, run_jobs([jobs[k] for k in idx])):
                results[k] = res
    return results


# ----------------------------------------------------------------------------- the run


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = "?"
    try:
        cfg = np.show_config(mode="dicts")  # type: ignore[func-returns-value]
        dep = cfg["Build Dependencies"]["blas"]
        blas = f"{dep.get('name', '?')} {dep.get('version', '')}".strip()
    except Exception:  # older NumPy: no dict mode
        pass
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "not installed"
    return {"machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
            "cpu": cpu, "python": platform.python_version(),
            "numpy": f"{np.__version__} ({blas})", "torch": torch_version,
            "minigrad": mg.__version__,
            "threads": os.environ.get("MINIGRAD_BENCH_THREADS", str(THREADS)) + (
                " (CPU time)" if os.environ.get("MINIGRAD_BENCH_CPU_TIME") else ""),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    for w in workloads:
        get_workload(w)  # fail early on a bad name
    impls = [i.strip() for i in args.impls.split(",")] if args.impls else list(IMPLS)
    unknown = set(impls) - set(IMPLS)
    if unknown:
        raise SystemExit(f"unknown implementation(s) {sorted(unknown)}; choose from {list(IMPLS)}")
    plan = {w: [i for i in impls if available(i, get_workload(w).cell, args.device)]
            for w in workloads}
    base = {"quick": args.quick, "steps": args.steps, "device": args.device}
    load = [os.getloadavg()[0]]
    times: dict[str, dict[str, list[list[float]]]] = {w: {i: [] for i in plan[w]}
                                                      for w in workloads}
    t_start = time.perf_counter()
    for r in range(args.rounds):
        order = impls if r % 2 == 0 else impls[::-1]  # alternate so drifting load hits all
        jobs = [{"kind": "time", "impl": i, "workloads": [w], **base}
                for w in workloads for i in order if i in plan[w]]
        if args.quick:
            results = run_all(jobs, fresh=False)
        else:
            results = []
            for job in jobs:
                results.append(run_jobs([job])[0])
                if results[-1]:
                    w = job["workloads"][0]
                    print(f"  round {r + 1}/{args.rounds} {w:6} {job['impl']:12} "
                          f"{statistics.median(results[-1][w]):9.1f} ms/step "
                          f"({time.perf_counter() - t_start:5.0f} s)", file=sys.stderr)
        for job, res in zip(jobs, results):
            if res:
                w = job["workloads"][0]
                times[w][job["impl"]].append(res[w])
        load.append(os.getloadavg()[0])
    results_all: dict[str, Any] = {
        "info": machine_info(), "quick": args.quick, "rows": {},
        "workloads": {w: get_workload(w, args.quick, args.steps).describe() for w in workloads}}
    for w in workloads:
        results_all["rows"][w] = {}
        for impl, rounds in times[w].items():
            if rounds:
                pooled = [t for rnd in rounds for t in rnd]
                per_round = [statistics.median(rnd) for rnd in rounds]
                results_all["rows"][w][impl] = {
                    "median_ms": statistics.median(pooled), "round_min": min(per_round),
                    "round_max": max(per_round), "rounds": len(rounds), "steps": len(pooled)}
    breakdown_w = next((w for w in workloads if w.split("-")[0] == "b"), None)
    if breakdown_w and not args.no_breakdown and args.device == "cpu":
        results_all.update(breakdown(breakdown_w, args.quick, base))
    load.append(os.getloadavg()[0])
    results_all["info"]["load"] = f"{min(load):.1f}-{max(load):.1f}"
    return results_all


def breakdown(w: str, quick: bool, base: dict[str, Any]) -> dict[str, Any]:
    """The breakdown and memory jobs for workload ``w`` (b or a variant of it)."""
    cell = get_workload(w).cell
    paths = [i for i in ("mg-graph", "mg-fused") if available(i, cell)]
    jobs = [{"kind": "breakdown", "impl": i, "workload": w, **base} for i in paths]
    if cell == "lstm":
        jobs.append({"kind": "floor", "impl": "numpy", "workload": w, **base})
    jobs += [{"kind": "memory", "impl": i, "workload": w, **base}
             for i in paths + [i for i in NUMPY_ROWS if available(i, cell)]]
    out: dict[str, Any] = {"breakdown_workload": w, "breakdown": {}, "memory": {}, "floor": None}
    for job, res in zip(jobs, run_all(jobs, fresh=not quick)):
        if res and job["kind"] == "floor":
            out["floor"] = res
        elif res:
            out[job["kind"]][job["impl"]] = res
    return out


# ----------------------------------------------------------------------------- reporting


def fmt_ms(ms: float) -> str:
    return f"{ms:.3g}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    """Rows of the main table: workload, implementation, median, spread, the two ratios."""
    rows = []
    for w, impls in results["rows"].items():
        cell = get_workload(w).cell
        ref = impls.get(REFERENCE, {}).get("median_ms")
        floors = [impls[i]["median_ms"] for i in NUMPY_ROWS if i in impls]
        best_np = min(floors) if floors else None
        for impl in IMPLS:
            if impl not in impls:
                continue
            r = impls[impl]
            ms = r["median_ms"]
            rows.append([w, impl_label(impl, cell), fmt_ms(ms),
                         f"{fmt_ms(r['round_min'])}-{fmt_ms(r['round_max'])}",
                         f"{ms / ref:.2f}x" if ref else "-",
                         f"{ms / best_np:.2f}x" if best_np else "-"])
    return rows


TABLE_HEAD = ["workload", "implementation", "ms/step", "round medians", "vs LSTMCell loop",
              "vs best NumPy"]


def breakdown_rows(results: dict[str, Any]) -> list[list[str]]:
    """Where minigrad's time goes on workload b: one column per path (graph, fused)."""
    bd, floor = results.get("breakdown") or {}, results.get("floor")
    if not bd:
        return []
    paths = list(bd)
    rows: list[list[str]] = []

    def add(label: str, vals: list[float]) -> None:
        rows.append([label] + [fmt_ms(v) for v in vals])

    total = [bd[p]["total"] for p in paths]
    add("whole step (sum of the phases' medians)", total)
    add("  zero_grad", [bd[p]["zero_grad"] for p in paths])
    add("  forward + loss", [bd[p]["forward_loss"] for p in paths])
    add("  backward", [bd[p]["backward"] for p in paths])
    add("  optimizer step (Adam)", [bd[p]["optimizer"] for p in paths])
    if not floor:
        return rows
    # the graph path makes dW_hh per time step; the fused path in one product over all steps
    hoisted = [p != "mg-graph" for p in paths]
    gemm = [floor["gemm_hoisted" if h else "gemm_per_step"] for h in hoisted]
    n_gemm = "/".join(str(floor["n_gemm_hoisted" if h else "n_gemm_per_step"]) for h in hoisted)
    arith = max(floor["hand_loss_and_grads"] - floor["gemm_hoisted"], 0.0)
    rest = [t - g - arith - bd[p]["optimizer"] - bd[p]["zero_grad"]
            for t, g, p in zip(total, gemm, paths)]
    rows.append(["split of the step:"] + [""] * len(paths))
    add(f"  matrix products ({n_gemm} GEMMs timed alone, NumPy)", gemm)
    add("  gate math, loss, embedding (NumPy floor's non-GEMM work)", [arith] * len(paths))
    add("  optimizer + zero_grad", [bd[p]["optimizer"] + bd[p]["zero_grad"] for p in paths])
    add("  rest: Python, autograd, allocation, copies", rest)
    rows.append(["  rest, share of the step"] + [f"{r / t:.0%}" for r, t in zip(rest, total)])
    return rows


def floor_note(results: dict[str, Any]) -> str:
    f = results.get("floor")
    if not f:
        return ""
    return (f"The NumPy hand version (buffers reused) on the same workload: loss_and_grads "
            f"{fmt_ms(f['hand_loss_and_grads'])} ms, of which its {f['n_gemm_hoisted']} GEMMs "
            f"alone take {fmt_ms(f['gemm_hoisted'])} ms; its Adam {fmt_ms(f['hand_optimizer'])} "
            f"ms. With the weight gradients per time step, the GEMMs alone take "
            f"{fmt_ms(f['gemm_per_step'])} ms ({f['n_gemm_per_step']} products).")


def profile_rows(results: dict[str, Any], top: int = 8) -> list[list[str]]:
    bd = results.get("breakdown") or {}
    rows = []
    for p, r in bd.items():
        shares = list(r["profile"].items())
        shown = shares[:top]
        other = sum(v for _, v in shares[top:])
        text = ", ".join(f"{k} {v:.0%}" for k, v in shown) + (f", rest {other:.0%}" if other else
                                                              "")
        rows.append([impl_label(p), text])
    return rows


def memory_rows(results: dict[str, Any]) -> list[list[str]]:
    return [[impl_label(p), f"{m['peak_mb']:.3g}", f"{m['after_mb']:.3g}"]
            for p, m in (results.get("memory") or {}).items()]


def render(head: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*head)] + [fmt.format(*r) for r in rows])


def report(results: dict[str, Any], markdown: bool = False) -> str:
    info = results["info"]
    h = "### " if markdown else ""
    parts = [
        f"{h}One training step, median ms ({info['threads']} thread(s), fresh process per run)",
        "",
        f"machine: {info['machine']}, {info['cpu']}; python {info['python']}, numpy "
        f"{info['numpy']}, torch {info['torch']}, minigrad {info['minigrad']}; threads "
        f"{info['threads']}; load average {info.get('load', '?')} (2 = both cores busy); "
        f"{info['date']}" + ("; QUICK (tiny sizes)" if results["quick"] else ""),
        "",
    ]
    load = info.get("load", "")
    if load and float(load.split("-")[-1]) > (os.cpu_count() or 1):
        parts += [f"WARNING: the machine was busy (load average up to {load.split('-')[-1]} on "
                  f"{os.cpu_count()} CPUs): times are inflated, ratios less so.", ""]
    parts += [f"- {w}: {d}" for w, d in results["workloads"].items()]
    parts += ["", render(TABLE_HEAD, table_rows(results), markdown), "",
              "Ratios: to the torch LSTMCell (GRUCell/RNNCell) loop, and to the faster NumPy "
              "hand row; round medians: lowest-highest per-round median. Differences within "
              "~15% are noise on this shared machine."]
    if results.get("breakdown"):
        w = results["breakdown_workload"]
        paths = [impl_label(p) for p in results["breakdown"]]
        parts += ["", f"{h}Where minigrad's time goes, workload {w} (ms per step)", "",
                  render(["part"] + paths, breakdown_rows(results), markdown), "",
                  "Matrix products: the step's GEMMs timed alone in NumPy at the same shapes "
                  "(graph: weight gradient per time step; fused: one weight-gradient GEMM over "
                  "all steps). Gate math: the hand NumPy version's loss_and_grads minus its "
                  "GEMMs. Rest = step - GEMMs - gate math - optimizer - zero_grad.",
                  "", floor_note(results), "",
                  f"{h}cProfile, share of own time by file (profiler overhead inflates Python "
                  "parts)", "",
                  render(["path", "files"], profile_rows(results), markdown)]
    if results.get("memory"):
        parts += ["", f"{h}Peak memory of one step, workload {results['breakdown_workload']} "
                  "(tracemalloc, MiB above what existed before the step)", "",
                  render(["implementation", "peak during step", "held after step"],
                         memory_rows(results), markdown)]
    return "\n".join(parts)


def plot(results: dict[str, Any], path: str) -> None:
    """Bar chart: ms per step by workload (groups) and implementation (bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = list(results["rows"])
    impls = [i for i in IMPLS if any(i in results["rows"][w] for w in workloads)]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.9 * len(workloads) + 2), 4.5))
    width = 0.8 / max(len(impls), 1)
    values = []
    for k, impl in enumerate(impls):
        xs, ys = [], []
        for j, w in enumerate(workloads):
            row = results["rows"][w].get(impl)
            if row:
                xs.append(j - 0.4 + width * (k + 0.5))
                ys.append(row["median_ms"])
        values += ys
        ax.bar(xs, ys, width, label=impl_label(impl).replace("{CELL}", ""))
    if values and max(values) / max(min(values), 1e-9) > 20:
        ax.set_yscale("log")
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_xlabel("workload")
    ax.set_ylabel("ms per training step (median)")
    info = results["info"]
    load = info.get("load", "")
    busy = (f"; BUSY machine, load avg {load}"
            if load and float(load.split("-")[-1]) > (os.cpu_count() or 1) else "")
    ax.set_title(f"One RNN training step, {info['threads']} threads, {info['cpu']}{busy}",
                 fontsize=10)
    ax.legend(fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="a,b,c",
                   help="comma-separated: a, b, c, optionally -gru/-rnn (e.g. a,b,b-gru)")
    p.add_argument("--impls", default="", help=f"subset of {','.join(IMPLS)} (default all)")
    p.add_argument("--rounds", type=int, default=3, help="fresh-process runs per row")
    p.add_argument("--steps", default=None, type=parse_steps,
                   help="timed steps per run: N for every workload, or per workload as "
                        "a=10,b=5,c=2 (default: a 20, b 10, c 3; warm-up a 3, b 2, c 1)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one round: a smoke run")
    p.add_argument("--cpu-time", action="store_true",
                   help="one thread per row, steps timed in process CPU time (busy machines)")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="time on the GPU (CuPy / torch CUDA) instead of the CPU")
    p.add_argument("--no-breakdown", action="store_true",
                   help="skip the breakdown and memory runs on workload b")
    p.add_argument("--markdown", metavar="PATH", help="also write the report as Markdown")
    p.add_argument("--plot", metavar="PATH", help="also write a bar chart (needs matplotlib)")
    p.add_argument("--json", metavar="PATH", help="also write the raw results")
    p.add_argument("--from-json", metavar="PATH", help="report saved results; measure nothing")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args()

    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.cpu_time:
        os.environ.update(MINIGRAD_BENCH_THREADS="1", MINIGRAD_BENCH_CPU_TIME="1")
    # on SIGTERM, unwind: subprocess.run then kills the running worker instead of orphaning it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick and "--rounds" not in sys.argv:
        args.rounds = 1
    if args.from_json:
        with open(args.from_json) as f:
            results = json.load(f)
    else:
        results = measure(args)
    print(report(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report(results, markdown=True) + "\n")
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
