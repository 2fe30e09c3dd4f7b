"""Tutorial 7, exercise 1 (predict): how do the simplest forecasts degrade with the horizon?

Besides the naive forecast (repeat the last month), the other classic floor is the
**climatological mean**: forecast the training mean, whatever the recent past. Before
running, predict for the test years 1970-2009, horizons k = 1..12 months:

  (a) the shape of the naive forecast's RMSE as k grows;
  (b) the shape of the mean forecast's RMSE;
  (c) which of the two is better 12 months ahead.

(Answers: (a) it grows steadily with k: the further out, the more the sun has moved since the
last observation; (b) flat: it ignores the past, so every horizon is alike; (c) the naive
one, by far: a month's sunspot number is strongly correlated with the number a year
before, far more than with the long-run average. That is why the GRU of the tutorial is
measured against naive and seasonal naive, not against the mean.)
"""


import numpy as np

from minigrad.data import load_sunspots
from minigrad.utils.tutorial import banner, plt, savefig

banner("07 forecasting, exercise 1: error against horizon")
series = load_sunspots()
values = series.values
split_val = int(np.searchsorted(series.years, 1940))
split_test = int(np.searchsorted(series.years, 1970))
W, K = 120, 12
mean = values[:split_val].mean()  # training months only, as in the tutorial

# every test window: its first target month m lies in the test years (as in the tutorial)
ms = np.arange(split_test, len(values) - K + 1)
y = np.stack([values[m : m + K] for m in ms])  # (N, K)
naive = np.repeat(values[ms - 1][:, None], K, axis=1)
climatology = np.full_like(y, mean)
rmse = {name: np.sqrt(((p - y) ** 2).mean(0)) for name, p in
        [("naive", naive), ("training mean", climatology)]}
print("horizon k:     " + " ".join(f"{k:5d}" for k in range(1, K + 1)))
for name, e in rmse.items():
    print(f"{name:14s}" + " ".join(f"{v:5.1f}" for v in e))

fig, ax = plt.subplots(figsize=(6, 3.6))
for name, e in rmse.items():
    ax.plot(np.arange(1, K + 1), e, "o-", label=name)
ax.set_xlabel("months ahead k")
ax.set_ylabel("test RMSE (sunspot number)")
ax.legend()
savefig(fig, "07_ex1_horizon.png")

n, c = rmse["naive"], rmse["training mean"]
assert np.all(np.diff(n) > 0), "(a) the naive error should grow with every month ahead"
assert c.max() / c.min() < 1.05, "(b) the mean forecast's error should be flat"
assert n[-1] < c[-1], "(c) naive should still beat the mean 12 months ahead"
print(f"Predictions confirmed: naive {n[0]:.1f} -> {n[-1]:.1f}, mean flat at ~{c.mean():.1f}.")
