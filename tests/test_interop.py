"""Interoperability: zero-copy DLPack exchange and safetensors state dicts (minigrad.interop).

The safetensors fixture was written by PyTorch (``tests/reference/generate_interop.py``);
loading it needs the optional ``safetensors`` package (the ``safetensors`` and ``dev``
extras), and the tests that need it skip cleanly without it. Tests that talk to PyTorch itself
skip when torch is absent.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import interop
from minigrad.testing import assert_close, check_against_reference

FIXTURES = Path(__file__).resolve().parent / "reference" / "fixtures"
WEIGHTS = FIXTURES / "interop_lstm_linear.safetensors"
EXPECTED = FIXTURES / "interop_lstm_linear.npz"
HAS_SAFETENSORS = importlib.util.find_spec("safetensors") is not None
needs_safetensors = pytest.mark.skipif(not HAS_SAFETENSORS, reason="safetensors is not "
                                       "installed (pip install 'minigrad-rnn[safetensors]')")


def fake_cuda(device: str) -> bool:
    return device == "cuda" and os.environ.get("MINIGRAD_FAKE_CUDA") == "1"


class Model(mg.nn.Module):
    """The minigrad twin of the PyTorch model in generate_interop.py (same names)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = mg.nn.LSTM(3, 4, batch_first=True)
        self.head = mg.nn.Linear(4, 2)

    def forward(self, x: mg.Tensor) -> tuple[mg.Tensor, mg.Tensor, mg.Tensor]:
        out, (h_n, c_n) = self.lstm(x)
        return self.head(out), h_n, c_n


# ----------------------------------------------------------------------------- DLPack


def test_from_dlpack_numpy_shares_memory() -> None:
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    t = interop.from_dlpack(a)
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == mg.device("cpu")
    assert not t.requires_grad
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0


def test_to_dlpack_capsule_reads_back_without_copy() -> None:
    t = mg.arange(4, dtype=mg.float64)
    back = interop.from_dlpack(interop.to_dlpack(t))
    t.data[1] = -1.0
    assert back.tolist() == [0.0, -1.0, 2.0, 3.0]


def test_from_dlpack_of_a_tensor_shares_memory_and_version() -> None:
    t = mg.ones(3)
    u = interop.from_dlpack(t)
    assert u.data is t.data and u._version is t._version


def test_to_dlpack_refuses_tensors_that_require_grad() -> None:
    t = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        interop.to_dlpack(t)
    interop.to_dlpack(t.detach())


def test_read_only_arrays_say_how_to_export() -> None:
    a = np.arange(3.0)
    a.flags.writeable = False
    with pytest.raises(BufferError, match="clone"):
        interop.to_dlpack(mg.from_numpy(a))


def test_from_dlpack_rejects_other_objects() -> None:
    with pytest.raises(TypeError, match="__dlpack__"):
        interop.from_dlpack([1.0, 2.0])


def test_tensor_dunder_dlpack_with_numpy() -> None:
    t = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    a = np.from_dlpack(t)
    a[1, 1] = 9.0
    assert t[1, 1].item() == 9.0
    assert t.__dlpack_device__() == (interop.KDL_CPU, 0)


def test_dlpack_on_each_device(device: str) -> None:
    t = mg.arange(3, dtype=mg.float32, device=device)
    if fake_cuda(device):  # the NumPy-backed test double has no DLPack
        with pytest.raises(RuntimeError, match="fake CUDA"):
            interop.to_dlpack(t)
        return
    back = interop.from_dlpack(interop.to_dlpack(t))
    assert back.device == t.device
    t.data[0] = 5.0
    assert back[0].item() == 5.0
    if device == "cuda":  # real CuPy: its arrays come in on the GPU, zero-copy
        import cupy

        c = cupy.arange(4, dtype=cupy.float32)
        u = interop.from_dlpack(c)
        c[2] = 7.0
        assert u.device == mg.device("cuda") and u[2].item() == 7.0


def test_dlpack_with_torch() -> None:
    torch = pytest.importorskip("torch")
    t = mg.tensor([1.0, 2.0, 3.0])
    tt = torch.from_dlpack(interop.to_dlpack(t))
    tt[0] = 10.0  # written by torch, seen by minigrad
    assert t.tolist() == [10.0, 2.0, 3.0]
    src = torch.arange(4, dtype=torch.float64)
    m = interop.from_dlpack(src)
    src[3] = -2.0
    assert m.dtype == np.float64 and m.tolist() == [0.0, 1.0, 2.0, -2.0]
    cap = torch.utils.dlpack.to_dlpack(torch.ones(2, dtype=torch.int64))
    assert interop.from_dlpack(cap).tolist() == [1, 1]
    assert torch.from_dlpack(t).tolist() == [10.0, 2.0, 3.0]  # Tensor.__dlpack__


# ----------------------------------------------------------------------------- safetensors


@needs_safetensors
def test_pytorch_weights_load_by_name_and_give_pytorch_outputs(device: str) -> None:
    model = Model()
    state = interop.load_safetensors(WEIGHTS, device=device)
    assert set(state) == set(model.state_dict())
    assert all(v.device == mg.device(device) for v in state.values())
    model.load_state_dict(state)
    model.to(device)

    def run(x: mg.Tensor) -> dict[str, mg.Tensor]:
        with mg.no_grad():
            return dict(zip(("out", "h_n", "c_n"), model(x)))

    check_against_reference(run, EXPECTED, device=device)  # values, dtypes and device
    assert interop.safetensors_metadata(WEIGHTS)["producer"].startswith("torch 2.13.0")


@needs_safetensors
def test_save_load_roundtrip(tmp_path: Path, device: str) -> None:
    state = {"w": mg.randn(3, 2, device=device), "b": mg.zeros(2, dtype=mg.float64),
             "steps": mg.tensor([1, 2, 3]), "mask": np.array([True, False])}
    path = tmp_path / "w.safetensors"
    interop.save_safetensors(state, path, metadata={"epoch": 3})
    back = interop.load_safetensors(path)
    assert set(back) == set(state)
    for k, v in state.items():
        assert_close(back[k], v.cpu() if isinstance(v, mg.Tensor) else v, name=k)
    assert interop.safetensors_metadata(path) == {"epoch": "3"}
    mode = path.stat().st_mode & 0o777
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@needs_safetensors
def test_minigrad_weights_load_into_pytorch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    sys.path.insert(0, str(FIXTURES.parent))
    try:
        from generate_interop import Model as TorchModel
    finally:
        sys.path.pop(0)
    mg.manual_seed(3)
    model = Model()
    path = tmp_path / "mg.safetensors"
    interop.save_safetensors(model.state_dict(), path)
    twin = TorchModel()
    twin.load_state_dict(load_file(str(path)))
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    with torch.no_grad():
        want = [t.numpy() for t in twin(torch.from_numpy(x))]
    with mg.no_grad():
        got = model(mg.tensor(x))
    for name, g, w in zip(("out", "h_n", "c_n"), got, want):
        assert_close(g, w, name=name)


@needs_safetensors
def test_save_rejects_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'lr'"):
        interop.save_safetensors({"lr": 0.1}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="names must be strings"):
        interop.save_safetensors({0: mg.ones(1)}, tmp_path / "x.safetensors")


def test_clear_error_without_safetensors(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)  # import now fails
    with pytest.raises(ImportError, match=r"minigrad-rnn\[safetensors\]"):
        interop.save_safetensors({"w": mg.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(ImportError, match=r"minigrad-rnn\[safetensors\]"):
        interop.load_safetensors(tmp_path / "w.safetensors")
