"""Declarative table of operator cases shared by the fixture generator and the tests.

Each case holds ONE expression, ``fn(m, *tensors)``, that is evaluated both with PyTorch
(``m`` is the ``torch`` module, the tensors are ``torch.Tensor``) by
``tests/reference/generate_ops.py`` and with minigrad (``m`` is the ``minigrad`` module) by
``tests/test_reference_ops.py``. Only method and function names that PyTorch and minigrad
share (minigrad's public API mirrors PyTorch's names) may appear in an expression.

Inputs are described by :class:`Inp` specs; :func:`make_inputs` turns them into NumPy arrays
(float64 for floating inputs, int64 for index arrays, bool for masks) from a seed derived
from the case name, so adding or reordering cases never changes the values of other cases.

This module must not import torch or minigrad.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------------
# Specs
# ---------------------------------------------------------------------------------------------

#: Kinds of floating inputs: how the values are drawn.
#: randn: standard normal; pos: uniform(0.5, 2) (log, sqrt, pow bases, divisors);
#: nonzero: +-uniform(0.5, 2) (abs, division); unique: well separated distinct values (max/min
#: with dim, argmax: no ties); intval: integers in [-2, 2] stored as floats (comparisons with
#: equal elements); large: values around 500 with spread 3 (softmax stability); clampable:
#: randn values kept at least 0.05 away from the clamp bounds used below (-0.5, 0.3, 0.5, 0).
FLOAT_KINDS = ("randn", "pos", "nonzero", "unique", "intval", "large", "clampable")


@dataclass(frozen=True)
class Inp:
    """One input of a case.

    ``kind`` is one of :data:`FLOAT_KINDS`, ``"value"`` (use ``value`` as given, float),
    ``"index"`` (an int64 array from ``value``) or ``"mask"`` (a bool array from ``value``).
    Only floating inputs with ``grad=True`` require grad and get a reference gradient.
    """

    shape: tuple[int, ...] = ()
    kind: str = "randn"
    grad: bool = True
    value: Any = None

    @property
    def is_float(self) -> bool:
        return self.kind in FLOAT_KINDS or self.kind == "value"

    @property
    def differentiable(self) -> bool:
        return self.is_float and self.grad


@dataclass(frozen=True)
class Case:
    """One reference case: ``fn(m, *tensors)`` returns a tensor or a tuple of tensors.

    A case whose expression minigrad cannot run fails (it is never skipped). ``group`` is
    informational (``"tensor"``, ``"top"``,
    ``"nn.functional"``, ``"composite"``).
    """

    name: str
    fn: Callable[..., Any]
    inputs: tuple[Inp, ...]
    group: str = "tensor"

    def __post_init__(self) -> None:
        if not self.name.replace("_", "").isalnum():
            raise ValueError(f"case name {self.name!r} must be alphanumeric/underscore")


def randn_input(*shape: int) -> Inp:
    """A standard-normal float input that requires grad."""
    return Inp(tuple(shape), "randn")


def pos_input(*shape: int) -> Inp:
    """A positive float input (uniform 0.5..2) that requires grad."""
    return Inp(tuple(shape), "pos")


def nonzero_input(*shape: int) -> Inp:
    """A float input bounded away from zero (|x| in 0.5..2) that requires grad."""
    return Inp(tuple(shape), "nonzero")


def unique_input(*shape: int) -> Inp:
    """A float input with well separated distinct values (no ties) that requires grad."""
    return Inp(tuple(shape), "unique")


def intval_input(*shape: int) -> Inp:
    """Integer-valued floats in [-2, 2] (frequent equal elements), no grad."""
    return Inp(tuple(shape), "intval", grad=False)


def value_input(value: Any, grad: bool = True) -> Inp:
    """A float input with exactly the given values."""
    arr = np.asarray(value, dtype=np.float64)
    return Inp(arr.shape, "value", grad=grad, value=arr)


def index_input(value: Any) -> Inp:
    """An int64 index array (becomes an integer tensor in both libraries)."""
    arr = np.asarray(value, dtype=np.int64)
    return Inp(arr.shape, "index", grad=False, value=arr)


def mask_input(value: Any) -> Inp:
    """A boolean mask (becomes a bool tensor in both libraries)."""
    arr = np.asarray(value, dtype=bool)
    return Inp(arr.shape, "mask", grad=False, value=arr)


# Short aliases used by the table below.
R = randn_input
P = pos_input
NZ = nonzero_input
U = unique_input
Q = intval_input
V = value_input
IDX = index_input
MASK = mask_input


# ---------------------------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------------------------


def case_seed(name: str) -> int:
    """Stable per-case seed (independent of the order of the table)."""
    return zlib.crc32(name.encode("utf-8"))


def _draw(spec: Inp, rng: np.random.Generator) -> np.ndarray:
    shape = spec.shape
    n = int(np.prod(shape, dtype=np.int64))
    if spec.kind == "randn":
        return rng.standard_normal(shape)
    if spec.kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if spec.kind == "nonzero":
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, shape)
    if spec.kind == "unique":
        # distinct values at least 0.25 apart (exact in float32 as well), shuffled
        vals = (rng.permutation(n) - n / 2.0) * 0.25 + 0.125
        return vals.reshape(shape)
    if spec.kind == "intval":
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    if spec.kind == "large":
        return 500.0 + 3.0 * rng.standard_normal(shape)
    if spec.kind == "clampable":
        x = rng.standard_normal(shape)
        for b in (-0.5, 0.0, 0.3, 0.5):
            near = np.abs(x - b) < 0.05
            x[near] = b + np.where(x[near] >= b, 0.06, -0.06)
        return x
    raise ValueError(f"unknown input kind {spec.kind!r}")


def make_inputs(case: Case) -> list[np.ndarray]:
    """The case's inputs as NumPy arrays (float64 / int64 / bool), reproducibly."""
    rng = np.random.default_rng(case_seed(case.name))
    out: list[np.ndarray] = []
    for spec in case.inputs:
        if spec.kind == "value":
            out.append(np.array(spec.value, dtype=np.float64))
        elif spec.kind == "index":
            out.append(np.array(spec.value, dtype=np.int64))
        elif spec.kind == "mask":
            out.append(np.array(spec.value, dtype=bool))
        else:
            out.append(np.asarray(_draw(spec, rng), dtype=np.float64))
    return out


