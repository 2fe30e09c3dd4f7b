# %% [markdown]
# # 7. Forecasting a real time series with a GRU
#
# The sun's activity rises and falls in a cycle of about 11 years, but no two cycles are
# alike in length or height. Here we forecast the monthly sunspot number a year ahead with a
# GRU, and hold it to the standard of two baselines that any forecast must beat:
#
# * **naive**: the next 12 months will look like the last month we saw;
# * **seasonal naive**: month $m+k$ will look like month $m+k$ one solar cycle (132 months)
#   earlier.
#
# Along the way: cutting a series into **windows**, **normalising** with training
# statistics only, and a chronological train / validation / test split (no peeking at the
# future).
#
# **Data**: monthly mean sunspot numbers, January 1749 to June 2009 (SIDC via NOAA's NGDC,
# distributed with statsmodels; public domain), `mg.data.load_sunspots()`.
#
# **Time**: 15 seconds to 1.5 minutes on 2 CPU cores in full mode (the longer on a busy
# machine); seconds with `--quick`, whose numbers mean nothing (two epochs of a small model
# on a third of the windows).

# %%
# Quick mode runs the same code on a small slice of the data, in seconds. In a notebook,
# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it on as well.
QUICK = False

# %%
import numpy as np

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim
from minigrad.data import load_sunspots
from minigrad.utils.tutorial import Timer, banner, caveat, plt, progress, quick_mode, savefig

QUICK = quick_mode(QUICK)
banner("07 forecasting")
mg.manual_seed(0)

# %% [markdown]
# ## The series and its split
#
# Train on 1749-1939, validate (choose the epoch) on 1940-1969, test on 1970-2009: three
# whole stretches of time, in order.

# %%
series = load_sunspots()
values = series.values
t_axis = series.years + (series.months - 0.5) / 12  # fractional years, for plotting
split_val = int(np.searchsorted(series.years, 1940))
split_test = int(np.searchsorted(series.years, 1970))
print(f"{len(values)} months; train {split_val}, validation {split_test - split_val}, "
      f"test {len(values) - split_test}")

fig, ax = plt.subplots(figsize=(10, 3))
ax.plot(t_axis, values, lw=0.6, color="k")
ax.axvspan(t_axis[split_val], t_axis[split_test], color="C1", alpha=0.15, label="validation")
ax.axvspan(t_axis[split_test], t_axis[-1], color="C2", alpha=0.15, label="test")
ax.set_ylabel("sunspot number")
ax.legend(loc="upper left")
savefig(fig, "07_series.png")

# %% [markdown]
# ## Windows and normalisation
#
# From the series $s_1 \dots s_N$, one example is a window of the past $W = 120$ months (ten
# years: most of a cycle) and the next $K = 12$ months to predict:
#
# $$x = (s_{m-W+1}, \dots, s_m), \qquad y = (s_{m+1}, \dots, s_{m+K}).$$
#
# Networks train best on inputs of order 1, so every value is standardised,
# $z = (s - \mu) / \sigma$, with $\mu$ and $\sigma$ of the **training** months only: using the
# test months' statistics would leak information about the future into training.
# A window belongs to the split in which its first target month falls, so every forecast
# of the test split is of test months, made from the months before them.

# %%
W, K = 120, 12
mu, sigma = values[:split_val].mean(), values[:split_val].std()
z = (values - mu) / sigma


def windows(start, stop, stride=1):
    """All windows whose first target month m+1 is in [start, stop) and fits in the series."""
    ms = np.arange(max(start, W), min(stop, len(z) - K + 1), stride)  # m+1 = first target
    x = np.stack([z[m - W : m] for m in ms])[:, :, None]  # (N, W, 1)
    y = np.stack([z[m : m + K] for m in ms])  # (N, K)
    return x.astype(np.float32), y.astype(np.float32), ms


