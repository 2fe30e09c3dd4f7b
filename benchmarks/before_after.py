"""Before and after a change, in one run: the engine overhead and a short RNN training step.

Runs ``overhead.py`` (this checkout's script, importing each checkout's minigrad in turn) and
each checkout's ``rnn.py`` (the graph path, ``mg-graph``), alternating the two checkouts round
by round in fresh processes, so that the load of a shared machine falls on both alike. Reports
the median of each figure over the rounds and the ratio after / before (below 1: faster): the
median of the per-round ratios, since the two measurements of one round saw the same load.

Run: ``python benchmarks/before_after.py --before ../minigrad-main [--rounds 5]``, where
``--before`` is another checkout (``git worktree add ../minigrad-main main``).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROW = re.compile(r"^(chain|matmul)\s+(\d+x\d+)\s+([\d.]+)\s+([\d.]+)")


def overhead(root: str, sizes: str, repeats: int) -> dict[tuple[str, str], tuple[float, float]]:
    """(workload, size) -> (numpy us/op, minigrad us/op) for the minigrad in ``root``."""
    env = dict(os.environ, MINIGRAD_BENCH_ROOT=root)
    out = subprocess.run([sys.executable, os.path.join(HERE, "overhead.py"), "--sizes", sizes,
                          "--repeats", str(repeats), "--clock", "cpu", "--no-torch"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return {(m[1], m[2]): (float(m[3]), float(m[4]))
            for m in (ROW.match(line) for line in out.splitlines()) if m}


def rnn_step(root: str, workload: str, steps: int) -> float:
    """Median ms of one training step of ``mg-graph`` on ``workload``, with root's rnn.py."""
    out = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "rnn.py"),
                          "--workloads", workload, "--impls", "mg-graph", "--rounds", "1",
                          "--steps", str(steps), "--no-breakdown"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():  # the table row: "a   minigrad graph (fused=False)   1281 ..."
        if "(fused=False)" in line:
            return float(re.findall(r"([\d.]+)", line.split("(fused=False)", 1)[1])[0])
    raise RuntimeError(f"no mg-graph row in the output of {root}/benchmarks/rnn.py:\n{out}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", required=True, help="the other checkout (the baseline)")
    p.add_argument("--after", default=os.path.dirname(HERE), help="default: this checkout")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sizes", default="8x32,64x256,256x1024")
    p.add_argument("--repeats", type=int, default=6)
    p.add_argument("--rnn", default="a", help="rnn.py workload ('' to skip)")
    p.add_argument("--rnn-steps", type=int, default=5)
    args = p.parse_args()
    roots = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    ov: dict[str, dict] = {k: {} for k in roots}
    rnn: dict[str, list[float]] = {k: [] for k in roots}
    for r in range(args.rounds):
        order = list(roots) if r % 2 == 0 else list(reversed(roots))
        for k in order:
            for key, (np_us, mg_us) in overhead(roots[k], args.sizes, args.repeats).items():
                ov[k].setdefault(key, []).append((np_us, mg_us))
            if args.rnn:
                rnn[k].append(rnn_step(roots[k], args.rnn, args.rnn_steps))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)

    print(f"median of {args.rounds} interleaved rounds; overhead: CPU time, us per forward op "
          "(forward + backward), 2 threads")
    print("| workload | size | NumPy by hand | before | after | after/before | before/NumPy "
          "| after/NumPy |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key in ov["after"]:
        b, a = ov["before"][key], ov["after"][key]
        numpy = statistics.median([v[0] for v in b + a])
        ratio = statistics.median([y[1] / x[1] for x, y in zip(b, a)])
        b_np = statistics.median([v[1] / v[0] for v in b])  # each against its own NumPy run
        a_np = statistics.median([v[1] / v[0] for v in a])
        print(f"| {key[0]} | {key[1]} | {numpy:.2f} | {statistics.median(v[1] for v in b):.2f} "
              f"| {statistics.median(v[1] for v in a):.2f} | {ratio:.2f}x | {b_np:.2f}x "
              f"| {a_np:.2f}x |")
    if args.rnn:
        before, after = statistics.median(rnn["before"]), statistics.median(rnn["after"])
        ratio = statistics.median([y / x for x, y in zip(rnn["before"], rnn["after"])])
        print(f"\nrnn.py workload {args.rnn}, mg-graph (fused=False), ms per training step "
              f"(wall): before {before:.1f}, after {after:.1f}, after/before {ratio:.2f}x; "
              f"per round: before {rnn['before']}, after {rnn['after']}")


if __name__ == "__main__":
    main()
