"""Bad input, refused by name: every public entry point given arguments that make no sense.

Each case is one call that must raise a given exception type with a message that names the
argument (or the file) at fault. None of them may pass silently, crash with a raw NumPy or
library error, or hang. Cases that return a number check it against PyTorch's definition.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import replay_edge_case

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.data import DataLoader
from minigrad.interop import load_safetensors, save_safetensors
from minigrad.optim import lr_scheduler
from minigrad.testing import assert_close

NAN, INF = float("nan"), float("inf")


def _param() -> nn.Parameter:
    return nn.Parameter(mg.ones(2))


def _sgd(**kw: Any) -> optim.Optimizer:
    return optim.SGD([_param()], **{"lr": 0.1, **kw})


# --------------------------------------------------------------------------- the table

Case = tuple[str, Callable[[], Any], type[BaseException], str]
CASES: list[Case] = []


def add(name: str, fn: Callable[[], Any], exc: type[BaseException], match: str) -> None:
    CASES.append((name, fn, exc, match))


# optimizers: learning rates (NaN passes `lr < 0` checks), and every range option
OPTIMIZERS = {"SGD": optim.SGD, "Adam": optim.Adam, "AdamW": optim.AdamW,
              "RMSprop": optim.RMSprop, "Adagrad": optim.Adagrad}
for opt_name, cls in OPTIMIZERS.items():
    for bad in (-0.1, NAN, INF, -INF):
        add(f"{opt_name}-lr={bad}", lambda cls=cls, bad=bad: cls([_param()], lr=bad),
            ValueError, r"learning rate: .*lr")
    for bad in ("0.1", None, True):
        add(f"{opt_name}-lr={bad!r}", lambda cls=cls, bad=bad: cls([_param()], lr=bad),
            TypeError, "learning rate")
    for bad in (-1.0, NAN, INF):
        add(f"{opt_name}-weight_decay={bad}",
            lambda cls=cls, bad=bad: cls([_param()], lr=0.1, weight_decay=bad),
            ValueError, "weight_decay")
    if opt_name != "SGD":
        for bad in (-1e-8, NAN):
            add(f"{opt_name}-eps={bad}", lambda cls=cls, bad=bad: cls([_param()], eps=bad),
                ValueError, "epsilon")
    add(f"{opt_name}-params-tensor", lambda cls=cls: cls(_param(), lr=0.1), TypeError,
        "wrap it in a list")
    add(f"{opt_name}-params-empty", lambda cls=cls: cls([], lr=0.1), ValueError,
        "empty parameter list")
    add(f"{opt_name}-params-set", lambda cls=cls: cls({_param()}, lr=0.1), TypeError,
        "use a list")
for bad in (-0.1, 1.5, NAN, INF):
    add(f"SGD-momentum={bad}", lambda bad=bad: _sgd(momentum=bad), ValueError, "momentum")
    add(f"RMSprop-momentum={bad}", lambda bad=bad: optim.RMSprop([_param()], momentum=bad),
        ValueError, "momentum")
    add(f"RMSprop-alpha={bad}", lambda bad=bad: optim.RMSprop([_param()], alpha=bad),
        ValueError, "alpha")
for bad in (-0.5, 2.0, NAN):
    add(f"SGD-dampening={bad}", lambda bad=bad: _sgd(momentum=0.9, dampening=bad), ValueError,
        "dampening")
for bad in ((1.0, 0.999), (0.9, -0.1), (NAN, 0.9), (0.9,)):
    add(f"Adam-betas={bad}", lambda bad=bad: optim.Adam([_param()], betas=bad), ValueError,
        "beta")
add("Adagrad-lr_decay=-1", lambda: optim.Adagrad([_param()], lr_decay=-1.0), ValueError,
    "lr_decay")
add("SGD-nesterov-no-momentum", lambda: _sgd(nesterov=True), ValueError, "Nesterov")
add("SGD-unknown-option", lambda: optim.SGD([{"params": [_param()], "betas": (0.9, 0.9)}],
                                            lr=0.1), ValueError, "betas")


def _load_other_class(src: type, dst: type) -> None:
    p = _param()
    a = src([p], lr=0.1)
    p.grad = mg.ones(2)
    a.step()
    dst([p], lr=0.1).load_state_dict(a.state_dict())


for src, dst in (("SGD", "Adam"), ("Adam", "SGD"), ("RMSprop", "Adagrad"), ("Adagrad", "Adam"),
                 ("SGD", "RMSprop")):
    add(f"load_state_dict-{src}-into-{dst}",
        lambda s=OPTIMIZERS[src], d=OPTIMIZERS[dst]: _load_other_class(s, d), ValueError,
        "another kind of optimizer")


def _load_bad_lr() -> None:
    opt = _sgd()
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = NAN
    _sgd().load_state_dict(state)


add("load_state_dict-nan-lr", _load_bad_lr, ValueError, "learning rate")
add("load_state_dict-not-a-dict", lambda: _sgd().load_state_dict([1, 2]), ValueError,
    "'state' and 'param_groups'")

# schedulers
for bad in (-0.1, NAN, INF):
    add(f"StepLR-gamma={bad}", lambda bad=bad: lr_scheduler.StepLR(_sgd(), 1, gamma=bad),
        ValueError, "gamma")
    add(f"ExponentialLR-gamma={bad}", lambda bad=bad: lr_scheduler.ExponentialLR(_sgd(), bad),
        ValueError, "gamma")
    add(f"Cosine-eta_min={bad}",
        lambda bad=bad: lr_scheduler.CosineAnnealingLR(_sgd(), 10, eta_min=bad), ValueError,
        "eta_min")
for bad in (0, -3, True, 1.5):
    add(f"StepLR-step_size={bad}", lambda bad=bad: lr_scheduler.StepLR(_sgd(), bad),
        ValueError, "step_size")
for bad in (0, -1, NAN):
    add(f"Cosine-T_max={bad}", lambda bad=bad: lr_scheduler.CosineAnnealingLR(_sgd(), bad),
        ValueError, "T_max")
add("StepLR-gamma-str", lambda: lr_scheduler.StepLR(_sgd(), 1, gamma="0.1"), TypeError,
    "gamma")
add("scheduler-not-optimizer", lambda: lr_scheduler.StepLR(object(), 1), TypeError,
    "not an Optimizer")


# gradient clipping: a non-positive max_norm would flip or zero the gradients
def _clip(max_norm: Any = 1.0, norm_type: Any = 2.0) -> None:
    p = _param()
    p.grad = mg.ones(2)
    nn.utils.clip_grad_norm_([p], max_norm, norm_type=norm_type)


for bad in (-1.0, 0.0, NAN, -INF):
    add(f"clip_grad_norm_-max_norm={bad}", lambda bad=bad: _clip(bad), ValueError, "max_norm")
add("clip_grad_norm_-max_norm-str", lambda: _clip("one"), TypeError, "max_norm")
add("clip_grad_norm_-max_norm-list", lambda: _clip([1.0]), TypeError, "max_norm")
for bad in (0.0, -2.0, NAN):
    add(f"clip_grad_norm_-norm_type={bad}", lambda bad=bad: _clip(1.0, bad), ValueError,
        "norm_type")
for bad in (-1.0, NAN):
    add(f"clip_grad_value_-{bad}", lambda bad=bad: nn.utils.clip_grad_value_([_param()], bad),
        ValueError, "clip_value")

# creation and devices
for low, high in ((3, 3), (5, 2), (0, 0), (0, -1)):
    add(f"randint({low},{high})", lambda low=low, high=high: mg.randint(low, high, (2,)),
        ValueError, "low must be less than high")
for bad in ("gpu", "cuda:x", "cpu:1", "cuda:-1", "tpu"):
    add(f"device={bad}", lambda bad=bad: mg.zeros(2, device=bad), ValueError, re.escape(bad))
add("device=3", lambda: mg.zeros(2, device=3), TypeError, "device")
for bad in ("cuda:7", "cuda:1"):
    add(f"device-index={bad}", lambda bad=bad: mg.zeros(2, device=bad), RuntimeError,
        f"{bad}' does not exist")
    add(f"to-device-index={bad}", lambda bad=bad: mg.zeros(2).to(bad), RuntimeError,
        f"{bad}' does not exist")

# losses
X = lambda: mg.randn(4, 3, requires_grad=True)  # noqa: E731
add("cross_entropy-float-target", lambda: F.cross_entropy(X(), mg.rand(4, 3)), TypeError,
    "class probabilities are not supported")
add("cross_entropy-target-shape", lambda: F.cross_entropy(X(), mg.tensor([0, 1])), TypeError,
    r"target must be int64 class indices of shape \(4,\)")
add("cross_entropy-class-out-of-range", lambda: F.cross_entropy(X(), mg.tensor([0, 1, 2, 3])),
    IndexError, "target 3 is out of bounds for 3 classes")
add("cross_entropy-negative-class", lambda: F.cross_entropy(X(), mg.tensor([0, 1, 2, -1])),
    IndexError, "target -1 is out of bounds")
add("cross_entropy-reduction", lambda: F.cross_entropy(X(), mg.tensor([0, 1, 2, 0]),
                                                        reduction="avg"), ValueError,
    "reduction must be one of")
for bad in (-0.1, 1.5):
    add(f"cross_entropy-label_smoothing={bad}",
        lambda bad=bad: F.cross_entropy(X(), mg.tensor([0, 1, 2, 0]), label_smoothing=bad),
        ValueError, "label_smoothing")
add("cross_entropy-weight-shape", lambda: F.cross_entropy(X(), mg.tensor([0, 1, 2, 0]),
                                                           weight=mg.ones(4)),
    ValueError, r"weight must have shape \(3,\)")
add("cross_entropy-0d-input", lambda: F.cross_entropy(mg.tensor(1.0), mg.tensor(0)),
    ValueError, "class dimension")
add("nll_loss-target-shape", lambda: F.nll_loss(X(), mg.tensor([[0, 1]])), TypeError,
    "target must be int64")
add("mse_loss-shape", lambda: F.mse_loss(mg.randn(3, 1), mg.randn(3)), ValueError,
    r"target shape \(3,\) must match input shape \(3, 1\)")
add("bce-int-target", lambda: F.binary_cross_entropy_with_logits(mg.randn(3),
                                                                   mg.tensor([0, 1, 1])),
    TypeError, "target must be floating point")
add("CrossEntropyLoss-reduction", lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError,
    "reduction")

# layers and functional
add("Linear-wrong-features", lambda: nn.Linear(3, 2)(mg.randn(4, 5)), RuntimeError,
    r"input of shape \(4, 5\) does not fit weight of shape \(2, 3\)")
add("Embedding-index-out-of-range", lambda: nn.Embedding(5, 2)(mg.tensor([1, 5])), IndexError,
    "5")
add("Embedding-float-index", lambda: nn.Embedding(5, 2)(mg.tensor([1.0])), TypeError,
    "int|index")
for bad in (2.5, True, "3"):
    add(f"randn-size={bad!r}", lambda bad=bad: mg.randn(bad), TypeError, "shape")
    add(f"zeros-shape=(2, {bad!r})", lambda bad=bad: mg.zeros((2, bad)), TypeError, "shape")
add("arange-step=0", lambda: mg.arange(0, 5, 0), ValueError, "step")
add("arange-step-away-from-end", lambda: mg.arange(0, 5, -1), ValueError, "step")
for bad in (-0.1, 1.5, "0.5", True):
    add(f"Dropout-p={bad!r}", lambda bad=bad: nn.Dropout(bad), ValueError, "p")
for bad in (-1, 2.5, True):
    add(f"Linear-in_features={bad!r}", lambda bad=bad: nn.Linear(bad, 3), ValueError,
        "in_features")
    add(f"Linear-out_features={bad!r}", lambda bad=bad: nn.Linear(3, bad), ValueError,
        "out_features")
    add(f"Embedding-num_embeddings={bad!r}", lambda bad=bad: nn.Embedding(bad, 3), ValueError,
        "num_embeddings")
    add(f"Embedding-embedding_dim={bad!r}", lambda bad=bad: nn.Embedding(3, bad), ValueError,
        "embedding_dim")
for bad in (-0.1, 1.5):
    add(f"F.dropout-p={bad}", lambda bad=bad: F.dropout(mg.ones(3), bad), ValueError, "p")
add("layer_norm-shape", lambda: F.layer_norm(mg.randn(2, 3), (4,)), RuntimeError,
    r"normalized_shape|\(4,\)")
add("one_hot-out-of-range", lambda: F.one_hot(mg.tensor([0, 3]), 3), RuntimeError,
    r"class values must be in \[0, 3\)")
add("pad_sequence-empty", lambda: nn.utils.pad_sequence([]), ValueError, "non-empty")
add("pad_sequence-mixed", lambda: nn.utils.pad_sequence([mg.ones(2, 3), mg.ones(2, 4)]),
    ValueError, "sequence 1")
add("softmax-dim-out-of-range", lambda: F.softmax(mg.ones(2, 3), dim=2), IndexError, "2")

# tensors
add("matmul-shapes", lambda: mg.ones(2, 3) @ mg.ones(2, 3), RuntimeError,
    r"shapes \(2, 3\) and \(2, 3\) cannot be multiplied")
add("add-broadcast", lambda: mg.ones(2, 3) + mg.ones(4), RuntimeError,
    r"shape \(2, 3\).*shape \(4,\)")
add("reshape-size", lambda: mg.ones(2, 3).reshape(4, 2), (ValueError, RuntimeError),
    r"\(4, 2\)|4, 2|size 6")
add("cat-mismatch", lambda: mg.cat([mg.ones(2, 3), mg.ones(2, 4)]), (ValueError, RuntimeError),
    r"3|4")
add("backward-non-scalar", lambda: mg.ones(2, requires_grad=True).mul(2).backward(),
    RuntimeError, "scalar")
add("max-empty", lambda: mg.ones(0).max(), RuntimeError, "empty")

for bad in (1.5, -100.0, True):
    add(f"cross_entropy-ignore_index={bad}",
        lambda bad=bad: F.cross_entropy(X(), mg.tensor([0, 1, 2, 0]), ignore_index=bad),
        TypeError, "ignore_index must be an int")
add("nll_loss-ignore_index-float", lambda: F.nll_loss(X(), mg.tensor([0, 1, 2, 0]),
                                                      ignore_index=0.5), TypeError,
    "ignore_index")
for bad in (-5, 2.5):
    add(f"one_hot-num_classes={bad}", lambda bad=bad: F.one_hot(mg.tensor([0, 1]), bad),
        ValueError, "num_classes")
add("F.dropout-p-str", lambda: F.dropout(mg.ones(3), "0.5"), TypeError, "probability p")
for bad in (("a", "b"), (0.9, None)):
    add(f"Adam-betas={bad}", lambda bad=bad: optim.Adam([_param()], betas=bad), TypeError,
        r"betas\[\d\] must be a number")
for low, high in ((0.5, 3), (0, 3.2)):
    add(f"randint({low},{high})", lambda low=low, high=high: mg.randint(low, high, (2,)),
        TypeError, "low and high must be ints")
for arg, bad in (("rtol", -1.0), ("atol", NAN), ("rtol", INF), ("atol", "0.1")):
    add(f"assert_close-{arg}={bad!r}",
        lambda arg=arg, bad=bad: assert_close(mg.ones(1), [1.0], **{arg: bad}), ValueError,
        f"{arg} must be a finite number")


def _load_scheduler(state: Any) -> None:
    other = lr_scheduler.StepLR(_sgd(), 2)
    lr_scheduler.CosineAnnealingLR(_sgd(), 10).load_state_dict(
        other.state_dict() if state is None else state)


add("scheduler-load-other-class", lambda: _load_scheduler(None), ValueError,
    "another kind of scheduler")
add("scheduler-load-garbage", lambda: _load_scheduler({"foo": 1}), ValueError, "'foo'")
add("scheduler-load-not-dict", lambda: _load_scheduler([1]), TypeError, "expects a dict")

# data
for bad in (0, -1):
    add(f"DataLoader-batch_size={bad}", lambda bad=bad: DataLoader(list(range(4)),
                                                                    batch_size=bad),
        ValueError, "batch_size")
add("DataLoader-not-a-dataset", lambda: DataLoader(5), TypeError, "map-style")


# files (paths are checked in the messages by the test itself)
def _file_cases(tmp: Path) -> list[tuple[str, Callable[[], Any], type[BaseException], str]]:
    missing = tmp / "no_folder" / "x.npz"
    return [
        ("save-missing-folder", lambda: mg.save({"a": mg.ones(1)}, missing), FileNotFoundError,
         re.escape(str(missing))),
        ("save-into-a-folder", lambda: mg.save({"a": 1}, tmp), IsADirectoryError,
         re.escape(str(tmp))),
        ("save-unsupported", lambda: mg.save({"f": print}, tmp / "c.npz"), TypeError,
         "key path f"),
        ("save-bad-key", lambda: mg.save({(1, 2): 1}, tmp / "c.npz"), TypeError, "dict keys"),
        ("load-missing", lambda: mg.load(tmp / "nope.npz"), FileNotFoundError, "nope.npz"),
        ("load-folder", lambda: mg.load(tmp), IsADirectoryError, re.escape(str(tmp))),
        ("safetensors-save-missing-folder",
         lambda: save_safetensors({"a": mg.ones(1)}, missing), FileNotFoundError,
         re.escape(str(missing))),
        ("safetensors-save-non-str-key", lambda: save_safetensors({1: mg.ones(1)},
                                                                   tmp / "w.safetensors"),
         TypeError, "names must be strings"),
        ("safetensors-save-non-tensor", lambda: save_safetensors({"a": [1.0]},
                                                                  tmp / "w.safetensors"),
         TypeError, "'a'"),
        ("safetensors-save-object-dtype",
         lambda: save_safetensors({"w": np.array([object()])}, tmp / "w.safetensors"),
         TypeError, "'w'.*dtype object"),
        ("safetensors-save-str-dtype",
         lambda: save_safetensors({"w": np.array(["a"])}, tmp / "w.safetensors"),
         TypeError, "'w'.*dtype <U1"),
        ("safetensors-load-missing", lambda: load_safetensors(tmp / "nope.safetensors"),
         FileNotFoundError, "nope.safetensors"),
        ("record_reference-missing-folder",
         lambda: mg.testing.record_reference(lambda x: x * 2, [mg.ones(2)], missing),
         FileNotFoundError, re.escape(str(missing))),
        ("load_reference-missing", lambda: mg.testing.load_reference(tmp / "nope.npz"),
         FileNotFoundError, "nope.npz"),
        ("assert_close-type", lambda: assert_close(object(), 1.0), TypeError, "object"),
    ]


_FILE_IDS = [c[0] for c in _file_cases(Path("/tmp"))]


@pytest.mark.parametrize("name, fn, exc, match", CASES, ids=[c[0] for c in CASES])
def test_refused_by_name(name: str, fn: Callable[[], Any], exc: type[BaseException],
                         match: str, device_count_one: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            fn()
    assert re.search(match, str(info.value)), f"{name}: {info.value!r} does not match {match!r}"


@pytest.mark.parametrize("index", range(len(_FILE_IDS)), ids=_FILE_IDS)
def test_file_arguments_refused_by_name(index: int, tmp_path: Path) -> None:
    name, fn, exc, match = _file_cases(tmp_path)[index]
    with pytest.raises(exc) as info:
        fn()
    assert re.search(match, str(info.value)), f"{name}: {info.value!r} does not match {match!r}"
    assert ".tmp-" not in str(info.value)  # never a temporary file's name
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def device_count_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake CUDA device (or a real machine's GPUs): cuda:1 and cuda:7 must not exist."""
    if mg.cuda.device_count() > 1:
        pytest.skip("this machine has several GPUs")  # pragma: no cover