x_train, y_train, _ = windows(0, split_val, stride=3 if QUICK else 1)
x_val, y_val, _ = windows(split_val, split_test)
x_test, y_test, m_test = windows(split_test, len(z))
if QUICK:
    x_train, y_train = x_train[-200:], y_train[-200:]
print(f"windows: train {x_train.shape}, validation {x_val.shape}, test {x_test.shape}")

# %% [markdown]
# ## The baselines
#
# For a window ending at month $m$, predicting month $m+k$ ($k = 1, \dots, K$):
#
# $$\hat y^{\text{naive}}_{m+k} = s_m, \qquad \hat y^{\text{seasonal}}_{m+k} = s_{m+k-P},
#   \quad P = 132 \text{ months}.$$
#
# We report the root mean squared error over all test windows and all $K$ horizons, in
# sunspot numbers.

# %%
P = 132


def rmse(pred_z, y_z):
    return float(np.sqrt(np.mean(((pred_z - y_z) * sigma) ** 2)))


naive = np.repeat(z[m_test - 1][:, None], K, axis=1)
seasonal = np.stack([z[m - P : m - P + K] for m in m_test])
rmse_naive, rmse_seasonal = rmse(naive, y_test), rmse(seasonal, y_test)
print(f"test RMSE: naive {rmse_naive:.1f}, seasonal naive (P = {P}) {rmse_seasonal:.1f}")

# %% [markdown]
# ## The model
#
# A GRU reads the window; its final hidden state $h_W$ summarises it, and one linear layer
# maps that summary to all $K$ forecasts at once:
#
# $$h_W = \operatorname{GRU}(x_1, \dots, x_W), \qquad \hat y = h_W W_{out}^T + b_{out}
#   \in \mathbb{R}^K .$$
#
# The loss is the mean squared error of the standardised values.

# %%
class Forecaster(nn.Module):
    def __init__(self, hidden=64, horizon=K):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, horizon)

    def forward(self, x):  # x (B, W, 1)
        _, h_n = self.gru(x)  # h_n (num_layers=1, B, hidden)
        return self.out(h_n[0])  # (B, K)


def predict(model, x, batch=512):
    with mg.no_grad():
        return np.concatenate([model(mg.tensor(x[i : i + batch])).numpy()
                               for i in range(0, len(x), batch)])


model = Forecaster(hidden=32 if QUICK else 64)
opt = optim.Adam(model.parameters(), lr=3e-3)
EPOCHS, BATCH = (2 if QUICK else 12), 64
history, best = [], (np.inf, None, 0)
rng = np.random.default_rng(0)
with Timer() as t_train:
    for epoch in range(EPOCHS):
        order = rng.permutation(len(x_train))
        losses = []
        for i in progress(range(0, len(order), BATCH), desc=f"epoch {epoch + 1}"):
            idx = order[i : i + BATCH]
            loss = F.mse_loss(model(mg.tensor(x_train[idx])), mg.tensor(y_train[idx]))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        val_rmse = rmse(predict(model, x_val), y_val)
        history.append((np.mean(losses), val_rmse))
        print(f"epoch {epoch + 1:2d}: train MSE {np.mean(losses):.3f}  validation RMSE "
              f"{val_rmse:.1f}  ({t_train.elapsed():.0f} s)")
        if val_rmse < best[0]:
            best = (val_rmse, {k: v.detach().numpy().copy()
                               for k, v in model.state_dict().items()}, epoch + 1)
model.load_state_dict(best[1])
print(f"best epoch {best[2]} (validation RMSE {best[0]:.1f}); training {t_train.seconds:.0f} s")

# %% [markdown]
# ## Test error, against the baselines
#
# Per horizon $k$, and over all of them. The naive forecast is hard to beat one month ahead
# (the sun does not change much in a month) but gets worse with every month further out. In
# full mode the GRU has learned the shape of a cycle, so its error grows much more slowly: we
# measured a test RMSE over all twelve horizons of 22.3 for the GRU, 29.4 for the naive
# forecast and 39.1 for the seasonal one. The seasonal forecast suffers from the cycle's
# irregular length: 132 months back is often the wrong phase. (Quick mode's GRU is barely
# trained and may well lose to the naive forecast.)

