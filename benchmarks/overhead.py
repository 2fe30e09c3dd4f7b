"""Per-op cost of the engine: forward + backward of small ops, minigrad vs NumPy vs PyTorch.

Two workloads, each at several sizes:

- ``chain``: y = tanh(a * x + b) repeated; every op is elementwise (mul, add, tanh), so at small
  sizes the engine's own overhead (Python, bookkeeping) is what is measured.
- ``matmul``: y = tanh(x @ W) repeated (square W).

"NumPy" is the same arithmetic written by hand with no autograd: the forward ops and the
backward ops a person would write. It is the floor. PyTorch eager (when installed) is the
common reference. Per-op time = (forward + backward time) / number of forward ops.

Run: ``OMP_NUM_THREADS=2 python benchmarks/overhead.py`` (threads are pinned to 2 anyway).
On a shared machine add ``--clock cpu``: the time this thread spent on a CPU, which waiting for
other processes does not inflate. ``benchmarks/before_after.py`` compares two checkouts.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "2")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

# MINIGRAD_BENCH_ROOT: measure the minigrad of another checkout (benchmarks/before_after.py)
sys.path.insert(0, os.environ.get("MINIGRAD_BENCH_ROOT", os.path.join(os.path.dirname(__file__),
                                                                      "..")))
import minigrad as mg  # noqa: E402

DEPTH = 30  # layers of the chain; 3 elementwise ops each


CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = time.perf_counter


def time_it(fn: Callable[[], None], repeats: int, min_time: float = 0.05) -> float:
    """Median seconds per call over ``repeats`` rounds of enough calls to last ``min_time``."""
    fn()
    n, t0 = 1, clock()
    fn()
    once = max(clock() - t0, 1e-7)
    n = max(1, int(min_time / once))
    rounds = []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(n):
            fn()
        rounds.append((clock() - t0) / n)
    return statistics.median(rounds)


# ----------------------------------------------------------------------------- chain
def chain_numpy(shape: tuple) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape).astype(np.float32)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)

    def step() -> None:
        xs, ys = [x0], []
        x = x0
        for _ in range(DEPTH):
            y = np.tanh(a * x + b)
            ys.append(y)
            xs.append(y)
            x = y
        g = np.ones_like(x)
        ga = np.zeros_like(a)
        gb = np.zeros_like(b)
        for i in reversed(range(DEPTH)):
            y = ys[i]
            gz = g * (1 - y * y)
            gb = gb + gz
            ga = ga + gz * xs[i]
            g = gz * a
    return step


def chain_minigrad(shape: tuple) -> Callable[[], None]:
    mg.manual_seed(0)
    x0 = mg.randn(*shape)
    a = mg.randn(*shape, requires_grad=True)
    b = mg.randn(*shape, requires_grad=True)

    def step() -> None:
        x = x0
        for _ in range(DEPTH):
            x = (a * x + b).tanh()
        x.sum().backward()
        a.grad = b.grad = None
    return step


def chain_torch(shape: tuple) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    torch.manual_seed(0)
    x0 = torch.randn(*shape)
    a = torch.randn(*shape, requires_grad=True)
    b = torch.randn(*shape, requires_grad=True)

    def step() -> None:
        x = x0
        for _ in range(DEPTH):
            x = torch.tanh(a * x + b)
        x.sum().backward()
        a.grad = b.grad = None
    return step


# ----------------------------------------------------------------------------- matmul
def matmul_numpy(shape: tuple) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    n = shape[1]
    x0 = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)

    def step() -> None:
        xs, ys = [x0], []
        x = x0
        for _ in range(DEPTH):
            y = np.tanh(x @ w)
            ys.append(y)
            xs.append(y)
            x = y
        g = np.ones_like(x)
        gw = np.zeros_like(w)
        for i in reversed(range(DEPTH)):
            gz = g * (1 - ys[i] * ys[i])
            gw = gw + xs[i].T @ gz
            g = gz @ w.T
    return step


def matmul_minigrad(shape: tuple) -> Callable[[], None]:
    mg.manual_seed(0)
    n = shape[1]
    x0 = mg.randn(*shape)
    w = (mg.randn(n, n) / n**0.5).requires_grad_()

    def step() -> None:
        x = x0
        for _ in range(DEPTH):
            x = (x @ w).tanh()
        x.sum().backward()
        w.grad = None
    return step


def matmul_torch(shape: tuple) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(2)
    n = shape[1]
    x0 = torch.randn(*shape)
    w = (torch.randn(n, n) / n**0.5).requires_grad_()

    def step() -> None:
        x = x0
        for _ in range(DEPTH):
            x = torch.tanh(x @ w)
        x.sum().backward()
        w.grad = None
    return step


WORKLOADS = {
    "chain": (3, chain_numpy, chain_minigrad, chain_torch),
    "matmul": (2, matmul_numpy, matmul_minigrad, matmul_torch),
}


def main() -> None:
    global clock
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--sizes", default="8x32,64x256,256x1024")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall time, or the CPU time of this thread (steadier on a busy machine)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    args = p.parse_args()
    clock = CLOCKS[args.clock]
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    print(f"minigrad {mg.__version__}, numpy {np.__version__}, threads "
          f"{os.environ['OMP_NUM_THREADS']}, {args.clock} clock; median us per forward op, "
          "forward + backward")
    print(f"{'workload':<8} {'size':>10} {'numpy':>9} {'minigrad':>9} {'torch':>9} "
          f"{'mg/numpy':>9} {'mg/torch':>9}")
    for name, (ops_per_layer, f_np, f_mg, f_torch) in WORKLOADS.items():
        for shape in sizes:
            n_ops = DEPTH * ops_per_layer
            # alternate the implementations so drifting machine load hits all of them
            fns = {"numpy": f_np(shape), "minigrad": f_mg(shape),
                   "torch": None if args.no_torch else f_torch(shape)}
            results: dict[str, list[float]] = {k: [] for k in fns}
            for _ in range(3):
                for k, fn in fns.items():
                    if fn is not None:
                        results[k].append(time_it(fn, args.repeats // 3 + 1) / n_ops * 1e6)
            med = {k: statistics.median(v) if v else float("nan") for k, v in results.items()}
            print(f"{name:<8} {'x'.join(map(str, shape)):>10} {med['numpy']:9.2f} "
                  f"{med['minigrad']:9.2f} {med['torch']:9.2f} "
                  f"{med['minigrad'] / med['numpy']:8.2f}x {med['minigrad'] / med['torch']:8.2f}x")


if __name__ == "__main__":
    main()
