"""Tutorial 1, exercise 1 (predict): the gradient of a broadcast multiplier.

Z = A * c, with A of shape (4, 3) and an upstream gradient G = dL/dZ of the same shape.
Before running, predict the shape and the value of dL/dc when c has shape

  (a) (3,)   (one factor per column),
  (b) (4, 1) (one factor per row),
  (c) ()     (a single scalar),

as a formula in A and G. (Z_nj = A_nj c_j in case (a): c_j is used in every row n, so its
gradient sums over n.)

What to expect: dL/dc always has c's own shape, and is the sum of G * A over the axes along
which c was broadcast: (a) (G * A).sum(0), (b) (G * A).sum(1, keepdims=True),
(c) (G * A).sum(). This script measures it in float64.
"""


import numpy as np

import minigrad as mg
from minigrad.testing import assert_close
from minigrad.utils.tutorial import banner

banner("01 autograd, exercise 1: broadcasting and the gradient")
mg.manual_seed(0)
A = mg.randn(4, 3, dtype=mg.float64)
G = mg.randn(4, 3, dtype=mg.float64)
GA = (G * A).numpy()

predictions = {  # the shape of c -> the predicted dL/dc
    (3,): GA.sum(0),
    (4, 1): GA.sum(1, keepdims=True),
    (): GA.sum(),
}
for shape, predicted in predictions.items():
    c = mg.randn(*shape, dtype=mg.float64, requires_grad=True)
    Z = A * c  # broadcast to (4, 3)
    Z.backward(G)
    print(f"c of shape {str(shape):7s} -> dL/dc of shape {str(c.grad.shape):7s} "
          f"= {np.round(c.grad.numpy(), 4).tolist()}")
    # the measured gradient is the prediction, to float64 rounding
    assert c.grad.shape == shape
    assert_close(c.grad, predicted, rtol=1e-12, atol=1e-12, name=f"dL/dc for c of shape {shape}")
print("All three predictions hold: the gradient sums over the broadcast axes.")
