"""mg.save / mg.load: exact round trips without pickle, devices, atomic writes, errors."""

from __future__ import annotations

import math
import os
import pickle
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend, optim, serialization
from minigrad.nn.parameter import Parameter
from minigrad.serialization import load, save


def host(x: Any) -> np.ndarray:
    return backend.to_host(x.data if isinstance(x, mg.Tensor) else x)


def assert_same(a: Any, b: Any, path: str = "") -> None:
    """Structural equality: same container types, key types, leaf types, dtypes and values."""
    assert type(a) is type(b), f"{path}: {type(a)} vs {type(b)}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        assert [type(k) for k in a] == [type(k) for k in b], path
        for k in a:
            assert_same(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}/{i}")
    elif isinstance(a, mg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.requires_grad == b.requires_grad, path
        np.testing.assert_array_equal(host(a), host(b), err_msg=path)
    elif backend.is_array(a) or isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(host(a), host(b), err_msg=path)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert a == b, path


def test_nested_round_trip_is_exact(tmp_path: Path) -> None:
    obj = {
        "tensors": {"f32": mg.randn(3, 2), "f64": mg.randn(4, dtype=mg.float64),
                    "i64": mg.arange(5), "bool": mg.tensor([True, False]),
                    "scalar": mg.tensor(2.5), "empty": mg.zeros(0, 3),
                    "grad": mg.ones(2, requires_grad=True)},
        "arrays": [np.arange(6, dtype=np.int32).reshape(2, 3), np.array(3.0), np.zeros((2, 0)),
                   np.array(["ab", "cde"]), np.asfortranarray(np.ones((2, 3)))],
        "numbers": (1, -2**70, 0.1, 1e-300, float("inf"), float("-inf"), float("nan"), True,
                    False, None, "text", "", "ünïcode"),
        "numpy_scalars": [np.float32(0.5), np.int64(7), np.bool_(True)],
        0: "int key", 1: {2: [3, {"x": ()}]}, "0": "str key that looks like an int",
        "a/b": mg.ones(1), "a": {"b": mg.zeros(1)},  # flattened-key collision
        "odd keys ?*:\\": mg.ones(2), "": [],
        "ordered": OrderedDict([("z", 1), ("y", 2)]),
    }
    save(obj, tmp_path / "ckpt.npz")
    assert_same(obj, load(tmp_path / "ckpt.npz"))


def test_file_is_plain_npz_without_pickles(tmp_path: Path) -> None:
    path = tmp_path / "model.ckpt"  # no suffix is appended
    save({"w": mg.ones(2, 3), "step": 3}, path)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]
    with np.load(path, allow_pickle=False) as z:
        assert "__minigrad__" in z.files and z["__minigrad__"].dtype == np.uint8
        assert any(k.startswith("w") for k in z.files)
        assert all(z[k].dtype != object for k in z.files)


def test_tensors_go_to_map_location(device: str, tmp_path: Path) -> None:
    dev = mg.device(device)
    obj = {"t": mg.randn(2, 3, device=device), "p": Parameter(mg.randn(3, device=device)),
           "dev_array": mg.ones(2, device=device).data, "host_array": np.arange(3)}
    save(obj, tmp_path / "c.npz")

    on_default = load(tmp_path / "c.npz")  # the default device: cpu here
    assert on_default["t"].device == mg.device("cpu")
    assert type(on_default["dev_array"]) is np.ndarray

    got = load(tmp_path / "c.npz", map_location=device)
    assert got["t"].device == dev and got["p"].device == dev
    assert isinstance(got["p"], Parameter) and got["p"].requires_grad
    assert backend.device_of(got["dev_array"]) == dev
    assert type(got["host_array"]) is np.ndarray  # NumPy arrays stay NumPy arrays
    for k in ("t", "p", "dev_array"):
        np.testing.assert_array_equal(host(got[k]), host(obj[k]))

    got = load(tmp_path / "c.npz", map_location=mg.device("cpu"))
    assert got["t"].device == mg.device("cpu")


def test_optimizer_state_dict_round_trip(device: str, tmp_path: Path) -> None:
    params = [Parameter(mg.randn(3, 2, device=device)), Parameter(mg.randn(2, device=device))]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}],
                     betas=(0.8, 0.9), amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        ((params[0] ** 2).sum() + params[1].sum()).backward()
        opt.step()
    sd = opt.state_dict()
    save(sd, tmp_path / "opt.npz")
    loaded = load(tmp_path / "opt.npz", map_location=device)
    assert_same(sd, loaded)
    assert list(loaded["state"]) == [0, 1]  # int keys, not "0", "1"
    assert loaded["param_groups"][0]["betas"] == (0.8, 0.9)
    assert loaded["state"][0]["exp_avg"].device == mg.device(device)


def test_module_state_dict_round_trip(device: str, tmp_path: Path) -> None:
    nn = pytest.importorskip("minigrad.nn")
    if not hasattr(nn, "Linear") or not hasattr(nn.Module, "state_dict"):
        pytest.skip("minigrad.nn.Linear / Module.state_dict not available yet")
    model = nn.Linear(4, 3).to(device)
    save(model.state_dict(), tmp_path / "m.npz")
    sd = load(tmp_path / "m.npz", map_location=device)
    assert_same(dict(model.state_dict()), dict(sd))
    other = nn.Linear(4, 3).to(device)
    other.load_state_dict(sd)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), other.named_parameters()):
        assert n1 == n2
        np.testing.assert_array_equal(host(p1), host(p2))


# ---------------------------------------------------------------------------- atomic writes

def test_crash_mid_save_keeps_previous_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ckpt.npz"
    save({"epoch": 1, "w": mg.ones(100)}, path)
    before = path.read_bytes()

    def crashing_writer(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
        f.write(b"PK\x03\x04 half of a zip archive")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(serialization, "_write_npz", crashing_writer)
    with pytest.raises(OSError, match="simulated"):
        save({"epoch": 2, "w": mg.zeros(100)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # no temporary file left behind
    assert load(path)["epoch"] == 1

    monkeypatch.undo()
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2}


def test_interrupt_mid_save_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(f: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
        f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization, "_write_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"a": 1}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------- errors

@pytest.mark.parametrize("obj,where", [
    ({"model": {"layer": object()}}, "key path model/layer"),
    ({"opt": [1, {2, 3}]}, "key path opt/1"),
    ({"fn": len}, "key path fn"),
    (object(), "the top level"),
])
def test_unsupported_type_names_the_key_path(obj: Any, where: str, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=f"cannot store .* at {where}"):
        save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_bad_keys_and_object_arrays(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"dict keys must be str or int, got tuple key \(1, 2\) "
                                        r"at key path a"):
        save({"a": {(1, 2): 3}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dtype object at key path arr"):
        save({"arr": np.array([{}, []], dtype=object)}, tmp_path / "x.npz")


def test_load_rejects_files_that_are_not_checkpoints(tmp_path: Path) -> None:
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not a minigrad checkpoint.*no '__minigrad__'"):
        load(tmp_path / "plain.npz")
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(ValueError, match="not a minigrad checkpoint.*single array"):
        load(tmp_path / "one.npy")
    (tmp_path / "pickled.pt").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a minigrad checkpoint"):
        load(tmp_path / "pickled.pt")
    (tmp_path / "text.txt").write_text("hello")
    with pytest.raises(ValueError, match="not a minigrad checkpoint"):
        load(tmp_path / "text.txt")
    save({"a": mg.ones(1000)}, tmp_path / "good.npz")
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated.npz"):
        load(tmp_path / "truncated.npz")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.npz")
