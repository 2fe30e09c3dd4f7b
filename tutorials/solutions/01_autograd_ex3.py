"""Tutorial 1, exercise 3 (predict): how small should gradcheck's step ε be?

`gradcheck` compares backward with the central difference (f(u + ε) - f(u - ε)) / 2ε.
Predict how the error of that estimate changes as ε goes from 1e-1 down to 1e-13, in float64
and in float32. Hints: Taylor's theorem gives a truncation error of about ε² |f'''| / 6;
each f is rounded to a relative precision of about 1e-16 (float64) or 6e-8 (float32), an
error that the division by 2ε magnifies.

What to expect: a "V" on a log-log plot. Large ε: truncation error, falling as ε². Small ε:
rounding error, growing as 1/ε. The best ε is near the cube root of the machine precision:
about 1e-5 in float64 (error about 1e-11) but 1e-2 or 1e-3 in float32, where the best
error is still about 1e-6: too coarse to tell a right backward from a slightly wrong one,
which is why gradcheck insists on float64.
"""


import numpy as np

import minigrad as mg
from minigrad.utils.tutorial import banner, plt, savefig

banner("01 autograd, exercise 3: the step of a finite difference")


def softplus(u):  # the tutorial's stable form, in minigrad ops
    return u.relu() + (1 + (-u.abs()).exp()).log()


points = np.array([-2.0, -0.5, 0.3, 1.7])
exact = 1 / (1 + np.exp(-points))  # d softplus / du = sigma(u), the true derivative
epsilons = 10.0 ** -np.arange(1, 14)
errors = {}
for dtype in (mg.float64, mg.float32):
    u = mg.tensor(points, dtype=dtype)
    errs = []
    for eps in epsilons:
        with mg.no_grad():
            slope = (softplus(u + eps) - softplus(u - eps)).numpy().astype(np.float64) / (2 * eps)
        errs.append(np.abs(slope - exact).max())
    errors[str(dtype)] = np.array(errs)
    best = int(np.argmin(errs))
    print(f"{str(dtype):14s} best eps {epsilons[best]:.0e} (error {errs[best]:.1e}); "
          f"error at eps=1e-1: {errs[0]:.1e}, at eps=1e-13: {errs[-1]:.1e}")

fig, ax = plt.subplots(figsize=(6, 3.6))
for name, errs in errors.items():
    ax.loglog(epsilons, errs, "o-", label=name)
ax.set_xlabel("step ε")
ax.set_ylabel("max |central difference - σ(u)|")
ax.set_title("truncation (right) vs rounding (left)")
ax.legend()
savefig(fig, "01_ex3_finite_difference.png")

e64, e32 = errors[str(mg.float64)], errors[str(mg.float32)]
best64 = epsilons[np.argmin(e64)]
# the predicted V: the best step is in the middle, far better than either end
assert 1e-7 <= best64 <= 1e-3, best64
assert e64.min() < 1e-9 and e64.min() < e64[0] / 1e3 and e64.min() < e64[-1] / 1e3
# float32 cannot get anywhere near float64's accuracy, whatever the step
assert e32.min() > 100 * e64.min()
print("Prediction confirmed: a V-shaped error, best near eps = 1e-5 in float64; float32 "
      "bottoms out orders of magnitude higher.")