def make_upstream(case: Case, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Fixed random upstream gradients (float64) for outputs of the given shapes."""
    rng = np.random.default_rng(case_seed(case.name) + 1)
    return [rng.standard_normal(tuple(s)) for s in shapes]


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

_ties = V([[1.0, 3.0, -2.0, 3.0], [-2.0, 0.5, 3.0, -2.0], [0.0, 1.0, 2.0, -1.5]])

CASES: list[Case] = [
    # --- add / sub / mul / div, broadcasting, scalars, 0-d, size-1 dims, empty ---------------
    Case("add", lambda m, x, y: x + y, (R(3, 4), R(3, 4))),
    Case("add_bcast_row", lambda m, x, y: x + y, (R(3, 4), R(4))),
    Case("add_bcast_3d", lambda m, x, y: x + y, (R(3, 1, 4), R(2, 4))),
    Case("add_bcast_both", lambda m, x, y: x + y, (R(3, 1), R(1, 4))),
    Case("add_scalar", lambda m, x: x + 2.5, (R(2, 3),)),
    Case("radd_int_scalar", lambda m, x: 3 + x, (R(2, 3),)),
    Case("add_0d_0d", lambda m, x, y: x + y, (R(), R())),
    Case("add_0d_matrix", lambda m, x, y: x + y, (R(), R(2, 3))),
    Case("add_empty_bcast", lambda m, x, y: x + y, (R(0, 3), R(3))),
    Case("add_size1_dims", lambda m, x, y: x + y, (R(1, 3, 1), R(2, 1, 1))),
    Case("sub", lambda m, x, y: x - y, (R(3, 4), R(3, 4))),
    Case("sub_bcast_3d", lambda m, x, y: x - y, (R(3, 1, 4), R(2, 4))),
    Case("sub_scalar", lambda m, x: x - 1.5, (R(2, 3),)),
    Case("rsub_scalar", lambda m, x: 1.5 - x, (R(2, 3),)),
    Case("mul", lambda m, x, y: x * y, (R(3, 4), R(3, 4))),
    Case("mul_bcast_3d", lambda m, x, y: x * y, (R(3, 1, 4), R(2, 4))),
    Case("mul_scalar", lambda m, x: x * 2.5, (R(2, 3),)),
    Case("rmul_scalar", lambda m, x: -0.5 * x, (R(2, 3),)),
    Case("mul_0d_matrix", lambda m, x, y: x * y, (R(), R(2, 3))),
    Case("mul_self", lambda m, x: x * x, (R(2, 3),)),
    Case("div", lambda m, x, y: x / y, (R(3, 4), NZ(3, 4))),
    Case("div_bcast_3d", lambda m, x, y: x / y, (R(3, 1, 4), NZ(2, 4))),
    Case("div_scalar", lambda m, x: x / 4.0, (R(2, 3),)),
    Case("rdiv_scalar", lambda m, x: 2.0 / x, (NZ(2, 3),)),
    Case("div_0d_denominator", lambda m, x, y: x / y, (R(2, 3), NZ())),
    Case("neg", lambda m, x: -x, (R(2, 3),)),
    Case("neg_0d", lambda m, x: -x, (R(),)),
    # --- pow --------------------------------------------------------------------------------
    Case("pow_int_scalar", lambda m, x: x**2, (R(2, 3),)),
    Case("pow_int3_scalar", lambda m, x: x**3, (R(2, 3),)),
    Case("pow_neg_int_scalar", lambda m, x: x**-1, (NZ(2, 3),)),
    Case("pow_half", lambda m, x: x**0.5, (P(2, 3),)),
    Case("pow_float_scalar", lambda m, x: x**1.7, (P(2, 3),)),
    Case("rpow_scalar", lambda m, x: 2.0**x, (R(2, 3),)),
    Case("rpow_scalar_e", lambda m, x: 0.7**x, (R(3),)),
    Case("pow_tensor", lambda m, x, y: x**y, (P(3, 4), R(3, 4))),
    Case("pow_tensor_bcast", lambda m, x, y: x**y, (P(3, 1, 4), R(2, 4))),
    Case("pow_tensor_0d_exponent", lambda m, x, y: x**y, (P(2, 3), R())),
    # --- matmul -----------------------------------------------------------------------------
    Case("matmul_1d_1d", lambda m, x, y: x @ y, (R(4), R(4))),
    Case("matmul_1d_2d", lambda m, x, y: x @ y, (R(4), R(4, 3))),
    Case("matmul_2d_1d", lambda m, x, y: x @ y, (R(3, 4), R(4))),
    Case("matmul_2d_2d", lambda m, x, y: x @ y, (R(3, 4), R(4, 5))),
    Case("matmul_batched", lambda m, x, y: x @ y, (R(2, 3, 4), R(2, 4, 5))),
    Case("matmul_batched_bcast", lambda m, x, y: x @ y, (R(2, 1, 3, 4), R(5, 4, 2))),
    Case("matmul_batched_2d", lambda m, x, y: x @ y, (R(2, 3, 4), R(4, 5))),
    Case("matmul_2d_batched", lambda m, x, y: x @ y, (R(3, 4), R(2, 4, 5))),
    Case("matmul_batched_1d", lambda m, x, y: x @ y, (R(2, 3, 4), R(4))),
    Case("matmul_1d_batched", lambda m, x, y: x @ y, (R(4), R(2, 4, 3))),
    Case("matmul_empty_inner", lambda m, x, y: x @ y, (R(2, 0), R(0, 3))),
    # --- elementwise ------------------------------------------------------------------------
    Case("exp", lambda m, x: x.exp(), (R(2, 3),)),
    Case("exp_0d", lambda m, x: x.exp(), (R(),)),
    Case("exp_empty", lambda m, x: x.exp(), (R(0, 3),)),
    Case("log", lambda m, x: x.log(), (P(2, 3),)),
    Case("sqrt", lambda m, x: x.sqrt(), (P(2, 3),)),
    Case("abs", lambda m, x: x.abs(), (NZ(2, 3),)),
    Case("tanh", lambda m, x: x.tanh(), (R(2, 3),)),
    Case("sigmoid", lambda m, x: x.sigmoid(), (R(2, 3),)),
    Case("sigmoid_large", lambda m, x: (x * 10.0).sigmoid(), (R(3, 4),)),
    Case("relu", lambda m, x: x.relu(), (R(3, 4),)),
    Case("clamp_min_max", lambda m, x: x.clamp(-0.5, 0.5), (Inp((4, 5), "clampable"),)),
    Case("clamp_min_only", lambda m, x: x.clamp(min=0.0), (Inp((4, 5), "clampable"),)),
    Case("clamp_max_only", lambda m, x: x.clamp(max=0.3), (Inp((4, 5), "clampable"),)),
    Case("clamp_kw_both", lambda m, x: x.clamp(min=-0.5, max=0.3), (Inp((4, 5), "clampable"),)),
    # --- sum / mean / var -------------------------------------------------------------------
    Case("sum_all", lambda m, x: x.sum(), (R(3, 4),)),
    Case("sum_dim0", lambda m, x: x.sum(0), (R(3, 4),)),
    Case("sum_dim_kw", lambda m, x: x.sum(dim=1), (R(3, 4),)),
    Case("sum_dim_neg", lambda m, x: x.sum(-1), (R(2, 3, 4),)),
    Case("sum_dim_tuple", lambda m, x: x.sum((0, 2)), (R(2, 3, 4),)),
    Case("sum_dim_tuple_neg", lambda m, x: x.sum(dim=(0, -1)), (R(2, 3, 4),)),
    Case("sum_keepdim", lambda m, x: x.sum(1, keepdim=True), (R(2, 3, 4),)),
    Case("sum_tuple_keepdim", lambda m, x: x.sum(dim=(-1, 0), keepdim=True), (R(2, 3, 4),)),
    Case("sum_numpy_alias", lambda m, x: x.sum(axis=1, keepdims=True), (R(2, 3, 4),)),
    Case("sum_0d", lambda m, x: x.sum(), (R(),)),
    Case("sum_empty_all", lambda m, x: x.sum(), (R(0, 3),)),
    Case("sum_empty_dim", lambda m, x: x.sum(0), (R(0, 3),)),
    Case("mean_all", lambda m, x: x.mean(), (R(3, 4),)),
    Case("mean_dim", lambda m, x: x.mean(1), (R(3, 4),)),
    Case("mean_dim_neg", lambda m, x: x.mean(dim=-2), (R(2, 3, 4),)),
    Case("mean_dim_tuple", lambda m, x: x.mean((0, 2)), (R(2, 3, 4),)),
    Case("mean_keepdim", lambda m, x: x.mean(dim=(1, 2), keepdim=True), (R(2, 3, 4),)),
    Case("mean_numpy_alias", lambda m, x: x.mean(axis=0, keepdims=True), (R(3, 4),)),
    Case("mean_0d", lambda m, x: x.mean(), (R(),)),
    Case("var_all", lambda m, x: x.var(), (R(3, 4),)),
    Case("var_dim", lambda m, x: x.var(1), (R(3, 4),)),
    Case("var_dim_neg_keepdim", lambda m, x: x.var(dim=-1, keepdim=True), (R(2, 3, 4),)),
    Case("var_dim_tuple", lambda m, x: x.var(dim=(0, 2)), (R(2, 3, 4),)),
    # --- max / min / argmax / argmin --------------------------------------------------------
    Case("max_all", lambda m, x: x.max(), (U(3, 4),)),
    Case("min_all", lambda m, x: x.min(), (U(3, 4),)),
    Case("max_all_ties", lambda m, x: x.max(), (_ties,)),
    Case("min_all_ties", lambda m, x: x.min(), (_ties,)),
    Case("max_0d", lambda m, x: x.max(), (R(),)),
    Case("max_dim", lambda m, x: x.max(1), (U(3, 4),)),
    Case("max_dim_kw_keepdim", lambda m, x: x.max(dim=0, keepdim=True), (U(3, 4),)),
    Case("max_dim_neg", lambda m, x: x.max(-1), (U(2, 3, 4),)),
    Case("min_dim", lambda m, x: x.min(0), (U(3, 4),)),
    Case("min_dim_keepdim", lambda m, x: x.min(dim=-2, keepdim=True), (U(2, 3, 4),)),
    Case("max_dim_values_only", lambda m, x: x.max(dim=1)[0] * 2.0, (U(3, 4),)),
    Case("argmax_all", lambda m, x: x.argmax(), (U(3, 4),)),
    Case("argmax_dim", lambda m, x: x.argmax(dim=1), (U(3, 4),)),
    Case("argmax_dim_keepdim", lambda m, x: x.argmax(dim=0, keepdim=True), (U(3, 4),)),
    Case("argmin_all", lambda m, x: x.argmin(), (U(3, 4),)),
    Case("argmin_dim_neg", lambda m, x: x.argmin(dim=-1), (U(2, 3, 4),)),
    # --- shape ops --------------------------------------------------------------------------
    Case("reshape", lambda m, x: x.reshape(4, 3), (R(3, 4),)),
    Case("reshape_neg1", lambda m, x: x.reshape(-1), (R(3, 4),)),
    Case("reshape_tuple", lambda m, x: x.reshape((2, -1, 2)), (R(3, 4),)),
    Case("reshape_0d_to_2d", lambda m, x: x.reshape(1, 1), (R(),)),
    Case("reshape_to_0d", lambda m, x: x.reshape(()), (R(1, 1),)),
    Case("reshape_empty", lambda m, x: x.reshape(3, 0), (R(0, 3),)),
    Case("view", lambda m, x: x.view(2, 6), (R(3, 4),)),
    Case("transpose", lambda m, x: x.transpose(0, 1), (R(3, 4),)),
    Case("transpose_neg_dims", lambda m, x: x.transpose(-1, -3), (R(2, 3, 4),)),
    Case("T_attr", lambda m, x: x.T, (R(3, 4),)),
    Case("permute", lambda m, x: x.permute(2, 0, 1), (R(2, 3, 4),)),
    Case("permute_neg", lambda m, x: x.permute(-1, 1, 0), (R(2, 3, 4),)),
    Case("unsqueeze0", lambda m, x: x.unsqueeze(0), (R(3, 4),)),
    Case("unsqueeze_neg", lambda m, x: x.unsqueeze(-1), (R(3, 4),)),
    Case("unsqueeze_mid", lambda m, x: x.unsqueeze(1), (R(3, 4),)),
    Case("unsqueeze_0d", lambda m, x: x.unsqueeze(0), (R(),)),
    Case("squeeze_all", lambda m, x: x.squeeze(), (R(1, 3, 1, 4),)),
    Case("squeeze_dim", lambda m, x: x.squeeze(2), (R(1, 3, 1, 4),)),
    Case("squeeze_dim_neg", lambda m, x: x.squeeze(-4), (R(1, 3, 1, 4),)),
    Case("squeeze_noop", lambda m, x: x.squeeze(1), (R(1, 3, 1, 4),)),
    Case("flatten", lambda m, x: x.flatten(), (R(2, 3, 4),)),
    Case("flatten_start", lambda m, x: x.flatten(1), (R(2, 3, 4),)),
    Case("flatten_start_end", lambda m, x: x.flatten(0, 1), (R(2, 3, 4),)),
    Case("flatten_kw", lambda m, x: x.flatten(start_dim=1, end_dim=-2), (R(2, 3, 4, 2),)),
    Case("flatten_0d", lambda m, x: x.flatten(), (R(),)),
    Case("expand", lambda m, x: x.expand(3, 4), (R(3, 1),)),
    Case("expand_neg1", lambda m, x: x.expand(-1, 4), (R(3, 1),)),
    Case("expand_new_dims", lambda m, x: x.expand(2, 3, 4), (R(3, 1),)),
    Case("expand_0d", lambda m, x: x.expand(2, 3), (R(),)),
    Case("chunk", lambda m, x: x.chunk(3, 1), (R(2, 5),)),
    Case("chunk_dim0", lambda m, x: x.chunk(2), (R(4, 3),)),
    Case("chunk_neg_dim", lambda m, x: x.chunk(2, -1), (R(2, 3, 4),)),
    Case("split", lambda m, x: x.split(2, 1), (R(2, 5),)),
    Case("split_dim0", lambda m, x: x.split(1), (R(3, 2),)),
    Case("split_neg_dim", lambda m, x: x.split(3, -1), (R(2, 3, 4),)),
    # --- indexing ---------------------------------------------------------------------------
    Case("index_int", lambda m, x: x[1], (R(3, 4),)),
    Case("index_neg_int", lambda m, x: x[-1], (R(3, 4),)),
    Case("index_int_int", lambda m, x: x[1, -2], (R(3, 4),)),
    Case("index_slice", lambda m, x: x[1:3], (R(4, 3),)),
    Case("index_slice_step", lambda m, x: x[::2, 1:], (R(5, 3),)),
    Case("index_slice_neg", lambda m, x: x[-3:-1, :-1], (R(4, 3),)),
    Case("index_col", lambda m, x: x[:, 1], (R(3, 4),)),
    Case("index_none", lambda m, x: x[None], (R(3, 4),)),
    Case("index_none_mid", lambda m, x: x[:, None, 1:3], (R(3, 4),)),
    Case("index_ellipsis", lambda m, x: x[..., 1], (R(2, 3, 4),)),
    Case("index_ellipsis_none", lambda m, x: x[1, ..., None], (R(2, 3, 4),)),
    Case("index_mixed", lambda m, x: x[1:, None, ..., 0], (R(3, 2, 4),)),
    Case("index_0d_ellipsis", lambda m, x: x[...], (R(),)),
    Case("index_0d_none", lambda m, x: x[None], (R(),)),
    Case("index_array_repeated", lambda m, x, i: x[i], (R(4, 3), IDX([0, 2, 0, 3, 0]))),
    Case("index_array_negative", lambda m, x, i: x[i], (R(4, 3), IDX([-1, 1, -1]))),
    Case("index_array_2d", lambda m, x, i: x[i], (R(4, 3), IDX([[0, 1], [1, 3], [0, 0]]))),
    Case("index_array_0d", lambda m, x, i: x[i], (R(4, 3), IDX(2))),
    Case("index_array_empty", lambda m, x, i: x[i], (R(4, 3), IDX(np.zeros(0, np.int64)))),
    Case("index_list_repeated", lambda m, x: x[[1, 1, 0]], (R(3, 4),)),
    Case("index_slice_array", lambda m, x, i: x[:, i], (R(3, 4), IDX([3, 0, 3, 3]))),
    Case("index_two_arrays", lambda m, x, i, j: x[i, j], (R(3, 4), IDX([0, 2, 0]), IDX([1, 1, 1]))),
    Case(
        "index_two_arrays_bcast",
        lambda m, x, i, j: x[i, j],
        (R(3, 4), IDX([[0], [2]]), IDX([1, 3, 1])),
    ),
    Case(
        "index_arrays_split_by_slice",
        lambda m, x, i, j: x[i, :, j],
        (R(3, 2, 4), IDX([0, 2, 2]), IDX([1, 3, 1])),
    ),
    Case("index_int_and_array", lambda m, x, i: x[1, i], (R(3, 4), IDX([2, 2, 0]))),
    Case(
        "index_mask_full",
        lambda m, x, b: x[b],
        (R(3, 4), MASK([[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 0, 0]])),
    ),
    Case("index_mask_rows", lambda m, x, b: x[b], (R(4, 3), MASK([True, False, True, True]))),
    Case("index_mask_cols", lambda m, x, b: x[:, b], (R(3, 4), MASK([False, True, True, False]))),
    Case("index_mask_none_true", lambda m, x, b: x[b], (R(2, 3), MASK(np.zeros((2, 3), bool)))),
    Case("index_mask_from_compare", lambda m, x: x[x > 0.0], (R(3, 4),)),
    # --- cat / stack / where ----------------------------------------------------------------
    Case("cat_dim0", lambda m, x, y: m.cat([x, y]), (R(2, 3), R(4, 3)), group="top"),
    Case(
        "cat_dim1", lambda m, x, y, z: m.cat([x, y, z], 1), (R(2, 3), R(2, 1), R(2, 2)), group="top"
    ),
    Case(
        "cat_dim_neg_kw",
        lambda m, x, y: m.cat((x, y), dim=-1),
        (R(2, 2, 3), R(2, 2, 1)),
        group="top",
    ),
    Case("cat_with_empty", lambda m, x, y: m.cat([x, y], 0), (R(0, 3), R(2, 3)), group="top"),
    Case("cat_single", lambda m, x: m.cat([x], 0), (R(2, 3),), group="top"),
    Case("stack_dim0", lambda m, x, y: m.stack([x, y]), (R(2, 3), R(2, 3)), group="top"),
    Case(
        "stack_dim1",
        lambda m, x, y, z: m.stack([x, y, z], 1),
        (R(2, 3), R(2, 3), R(2, 3)),
        group="top",
    ),
    Case(
        "stack_dim_neg_kw",
        lambda m, x, y: m.stack((x, y), dim=-1),
        (R(2, 3), R(2, 3)),
        group="top",
    ),
    Case("stack_0d", lambda m, x, y: m.stack([x, y]), (R(), R()), group="top"),
    Case(
        "where",
        lambda m, c, x, y: m.where(c, x, y),
        (MASK([[1, 0, 1], [0, 0, 1]]), R(2, 3), R(2, 3)),
        group="top",
    ),
    Case(
        "where_bcast",
        lambda m, c, x, y: m.where(c, x, y),
        (MASK([[True], [False], [True]]), R(1, 4), R(3, 4)),
        group="top",
    ),
    Case(
        "where_bcast_3d",
        lambda m, c, x, y: m.where(c, x, y),
        (MASK([True, False, False, True]), R(3, 1, 4), R(2, 4)),
        group="top",
    ),
    Case("where_from_compare", lambda m, x: m.where(x > 0.0, x, x * 0.1), (R(3, 4),), group="top"),
    Case("where_scalar_other", lambda m, x: m.where(x < 0.5, x, 0.0), (R(3, 4),), group="top"),
    # --- comparisons (forward only) ---------------------------------------------------------
    Case("eq", lambda m, x, y: x == y, (Q(3, 4), Q(3, 4))),
    Case("ne", lambda m, x, y: x != y, (Q(3, 4), Q(3, 4))),
    Case("lt", lambda m, x, y: x < y, (Q(3, 4), Q(3, 4))),
    Case("le", lambda m, x, y: x <= y, (Q(3, 4), Q(3, 4))),
    Case("gt_bcast", lambda m, x, y: x > y, (Q(3, 1, 4), Q(2, 4))),
    Case("ge_bcast", lambda m, x, y: x >= y, (Q(3, 4), Q(4))),
    Case("gt_scalar", lambda m, x: x > 0.0, (Q(3, 4),)),
    Case("le_scalar_reflected", lambda m, x: 1.0 >= x, (Q(3, 4),)),
    Case("eq_scalar", lambda m, x: x == 1.0, (Q(3, 4),)),
    Case("lt_0d", lambda m, x, y: x < y, (Q(3, 4), Q())),
    Case("compare_requires_grad_input", lambda m, x: x >= 0.0, (R(3, 4),)),
    # --- nn.functional ----------------------------------------------------------------------
    Case(
        "F_softmax_dim1",
        lambda m, x: m.nn.functional.softmax(x, dim=1),
        (R(3, 5),),
        "nn.functional",
    ),
    Case(
        "F_softmax_dim0",
        lambda m, x: m.nn.functional.softmax(x, 0),
        (R(3, 5),),
        "nn.functional",
    ),
    Case(
        "F_softmax_3d_neg",
        lambda m, x: m.nn.functional.softmax(x, dim=-1),
        (R(2, 3, 4),),
        "nn.functional",
    ),
    Case(
        "F_softmax_large",
        lambda m, x: m.nn.functional.softmax(x, dim=-1),
        (Inp((3, 5), "large"),),
        "nn.functional",
    ),
    Case(
        "F_log_softmax_dim1",
        lambda m, x: m.nn.functional.log_softmax(x, dim=1),
        (R(3, 5),),
        "nn.functional",
    ),
    Case(
        "F_log_softmax_3d_mid",
        lambda m, x: m.nn.functional.log_softmax(x, dim=1),
        (R(2, 3, 4),),
        "nn.functional",
    ),
    Case(
        "F_log_softmax_large",
        lambda m, x: m.nn.functional.log_softmax(x, dim=-1),
        (Inp((3, 5), "large"),),
        "nn.functional",
    ),
    # --- composite graphs (shared subexpressions, diamonds, chains) -------------------------
    Case(
        "composite_diamond",
        lambda m, x: x * x.exp() + x.tanh() * x,
        (R(3, 4),),
        group="composite",
    ),
    Case(
        "composite_mlp",
        lambda m, x, w, b: ((x @ w + b).relu() ** 2).mean(0),
        (R(4, 3), R(3, 5), R(5)),
        group="composite",
    ),
    Case(
        "composite_reuse_bcast",
        lambda m, x, y: (x + y) * (x - y).sigmoid() / (y * y + 1.0),
        (R(3, 1, 4), R(2, 4)),
        group="composite",
    ),
    Case(
        "composite_shape_chain",
        lambda m, x: x.transpose(0, 1).reshape(4, 3)[1:].sum(1, keepdim=True) * x[0, :3],
        (R(3, 4),),
        group="composite",
    ),
    Case(
        "composite_normalize",
        lambda m, x: (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True) + 1e-5).sqrt(),
        (R(3, 6),),
        group="composite",
    ),
]


def cases_by_name() -> dict[str, Case]:
    """The table keyed by case name (raises on duplicate names)."""
    out: dict[str, Case] = {}
    for case in CASES:
        if case.name in out:
            raise ValueError(f"duplicate case name {case.name!r}")
        out[case.name] = case
    return out
