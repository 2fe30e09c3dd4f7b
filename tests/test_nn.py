"""``mg.nn`` behaviours: Module registration and state, layers, init, utils, gradchecks.

Values against PyTorch are in ``test_nn_reference.py``; this file needs neither torch nor
fixtures.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.autograd import gradcheck
from minigrad.testing import assert_close


def _rand(*shape: int, device: str = "cpu", scale: float = 1.0) -> mg.Tensor:
    a = np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape) * scale
    return mg.tensor(a, dtype=mg.float64, device=device, requires_grad=True)


class MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2)
        self.register_buffer("steps", mg.zeros(1))

    def forward(self, x: mg.Tensor) -> mg.Tensor:
        return self.fc2(self.act(self.fc1(x)))


# --------------------------------------------------------------------------- registration

def test_registration_order_and_names() -> None:
    m = MLP()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                    "fc2.bias"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(m.state_dict()) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert m.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2
    assert len(list(m.children())) == 3 and len(list(m.modules())) == 4


def test_shared_parameters_are_deduplicated() -> None:
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert seq.num_parameters() == 6
    m = nn.Module()
    m.a = nn.Parameter(mg.zeros(2))
    m.b = m.a
    assert [n for n, _ in m.named_parameters()] == ["a"]


def test_plain_tensor_over_parameter_is_refused() -> None:
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'.*Parameter"):
        lin.weight = mg.zeros(2, 2)
    lin.bias = None  # allowed: removes it from parameters()
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.bias = nn.Parameter(mg.zeros(2))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]


def test_setattr_before_init_and_reassign_kinds() -> None:
    class Bad(nn.Module):
        def __init__(self) -> None:
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()
    m = nn.Module()
    m.x = nn.Linear(1, 1)
    m.x = nn.Parameter(mg.zeros(1))  # a parameter may replace a module of the same name
    assert list(m._modules) == [] and list(m._parameters) == ["x"]
    del m.x
    assert not hasattr(m, "x")
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = m.nope


def test_containers() -> None:
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    assert seq(mg.ones(5, 2)).shape == (5, 1)
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.Linear(1, 2))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    assert [n for n, _ in ml.named_parameters()][-1] == "3.bias"
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    md["c"] = nn.Linear(1, 1)
    assert list(md.keys()) == ["a", "b", "c"] and "a" in md and len(md) == 3
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "c.weight",
                                                      "c.bias"]
    with pytest.raises(IndexError):
        seq[5]


def test_repr() -> None:
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Sequential(nn.Dropout(0.1)))
    text = repr(seq)
    assert text.startswith("Sequential(\n  (0): Linear(in_features=2, out_features=3, "
                           "bias=True)\n  (1): Tanh()\n  (2): Sequential(\n    (0): "
                           "Dropout(p=0.1, inplace=False)\n  )\n)")
    assert text.endswith("\n# 9 parameters")
    assert repr(nn.ReLU()) == "ReLU()"
    seq[0].requires_grad_(False)
    assert repr(nn.Embedding(1000, 3)).endswith("# 3,000 parameters")
    assert "(0 trainable)" in repr(seq)


def test_train_eval_apply_requires_grad() -> None:
    m = MLP()
    assert m.training and m.fc1.training
    assert m.eval() is m and not m.fc1.training and not m.training
    m.train()
    assert m.fc2.training
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Tanh", "Linear", "MLP"]
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad() -> None:
    m = MLP()
    m(mg.ones(2, 3)).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# --------------------------------------------------------------------------- state_dict

def test_state_dict_round_trip(device: str) -> None:
    a, b = MLP().to(device), MLP().to(device)
    sd = a.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    weight = b.fc1.weight
    b.load_state_dict(sd)
    assert b.fc1.weight is weight  # in place: optimizers keep their references
    x = mg.randn(4, 3, device=device)
    assert_close(a(x), b(x), rtol=0, atol=0)
    # NumPy arrays (a PyTorch state_dict after .numpy()) load too, into float32 parameters
    b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in MLP().state_dict().items()})
    assert b.fc1.weight.dtype == mg.float32 and b.fc1.weight.device == mg.device(device)


def test_load_state_dict_names_every_bad_key() -> None:
    m = MLP()
    sd = dict(m.state_dict())
    del sd["fc1.bias"], sd["fc2.weight"]
    sd["fc3.weight"] = np.zeros(3)
    sd["extra"] = np.zeros(1)
    sd["fc1.weight"] = np.zeros((3, 4))
    with pytest.raises(RuntimeError) as e:
        m.load_state_dict(sd)
    msg = str(e.value)
    for key in ("fc1.bias", "fc2.weight", "fc3.weight", "extra"):
        assert f'"{key}"' in msg
    assert "size mismatch for fc1.weight" in msg and "(3, 4)" in msg and "(4, 3)" in msg
    before = m.fc2.bias.detach().numpy().copy()
    del sd["fc1.weight"]
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert result.unexpected_keys == ["fc3.weight", "extra"]
    assert_close(m.fc2.bias, before, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="size mismatch"):  # even when not strict
        m.load_state_dict({"fc2.bias": np.zeros(5)}, strict=False)


def test_to_device_keeps_identity_and_moves_grads(device: str) -> None:
    m = MLP()
    params = list(m.parameters())
    m(mg.ones(2, 3)).sum().backward()
    assert m.to(device) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    for p in m.parameters():
        assert p.device == mg.device(device) and p.grad.device == mg.device(device)
        assert p.requires_grad and p.is_leaf
    assert m.steps.device == mg.device(device)
    out = m(mg.ones(2, 3, device=device))
    assert out.device == mg.device(device)
    m.double()
    assert all(p.dtype == mg.float64 and p.grad.dtype == mg.float64 for p in m.parameters())


def test_float32_model_keeps_float32(device: str) -> None:
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.LayerNorm(4), nn.Linear(4, 5),
                          nn.Dropout(0.2)).to(device)
    h = model(mg.tensor([[1, 2, 0], [3, 3, 9]], device=device))
    assert h.dtype == mg.float32
    loss = (F.cross_entropy(h.reshape(-1, 5), mg.tensor([0, 1, 2, 3, 4, 0], device=device))
            + F.mse_loss(h, mg.zeros_like(h))
            + F.binary_cross_entropy_with_logits(h, mg.ones_like(h), pos_weight=mg.ones(
                5, device=device) * 2))
    assert loss.dtype == mg.float32
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad.dtype == mg.float32, name
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert total.dtype == mg.float32


# --------------------------------------------------------------------------- layers

def test_layer_defaults_and_init_bounds() -> None:
    lin = nn.Linear(16, 5)
    assert lin.weight.shape == (5, 16) and lin.bias.shape == (5,)
    assert lin.weight.dtype == mg.float32 and lin.weight.requires_grad
    assert float(lin.weight.abs().max()) <= 1 / 4 and float(lin.bias.abs().max()) <= 1 / 4
    assert nn.Linear(2, 2, bias=False).bias is None
    assert nn.Linear(2, 3, dtype=mg.float64).weight.dtype == mg.float64
    emb = nn.Embedding(50, 8, padding_idx=-1)
    assert emb.padding_idx == 49 and float(emb.weight[49].abs().sum()) == 0
    assert 0.7 < float(emb.weight[:49].std()) < 1.3
    ln = nn.LayerNorm(3)
    assert_close(ln.weight, np.ones(3, np.float32), rtol=0, atol=0)
    assert nn.LayerNorm(3, elementwise_affine=False).num_parameters() == 0


def test_seeded_init_is_repeatable() -> None:
    mg.manual_seed(3)
    a = nn.Linear(4, 4).weight.detach().numpy().copy()
    mg.manual_seed(3)
    b = nn.Linear(4, 4).weight.detach().numpy()
    assert_close(a, b, rtol=0, atol=0)


def test_default_device_is_used() -> None:
    mg.set_default_device("cuda")
    try:
        lin = nn.Linear(2, 2)
        assert lin.weight.device == mg.device("cuda")
    finally:
        mg.set_default_device("cpu")
    assert nn.Linear(2, 2, device="cuda").bias.device == mg.device("cuda")


def test_embedding_grad_and_padding(device: str) -> None:
    emb = nn.Embedding(5, 2, padding_idx=1, device=device)
    out = emb(mg.tensor([[0, 1, 0], [4, 1, 0]], device=device))
    assert out.shape == (2, 3, 2)
    out.sum().backward()
    assert_close(emb.weight.grad,
                                  [[3, 3], [0, 0], [0, 0], [0, 0], [1, 1]], rtol=0, atol=0)
    with pytest.raises(IndexError, match="out of range.*5 rows"):
        emb(mg.tensor([5], device=device))
    with pytest.raises(TypeError, match="integer indices.*float32"):
        emb(mg.tensor([1.0], device=device))
    frozen = nn.Embedding.from_pretrained(mg.eye(3))
    assert not frozen.weight.requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scatter_add_of_whole_rows_equals_numpys_add_at(dtype: str) -> None:
    """An embedding's gradient adds whole rows at repeated (and negative) indices; the backend
    does it element by element in the flat table (NumPy's fast loop). Same sums, bit for
    bit, as ``np.add.at`` on the rows, for 2-D and 3-D tables, empty ones included."""
    from minigrad import backend

    rng = np.random.default_rng(0)
    for shape, n in [((65, 128), 4096), ((7, 3, 4), 50), ((5, 1), 9), ((3, 4), 0), ((0, 4), 0)]:
        idx = rng.integers(-shape[0], shape[0], n) if shape[0] else np.zeros(0, np.int64)
        values = rng.standard_normal((n, *shape[1:])).astype(dtype)
        want, got = np.zeros(shape, dtype), np.zeros(shape, dtype)
        np.add.at(want, idx, values)
        backend.scatter_add(got, idx, values)
        assert_close(got, want, rtol=0, atol=0)
    table = np.zeros((4, 3), dtype)  # not whole rows: a pair of index arrays
    backend.scatter_add(table, (np.array([0, 0, 3]), np.array([1, 1, 2])), np.ones(3, dtype))
    assert table[0, 1] == 2 and table[3, 2] == 1 and table.sum() == 3


def test_dropout_train_and_eval(device: str) -> None:
    drop = nn.Dropout(0.25)
    x = mg.ones(400, 50, device=device, requires_grad=True)
    y = drop(x)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    assert_close(y[kept], mg.full_like(y[kept], 1 / 0.75), rtol=1e-6)
    y.sum().backward()
    assert_close(x.grad.numpy() != 0, kept, rtol=0, atol=0)
    mg.manual_seed(7)
    a = drop(x).detach().numpy()
    mg.manual_seed(7)
    assert_close(a, drop(x).detach().numpy(), rtol=0, atol=0)
    drop.eval()
    assert drop(x) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_activation_modules(device: str) -> None:
    x = mg.tensor([[-1.0, 0.5], [2.0, -3.0]], device=device)
    xs = x.numpy()  # the expected values, computed in NumPy
    assert_close(nn.ReLU()(x), np.maximum(xs, 0))
    assert_close(nn.Tanh()(x), np.tanh(xs), rtol=1e-6)
    assert_close(nn.Sigmoid()(x), 1 / (1 + np.exp(-xs)), rtol=1e-6)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(mg.ones(2, 3, 4, device=device)).shape == (2, 12)
    assert_close(nn.Softmax(dim=1)(x).sum(1), mg.ones(x.shape[0], device=device), rtol=1e-6)


def test_loss_modules(device: str) -> None:
    x = mg.randn(4, 3, device=device)
    t = mg.tensor([0, 2, 1, 2], device=device)
    w = mg.tensor([1.0, 2.0, 0.5], device=device)
    assert float(nn.CrossEntropyLoss(weight=w)(x, t)) == pytest.approx(
        float(F.cross_entropy(x, t, weight=w)))
    assert float(nn.NLLLoss(reduction="sum")(F.log_softmax(x, 1), t)) == pytest.approx(
        float(F.cross_entropy(x, t, reduction="sum")), rel=1e-5)
    assert float(nn.MSELoss()(x, x * 0)) == pytest.approx(float((x * x).mean()))
    y = (x > 0).float()
    assert float(nn.BCEWithLogitsLoss()(x, y)) == pytest.approx(
        float(F.binary_cross_entropy_with_logits(x, y)))
    loss_fn = nn.CrossEntropyLoss(weight=mg.ones(3)).to(device)
    assert loss_fn.weight.device == mg.device(device)
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_loss_errors_name_shapes_and_dtypes() -> None:
    x = mg.randn(4, 3)
    with pytest.raises(TypeError, match=r"int64 class indices of shape \(4,\).*float32 \(4, 3\)"):
        F.cross_entropy(x, mg.randn(4, 3))
    with pytest.raises(TypeError, match=r"shape \(4,\).*int64 \(3,\)"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, mg.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match=r"target shape \(4,\) must match input shape \(4, 3\)"):
        F.mse_loss(x, mg.randn(4))
    with pytest.raises(TypeError, match="int64"):
        F.binary_cross_entropy_with_logits(x, mg.ones(4, 3).long())


def test_cross_entropy_is_stable_and_ignores() -> None:
    x = mg.tensor([[1000.0, -1000.0], [0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, mg.tensor([1, -100]))
    assert float(loss) == pytest.approx(2000.0)
    loss.backward()
    assert_close(x.grad, [[1.0, -1.0], [0.0, 0.0]])


def test_one_hot(device: str) -> None:
    t = mg.tensor([0, 2, 1], device=device)
    out = F.one_hot(t)
    assert out.dtype == mg.int64 and out.device == mg.device(device)
    assert_close(out, np.eye(3, dtype=np.int64)[[0, 2, 1]], rtol=0, atol=0)
    assert F.one_hot(t, num_classes=5).shape == (3, 5)
    with pytest.raises(RuntimeError, match=r"\[0, 2\)"):
        F.one_hot(t, 2)


# --------------------------------------------------------------------------- init and utils

def test_init_functions() -> None:
    w = mg.zeros(200, 100)
    assert nn.init.xavier_uniform_(w) is w
    assert float(w.abs().max()) <= math.sqrt(6 / 300)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert float(w.std()) == pytest.approx(math.sqrt(2 / 100), rel=0.05)
    nn.init.kaiming_uniform_(w, mode="fan_out")
    assert float(w.abs().max()) <= math.sqrt(2) * math.sqrt(3 / 200)
    nn.init.xavier_normal_(w, gain=2.0)
    assert float(w.std()) == pytest.approx(2 * math.sqrt(2 / 300), rel=0.05)
    nn.init.normal_(w, 3.0, 0.5)
    assert float(w.mean()) == pytest.approx(3.0, abs=0.01)
    nn.init.uniform_(w, -2, -1)
    assert -2 <= float(w.min()) and float(w.max()) <= -1
    nn.init.constant_(w, 0.5)
    assert float(w.sum()) == 0.5 * w.numel()
    q = mg.zeros(3, 5, dtype=mg.float64)
    nn.init.orthogonal_(q, gain=2.0)
    assert_close(q.numpy() @ q.T, 4 * np.eye(3), atol=1e-12)
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(3))
    p = nn.Parameter(mg.zeros(2, 2))
    nn.init.ones_(p)  # a leaf that requires grad: done under no_grad
    assert p.requires_grad and p.is_leaf and float(p.sum()) == 4


def test_init_on_device(device: str) -> None:
    w = mg.zeros(4, 6, device=device)
    for fn in (nn.init.xavier_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_,
               nn.init.zeros_, nn.init.eye_):
        assert fn(w) is w and w.device == mg.device(device) and w.dtype == mg.float32


def test_clip_grad_value_and_norm(device: str) -> None:
    p = nn.Parameter(mg.zeros(3, device=device))
    p.grad = mg.tensor([3.0, -4.0, 0.5], device=device)
    nn.utils.clip_grad_value_([p], 1.0)
    assert_close(p.grad, [1.0, -1.0, 0.5], rtol=0, atol=0)
    p.grad = mg.tensor([3.0, -4.0, 0.0], device=device)
    total = nn.utils.clip_grad_norm_(p, 10.0)
    assert float(total) == pytest.approx(5.0)
    assert_close(p.grad, [3.0, -4.0, 0.0])  # coef clamped to 1
    assert float(nn.utils.clip_grad_norm_([nn.Parameter(mg.zeros(1))], 1.0)) == 0.0


def test_pad_sequence(device: str) -> None:
    a = mg.tensor([[1.0], [2.0], [3.0]], device=device, requires_grad=True)
    b = mg.tensor([[4.0]], device=device, requires_grad=True)
    out = nn.utils.pad_sequence([a, b], padding_value=-1.0)
    assert out.shape == (3, 2, 1)
    assert_close(out[:, :, 0], [[1, 4], [2, -1], [3, -1]], rtol=0, atol=0)
    bf = nn.utils.pad_sequence([a, b], batch_first=True)
    assert_close(bf[:, :, 0], [[1, 2, 3], [4, 0, 0]], rtol=0, atol=0)
    (out * mg.arange(6, device=device).reshape(3, 2, 1)).sum().backward()
    assert_close(a.grad[:, 0], [0, 2, 4], rtol=0, atol=0)
    assert_close(b.grad[:, 0], [1], rtol=0, atol=0)
    with pytest.raises(ValueError, match="sequence 1"):
        nn.utils.pad_sequence([mg.ones(2, 2), mg.ones(2, 3)])


def test_import_paths() -> None:
    assert mg.nn is nn if hasattr(mg, "nn") else True
    import minigrad.nn.functional
    import minigrad.nn.init
    import minigrad.nn.utils  # noqa: F401

    assert nn.functional is F and nn.Parameter is nn.parameter.Parameter


# --------------------------------------------------------------------------- gradchecks

def _t(a: list, device: str) -> mg.Tensor:
    return mg.tensor(a, device=device)


GRADCHECKS = {
    "linear": lambda d: (lambda x, w, b: F.linear(x, w, b),
                         [_rand(2, 3, device=d), _rand(4, 3, device=d), _rand(4, device=d)]),
    "embedding": lambda d: (lambda w: F.embedding(_t([[0, 2], [2, 1]], d), w),
                            [_rand(3, 2, device=d)]),
    "dropout": lambda d: (lambda x: (mg.manual_seed(1), F.dropout(x, 0.4))[1],
                          [_rand(3, 4, device=d)]),
    "softmax": lambda d: (lambda x: F.softmax(x, 0), [_rand(3, 2, device=d)]),
    "log_softmax": lambda d: (lambda x: F.log_softmax(x, -1), [_rand(2, 2, 3, device=d)]),
    "cross_entropy": lambda d: (
        lambda x: F.cross_entropy(x, _t([2, -100, 0], d)), [_rand(3, 4, device=d)]),
    "cross_entropy_smooth_weight_nd": lambda d: (
        lambda x: F.cross_entropy(x, _t([[1, 0], [2, 3]], d), weight=_t([1.0, 2.0, 0.5, 3.0], d)
                                  .double(), label_smoothing=0.2, reduction="sum"),
        [_rand(2, 4, 2, device=d)]),
    "nll_loss": lambda d: (lambda x: F.nll_loss(x, _t([2, 0, 0], d), reduction="none"),
                           [_rand(3, 4, device=d)]),
    "bce_with_logits": lambda d: (
        lambda x, y, p: F.binary_cross_entropy_with_logits(x, y, pos_weight=p),
        [_rand(2, 3, device=d, scale=3.0), _rand(2, 3, device=d), _rand(3, device=d)]),
    "mse_loss": lambda d: (lambda x, y: F.mse_loss(x, y), [_rand(2, 3, device=d),
                                                           _rand(2, 3, device=d)]),
    "layer_norm": lambda d: (lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
                             [_rand(2, 2, 3, device=d), _rand(2, 3, device=d),
                              _rand(3, 2, device=d).reshape(2, 3)]),
    "layer_norm_plain": lambda d: (lambda x: F.layer_norm(x, 4), [_rand(3, 4, device=d)]),
    "pad_sequence": lambda d: (lambda a, b: nn.utils.pad_sequence([a, b], batch_first=True),
                               [_rand(3, 2, device=d), _rand(1, 2, device=d)]),
}


@pytest.mark.parametrize("name", list(GRADCHECKS))
def test_gradcheck(name: str, device: str) -> None:
    fn, inputs = GRADCHECKS[name](device)
    assert gradcheck(fn, inputs)
