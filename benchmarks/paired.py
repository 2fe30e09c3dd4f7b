"""Paired timing: the rows of ``rnn.py`` in ONE process, one training step each in turn.

``rnn.py`` times each implementation alone, in a fresh process, and compares medians taken
minutes apart. On a shared machine the load changes in between, and ratios of such medians
swung by 20-30% from one run to the next (benchmarks/RESULTS.md). Here every round runs one
step of each implementation back to back (the order reversed every other round), timed in
CPU time with one thread, so the implementations of a round meet the same load; the ratio
reported for a row is the median over rounds of (its step / the reference's step in the same
round), with a bootstrap 95% interval of that median.

What it gives up: the implementations share one process, so one's freed memory is the next
one's heap, and each evicts the others' data from the caches (``rnn.py`` keeps them apart for
that reason): every row runs slower than alone (about 2x for workload (a)), and a ratio here is
the ratio under that handicap. That is fair between minigrad's own rows, which allocate alike,
and unfair to the others: PyTorch's cell loop took 80 ms per step
of workload (a) here against 29-32 ms alone at the same time, and the NumPy floor, which
reuses its buffers, lost ground too. So only minigrad's rows (``mg-*``) are allowed. Use
both: ``rnn.py`` for times and the ratios to PyTorch, this for ratios between minigrad's paths
(compiled / hand-written, compiled / graph) that a busy machine cannot blur.

Run: ``python benchmarks/paired.py [--workloads a,b] [--impls mg-fused,mg-graph]
[--reference mg-hand] [--rounds 30] [--quick] [--markdown PATH]``.
"""

from __future__ import annotations

import os

os.environ["MINIGRAD_BENCH_THREADS"] = "1"  # rnn.py pins every library to this at import

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import rnn  # noqa: E402


def paired(workload: str, impls: list[str], rounds: int, warmup: int = 2,
           quick: bool = False) -> dict[str, list]:
    """CPU milliseconds of one step of each implementation, for every round."""
    wl = rnn.get_workload(workload, quick)
    steps = {i: rnn.build(i, wl) for i in impls}
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list] = {i: [] for i in impls}
    for r in range(rounds):
        for impl in impls if r % 2 == 0 else impls[::-1]:
            t0 = time.process_time()
            steps[impl]()
            times[impl].append((time.process_time() - t0) * 1e3)
    return times


def median_ratio(num: list[float], den: list[float], seed: int = 0) -> tuple[float, float, float]:
    """Median of the per-round ratios num/den and a bootstrap 95% interval of it."""
    ratios = np.array(num) / np.array(den)
    rng = np.random.default_rng(seed)
    boot = np.median(rng.choice(ratios, (2000, len(ratios))), axis=1)
    return float(np.median(ratios)), float(np.quantile(boot, 0.025)), float(
        np.quantile(boot, 0.975))


def report(results: dict[str, dict[str, list]], reference: str, info: str,
           markdown: bool) -> str:
    head = ["workload", "implementation", "median ms", f"vs {reference} (95% interval)"]
    rows = []
    for w, times in results.items():
        cell = rnn.get_workload(w).cell
        for impl, ts in times.items():
            r = median_ratio(ts, times[reference]) if reference in times else None
            rows.append([w, rnn.impl_label(impl, cell), rnn.fmt_ms(statistics.median(ts)),
                         "-" if r is None else f"{r[0]:.2f}x ({r[1]:.2f}-{r[2]:.2f})"])
    title = ("One training step, paired in one process (1 thread, CPU time; ratio = median "
             "over rounds of the step's time / the reference's in the same round)")
    return f"#### {title}\n\n{info}\n\n" + rnn.render(head, rows, markdown)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", default="a,b", help="as rnn.py: a, b, c, b-gru, ...")
    rows = [i for i in rnn.IMPLS if i.startswith("mg-")]
    p.add_argument("--impls", default="mg-fused,mg-graph", help=f"subset of {','.join(rows)}")
    p.add_argument("--reference", default="mg-hand", help="the row every ratio is to")
    p.add_argument("--rounds", type=int, default=30, help="steps of each row, in turn")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    p.add_argument("--markdown", metavar="PATH", help="also write the report as Markdown")
    args = p.parse_args()
    impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    unknown = set(impls + [args.reference]) - set(rows)
    if unknown:
        raise SystemExit(f"--impls/--reference: {sorted(unknown)} cannot be paired here; choose "
                         f"from {rows} (PyTorch and NumPy rows are timed alone, by rnn.py: in "
                         "one process with minigrad they run slower than alone)")
    if args.reference not in impls:
        impls.append(args.reference)
    results: dict[str, dict[str, Any]] = {}
    load = [os.getloadavg()[0]]
    for w in (w.strip() for w in args.workloads.split(",") if w.strip()):
        cell = rnn.get_workload(w).cell
        results[w] = paired(w, [i for i in impls if rnn.available(i, cell)], args.rounds,
                            quick=args.quick)
        load.append(os.getloadavg()[0])
    i = rnn.machine_info()
    info_line = (f"machine: {i['machine']}, {i['cpu']}; python {i['python']}, numpy {i['numpy']}, "
                 f"torch {i['torch']}, minigrad {i['minigrad']}; {args.rounds} rounds; load "
                 f"average {min(load):.1f}-{max(load):.1f}; {i['date']}")
    text = report(results, args.reference, info_line, markdown=False)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report(results, args.reference, info_line, markdown=True) + "\n")


if __name__ == "__main__":
    main()
