"""Tutorial 1, exercise 2 (derive and implement): a `LogSumExp` Function.

The softplus of the tutorial is log(e^0 + e^u). Generalise it: for each row u of a
(B, K) tensor,

    y = logsumexp(u) = log sum_j e^{u_j}.

1. Derive dy/du_j. (Answer: e^{u_j} / sum_k e^{u_k} = softmax(u)_j, so
   dL/du_j = dL/dy * softmax(u)_j.)
2. Write it as an `mg.autograd.Function` that reduces over the last axis. Make the forward
   stable for large u (subtract the row's maximum m: y = m + log sum_j e^{u_j - m}).
3. Check the backward with `gradcheck` in float64, and check the forward against the
   tutorial's softplus: logsumexp([0, u]) = softplus(u).
"""


import numpy as np

import minigrad as mg
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("01 autograd, exercise 2: a LogSumExp Function")


class LogSumExp(mg.autograd.Function):
    """y_b = log sum_j exp(u_bj) over the last axis; dy_b/du_bj = softmax(u_b)_j."""

    @staticmethod
    def forward(ctx, u):
        m = u.amax(-1, keepdim=True)  # the row maximum: e^(u - m) <= 1 never overflows
        y = m + (u - m).exp().sum(-1, keepdim=True).log()  # (B, 1)
        ctx.save_for_backward(u, y)
        return y.squeeze(-1)  # (B,)

    @staticmethod
    def backward(ctx, grad_y):  # grad_y = dL/dy, (B,)
        u, y = ctx.saved_tensors
        softmax = (u - y).exp()  # e^{u_j} / sum_k e^{u_k}, using the saved y
        return grad_y.unsqueeze(-1) * softmax


mg.manual_seed(1)
u = mg.randn(4, 6, dtype=mg.float64, requires_grad=True)
print("gradcheck(LogSumExp):", mg.autograd.gradcheck(LogSumExp.apply, (u,)))

# stable where the naive log(sum(exp(u))) overflows to inf
big = mg.tensor([[1000.0, 1000.0]], dtype=mg.float64)
print("logsumexp([1000, 1000]) =", LogSumExp.apply(big).item(), "(1000 + log 2)")
assert_close(LogSumExp.apply(big), [1000 + np.log(2)], rtol=1e-15, atol=0)

# softplus is the special case logsumexp([0, u]): the tutorial's Function, generalised
v = np.linspace(-5, 5, 11)
pairs = mg.tensor(np.stack([np.zeros_like(v), v], axis=1))
assert_close(LogSumExp.apply(pairs), np.logaddexp(0, v), rtol=1e-14, atol=1e-14,
             name="logsumexp([0, u]) vs softplus(u)")
print("logsumexp([0, u]) equals softplus(u) on", v.size, "points; the backward passes gradcheck")