# %%
pred = predict(model, x_test)
rmse_gru = rmse(pred, y_test)
per_k = {name: np.sqrt(np.mean(((p - y_test) * sigma) ** 2, axis=0))
         for name, p in [("GRU", pred), ("naive", naive), ("seasonal naive", seasonal)]}
print("horizon k:      " + " ".join(f"{k:5d}" for k in range(1, K + 1)))
for name, e in per_k.items():
    print(f"{name:15s} " + " ".join(f"{v:5.1f}" for v in e))
print(f"\ntest RMSE over all horizons: GRU {rmse_gru:.1f}, naive {rmse_naive:.1f}, "
      f"seasonal naive {rmse_seasonal:.1f}{caveat()}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [2, 1]})
k = K  # show the hardest horizon: 12 months ahead
target_t = t_axis[m_test + k - 1]
ax1.plot(target_t, values[m_test + k - 1], "k", lw=1, label="observed")
ax1.plot(target_t, pred[:, k - 1] * sigma + mu, "C0", label="GRU")
ax1.plot(target_t, naive[:, k - 1] * sigma + mu, "C1", lw=0.8, alpha=0.8, label="naive")
ax1.plot(target_t, seasonal[:, k - 1] * sigma + mu, "C2", lw=0.8, alpha=0.8,
         label="seasonal naive")
ax1.set_title(f"test period: forecasts made {k} months ahead")
ax1.set_ylabel("sunspot number")
ax1.legend(loc="upper right", fontsize=8)
for name, e in per_k.items():
    ax2.plot(np.arange(1, K + 1), e, "o-", ms=3, label=name)
ax2.set_xlabel("months ahead k")
ax2.set_ylabel("test RMSE")
ax2.set_title("error by horizon")
ax2.legend(fontsize=8)
savefig(fig, "07_forecast.png")

# %% [markdown]
# ## What you have seen
#
# * Windowing turns one long series into many (past, future) examples; a chronological split
#   and training-only statistics keep the test honest.
# * A forecast means little without baselines: in full mode the naive forecast is close to
#   the GRU one month ahead; the GRU's value is at longer range.
# * The GRU reads 120 months in order and maps its final state to the next 12: the same
#   Embedding-free recipe works for any numeric sequence.

# %%
print(f"RESULT: test RMSE (1-12 months ahead) GRU {rmse_gru:.1f}, naive {rmse_naive:.1f}, "
      f"seasonal naive {rmse_seasonal:.1f}; training {t_train.seconds:.0f} s{caveat()}")

# %% [markdown]
# ## Exercises
#
# Try each one before you look at its worked solution: a script in `tutorials/solutions/`
# that runs in seconds (`--quick` for the short version) and ends by checking what it shows.
#
# 1. **Error against horizon.** Add a third baseline, the training mean. Before computing
#    anything, sketch the test RMSE of the naive forecast and of the mean for
#    $k = 1, \dots, 12$ months ahead, and say which is better a year ahead. Then compute both
#    curves.
#    Solution: tutorials/solutions/07_forecasting_ex1.py
# 2. **A linear autoregressive forecaster.** Fit a *linear* map from the same 120-month
#    window to the next 12 months by least squares (`np.linalg.lstsq`), check with autograd
#    that the gradient of the training MSE vanishes at your solution, and compare its test
#    RMSE per horizon with the naive forecast and with the GRU. What does the comparison say
#    about what the GRU has learned?
#    Solution: tutorials/solutions/07_forecasting_ex2.py
# 3. **The period from the data.** Instead of the textbook 132 months, estimate the solar
#    cycle's period from the autocorrelation of the training months, use it in the
#    seasonal-naive forecast, and predict first whether it will help much.
#    Solution: tutorials/solutions/07_forecasting_ex3.py
