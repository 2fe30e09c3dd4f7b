"""Tutorial 7, exercise 2 (implement): a linear autoregressive forecaster.

Before reaching for a GRU, try the model it must beat to be worth its cost: a *linear*
map from the same window of W = 120 standardised months to the next K = 12,

    yhat = x A + a,   A (W, K), a (K,),

fitted by least squares on the training windows (no gradient descent needed: it has a
closed form).

1. Fit it with `np.linalg.lstsq` on the tutorial's windows (train 1749-1939).
2. Check that it is the minimum: the gradient of the training MSE at (A, a), computed by
   minigrad's autograd in float64, must vanish (to about 1e-10).
3. Compare its test RMSE per horizon with the naive forecast. Then compare with the
   tutorial's GRU (22.3 in full mode). What does that tell you? (In our run the linear model
   scores 23.7 over all horizons, naive 29.4: the linear model gets most of the way to the
   GRU, so much of what the GRU exploits is the cycle's linear structure.)
"""


import numpy as np

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.data import load_sunspots
from minigrad.utils.tutorial import banner

banner("07 forecasting, exercise 2: a linear autoregressive forecaster")
series = load_sunspots()
values = series.values
split_val = int(np.searchsorted(series.years, 1940))
split_test = int(np.searchsorted(series.years, 1970))
W, K = 120, 12
mu, sigma = values[:split_val].mean(), values[:split_val].std()
z = (values - mu) / sigma


def windows(start, stop):
    """(x (N, W), y (N, K), first target months) as in the tutorial (stride 1)."""
    ms = np.arange(max(start, W), min(stop, len(z) - K + 1))
    return np.stack([z[m - W : m] for m in ms]), np.stack([z[m : m + K] for m in ms]), ms


x_train, y_train, _ = windows(0, split_val)
x_test, y_test, m_test = windows(split_test, len(z))
X = np.c_[x_train, np.ones(len(x_train))]  # a column of ones for the intercept a
coef = np.linalg.lstsq(X, y_train, rcond=None)[0]  # (W + 1, K)
A, a = coef[:-1], coef[-1]

# (2) the least-squares solution is where the gradient of the training MSE vanishes
A_t = mg.tensor(A, requires_grad=True)
a_t = mg.tensor(a, requires_grad=True)
F.mse_loss(mg.tensor(x_train) @ A_t + a_t, mg.tensor(y_train)).backward()
grad_norm = np.sqrt((A_t.grad.numpy() ** 2).sum() + (a_t.grad.numpy() ** 2).sum())
print(f"||dL/d(A, a)|| at the least-squares solution: {grad_norm:.1e}")

# (3) test RMSE per horizon, in sunspot numbers
pred = x_test @ A + a
naive = np.repeat(z[m_test - 1][:, None], K, axis=1)
per_k = {name: np.sqrt((((p - y_test) * sigma) ** 2).mean(0))
         for name, p in [("linear AR", pred), ("naive", naive)]}
print("horizon k:  " + " ".join(f"{k:5d}" for k in range(1, K + 1)))
for name, e in per_k.items():
    print(f"{name:11s} " + " ".join(f"{v:5.1f}" for v in e))
overall = {name: float(np.sqrt((e ** 2).mean())) for name, e in per_k.items()}
print(f"over all horizons: linear AR {overall['linear AR']:.1f}, naive {overall['naive']:.1f} "
      "(the tutorial's GRU: 22.3 in full mode)")

assert grad_norm < 1e-10, "the least-squares solution should be a stationary point"
assert np.all(per_k["linear AR"] < per_k["naive"]), "the linear model should beat naive"
print("A linear map of the last ten years beats the naive forecast at every horizon.")
