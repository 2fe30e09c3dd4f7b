"""Tutorial 8, exercise 2 (predict, then measure): the fixed cost of one operation.

The tutorial explains its timings by a per-operation overhead: every op costs a fixed time
t_0 (Python, the graph node, on a GPU a kernel launch) plus a time proportional to the
amount of work. Model the time of an elementwise `a + b` on n elements as

    t(n) ≈ t_0 + n / r     (r: elements per second once the op is large).

Predict before running: how much slower is an add of 1,000,000 elements than an add of 1
element: 1,000,000 times? (No: t(1) is almost all overhead, so the ratio is a few hundred at
most on a CPU, and on a GPU, where t_0 is a kernel launch and r is huge, even less.) Then
estimate t_0 and r from the measurements, and the size n_half = t_0 r at which half the time
is overhead: below it, a bigger batch or hidden size is nearly free.
"""

import time

import numpy as np

import minigrad as mg
from minigrad.utils.tutorial import QUICK, banner

banner("08 GPU, exercise 2: the fixed cost of an op")
sizes = [1, 100, 10_000, 1_000_000]
repeats = 200 if QUICK else 2000


def seconds_per_add(n, device):
    """The best of 5 averages of `repeats` adds (the minimum is the least disturbed)."""
    a = mg.randn(n, device=device, requires_grad=True)  # recorded, as in training
    b = mg.randn(n, device=device)
    best = np.inf
    for _ in range(5):
        reps = repeats if n < 1_000_000 else max(repeats // 20, 5)
        start = time.perf_counter()
        for _ in range(reps):
            c = a + b
        c.sum().item()  # wait for a GPU to finish before stopping the clock
        best = min(best, (time.perf_counter() - start) / reps)
    return best


devices = ["cpu"] + (["cuda"] if mg.cuda.is_available() else [])
fits = {}
for device in devices:
    t = np.array([seconds_per_add(n, device) for n in sizes])
    t0 = t[0]  # one element: the overhead alone
    r = (sizes[-1] - sizes[0]) / max(t[-1] - t[0], 1e-12)  # the slope from the largest op
    fits[device] = (t, t0, r)
    print(f"{device}: " + "  ".join(f"n={n:>9,}: {s * 1e6:8.1f} us" for n, s in zip(sizes, t)))
    print(f"      t(1e6)/t(1) = {t[-1] / t[0]:.0f}   t_0 = {t0 * 1e6:.1f} us   "
          f"r = {r:.2e} elements/s   n_half = t_0 r = {t0 * r:,.0f} elements")

t, t0, r = fits["cpu"]
# the prediction: a million times the work is nowhere near a million times the time
assert t[-1] / t[0] < 1e5, "t(1) should be dominated by the fixed overhead"
assert t[1] < 5 * t[0], "100 elements should cost about as much as 1: both are overhead"
print("Prediction confirmed: small ops cost their overhead, whatever their size.")