def test_the_table_is_large_enough() -> None:
    assert len(CASES) + len(_FILE_IDS) >= 150


# --------------------------------------------------------------------------- numbers


def test_all_ignored_cross_entropy_keeps_the_model_finite() -> None:
    """The issue's reproducer: a batch of padding only. PyTorch: loss NaN (0/0), grad 0."""
    lin = nn.Linear(3, 3)
    opt = optim.SGD(lin.parameters(), lr=0.1)
    before = [p.detach().clone() for p in lin.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from 0 / 0 either
        loss = F.cross_entropy(lin(mg.randn(2, 3)), mg.tensor([-100, -100]))
        loss.backward()
    assert math.isnan(loss.item())
    opt.step()
    for p, b in zip(lin.parameters(), before):
        assert_close(p.grad, mg.zeros_like(p))
        assert_close(p.detach(), b)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss", "smoothed"])
def test_all_ignored_matches_pytorch(fn: str, device: str) -> None:
    """Every target is ignore_index: the loss is NaN (0 / 0) and the gradient zero, as
    PyTorch computed them (tests/reference/fixtures/edge_float64.npz)."""
    replay_edge_case(f"all_ignored {fn}", device)


def test_clip_grad_norm_negative_does_not_flip() -> None:
    """The issue's reproducer: max_norm=-1 used to multiply the gradient by a negative."""
    p = nn.Parameter(mg.ones(2))
    p.grad = mg.ones(2)
    with pytest.raises(ValueError, match="max_norm"):
        nn.utils.clip_grad_norm_([p], -1.0)
    assert_close(p.grad, mg.ones(2))  # untouched


@pytest.mark.parametrize("expected, actual", [
    (np.inf, 1.0), (np.inf, -np.inf), (-np.inf, 3e38), (np.inf, np.nan), (1.0, np.inf),
    (np.nan, 1.0), (np.nan, np.nan)])
def test_assert_close_infinities_and_nan_are_exact(expected: float, actual: float) -> None:
    """The issue's reproducer: an expected inf used to accept any finite value."""
    with pytest.raises(AssertionError, match="not close"):
        assert_close(mg.tensor([actual]), np.array([expected], np.float32))


def test_assert_close_same_infinities_and_equal_nan_pass() -> None:
    vals = np.array([np.inf, -np.inf, np.nan, 1.0], np.float32)
    assert_close(mg.tensor(vals), vals, equal_nan=True)
    with pytest.raises(AssertionError, match="NaN"):
        assert_close(mg.tensor(vals), vals)


@pytest.mark.parametrize("ndim", [3, 4])
@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax])
def test_softmax_without_dim_warns(fn: Callable[..., Any], ndim: int) -> None:
    x = mg.randn(*([2] * ndim))
    with pytest.warns(UserWarning, match="Implicit dimension choice.*dim=X"):
        fn(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(x, dim=-1)  # an explicit dim is silent


@pytest.mark.parametrize("reduce", ["max", "min", "max_dim", "amax"])
def test_max_min_backward_with_nan_as_pytorch(reduce: str, device: str) -> None:
    """A NaN wins the max/min and takes the whole gradient; ties without NaN split it evenly,
    as PyTorch computed them (tests/reference/fixtures/edge_float64.npz)."""
    ref = replay_edge_case(f"nan {reduce}", device)
    assert not np.isnan(ref.grads["0"]).any()  # the gradient itself is never NaN
