"""Text helpers: a tokenizer, a vocabulary, padding and length bucketing.

Typical use for sentence classification::

    tokens = [basic_english_tokenize(text) for text, _ in train]
    vocab = Vocab(tokens, min_freq=2)
    ids = [vocab.encode(t) for t in tokens]
    batches = BucketSampler([len(x) for x in ids], batch_size=32, shuffle=True)
    for idx in batches:
        x, lengths = pad_batch([ids[i] for i in idx])      # (B, T) int64, (B,) int64
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.utils.files import atomic_write

__all__ = [
    "PAD_TOKEN",
    "UNK_TOKEN",
    "BucketSampler",
    "Vocab",
    "basic_english_tokenize",
    "bucket_batches",
    "pad_batch",
]

PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"

# Typographic quotes (U+2018/2019/201C/201D) are folded to ASCII so that both apostrophes
# tokenize alike.
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_BR = re.compile(r"<br\s*/?>", re.I)
# Penn-Treebank-style clitics: split "don't" -> "do n't", "it's" -> "it 's".
_NOT = re.compile(r"(?<=\w)n't\b")
_CLITIC = re.compile(r"(?<=\w)'(s|re|ve|ll|d|m)\b")
_TOKEN = re.compile(
    r"n't|'(?:s|re|ve|ll|d|m)\b"  # the clitics split off above
    r"|\d+(?:[.,]\d+)*"  # numbers, keeping 3.5 and 1,000 whole
    r"|\w+(?:-\w+)*"  # words, keeping hyphenated compounds whole
    r"|[^\w\s]"  # every other visible character is a token on its own
)


def basic_english_tokenize(text: str) -> list[str]:
    """Split English text into lowercase word and punctuation tokens.

    Close to torchtext's ``basic_english``: lowercase, HTML ``<br />`` removed, punctuation
    split from words. Unlike it, contractions split the Penn-Treebank way, keeping the
    meaningful part as a token (``"don't"`` -> ``["do", "n't"]``, ``"it's"`` -> ``["it",
    "'s"]``; torchtext would give ``"don", "'", "t"``), quotes and colons are kept as tokens, and
    numbers (``3.5``) and hyphenated words (``well-made``) stay whole.

    Example:
        >>> basic_english_tokenize("It's not a bad film, isn't it? 3.5/5!")
        ['it', "'s", 'not', 'a', 'bad', 'film', ',', 'is', "n't", 'it', '?', '3.5', '/', '5', '!']
    """
    text = _BR.sub(" ", text.translate(_QUOTES).lower())
    text = _CLITIC.sub(r" '\1", _NOT.sub(" n't", text))
    return _TOKEN.findall(text)


class Vocab:
    """A token <-> id mapping with ``<pad>`` = 0 and ``<unk>`` = 1.

    Built from an iterable of token sequences; tokens are ordered by decreasing frequency, ties
    alphabetically, so the same corpus always gives the same ids. Unknown tokens map to
    ``<unk>``. A string counts as a sequence of characters, so ``Vocab([text])`` builds a
    character vocabulary.

    Args:
        token_lists: iterable of token sequences (e.g. tokenized sentences).
        min_freq: keep tokens seen at least this many times.
        max_size: cap on ``len(vocab)`` *including* the specials (so it is the embedding size);
            the most frequent tokens are kept. None: no cap.
        extra_specials: further special tokens (e.g. ``"<bos>"``, ``"<eos>"``) placed right
            after ``<pad>`` and ``<unk>``, whether or not they occur.

    Attributes:
        itos: list of tokens; ``itos[id]`` is the token with that id.
        stoi: dict from token to id.
    """

    def __init__(
        self,
        token_lists: Iterable[Iterable[str]] = (),
        min_freq: int = 1,
        max_size: int | None = None,
        extra_specials: Sequence[str] = (),
    ) -> None:
        if min_freq < 1:
            raise ValueError(f"Vocab: min_freq must be >= 1, got {min_freq}.")
        specials = [PAD_TOKEN, UNK_TOKEN]
        for s in extra_specials:
            if s not in specials:
                specials.append(s)
        if max_size is not None and max_size < len(specials):
            raise ValueError(
                f"Vocab: max_size={max_size} leaves no room for the {len(specials)} special "
                f"tokens {specials}; use max_size >= {len(specials)} or None."
            )
        if isinstance(token_lists, str):
            raise TypeError(
                "Vocab expects an iterable of token sequences, got one string; for characters "
                "pass [text], for words pass [basic_english_tokenize(text)]."
            )
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        self.freqs: dict[str, int] = dict(counts)
        ranked = sorted(
            (t for t, c in counts.items() if c >= min_freq and t not in specials),
            key=lambda t: (-counts[t], t),
        )
        if max_size is not None:
            ranked = ranked[: max_size - len(specials)]
        self._set_itos(specials + ranked)

    def _set_itos(self, itos: list[str]) -> None:
        if itos[:2] != [PAD_TOKEN, UNK_TOKEN]:
            raise ValueError(
                f"Vocab: ids 0 and 1 must be {PAD_TOKEN!r} and {UNK_TOKEN!r}, got {itos[:2]}."
            )
        self.itos: list[str] = list(itos)
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            dup = [t for t, c in Counter(self.itos).items() if c > 1]
            raise ValueError(f"Vocab: duplicate tokens {dup[:5]}.")

    @classmethod
    def from_itos(cls, itos: Sequence[str]) -> Vocab:
        """A Vocab with exactly these tokens in this order (``itos[0:2]`` must be
        ``["<pad>", "<unk>"]``)."""
        v = cls.__new__(cls)
        v.freqs = {}
        v._set_itos(list(itos))
        return v

    @property
    def pad_index(self) -> int:
        """The id of ``<pad>``: always 0, so zero-padding is padding."""
        return 0

    @property
    def unk_index(self) -> int:
        """The id of ``<unk>`` (1), given to tokens not in the vocabulary."""
        return 1

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """Id of ``token``, or ``unk_index`` if it is not in the vocabulary."""
        return self.stoi.get(token, 1)

    def __iter__(self) -> Iterator[str]:
        return iter(self.itos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:6])
        return f"Vocab(size={len(self)}, itos=[{head}{', ...' if len(self) > 6 else ''}])"

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens`` (unknown ones become ``unk_index``)."""
        stoi = self.stoi
        return [stoi.get(t, 1) for t in tokens]

    def lookup_tokens(self, ids: Iterable[Any]) -> list[str]:
        """Tokens for ``ids`` (ints, a NumPy array, or anything ``int()`` accepts)."""
        if hasattr(ids, "tolist"):  # NumPy arrays and minigrad Tensors
            ids = np.asarray(ids.tolist()).reshape(-1).tolist()
        n = len(self.itos)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise IndexError(f"Vocab.lookup_tokens: id {i} is out of range [0, {n}).")
            out.append(self.itos[i])
        return out

    decode = lookup_tokens

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The vocabulary as JSON text (no pickle); also written to ``path`` if given."""
        text = json.dumps(
            {"format": "minigrad.data.Vocab", "version": 1, "itos": self.itos},
            ensure_ascii=False,
        )
        if path is not None:
            atomic_write(path, text.encode("utf-8"), who="Vocab.to_json")
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Vocab:
        """Load a vocabulary saved by :meth:`to_json`: from a path, or from the JSON text itself
        (a string starting with ``{``)."""
        if isinstance(source, str) and source.lstrip().startswith("{"):
            text, where = source, "the JSON text given"
        else:
            where = repr(os.fspath(source))
            try:
                text = Path(source).read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"Vocab.from_json: {where} is not a text file written by "
                                 f"Vocab.to_json ({e})") from e
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"Vocab.from_json: {where} is not valid JSON (truncated or "
                             f"damaged?): {e}") from e
        if not isinstance(data, dict) or data.get("format") != "minigrad.data.Vocab":
            raise ValueError(f"Vocab.from_json: {where} was not written by Vocab.to_json.")
        if data.get("version") != 1:
            raise ValueError(f"Vocab.from_json: {where} has unsupported version "
                             f"{data.get('version')!r}.")
        itos = data.get("itos")
        if not isinstance(itos, list) or not all(isinstance(t, str) for t in itos):
            raise ValueError(f"Vocab.from_json: {where} has no list of token strings under "
                             "'itos' (edited or damaged).")
        return cls.from_itos(itos)


def pad_batch(
    sequences: Sequence[Sequence[int]],
    padding_value: int = 0,
    batch_first: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Pad id sequences of different lengths into one rectangular int64 array.

    Args:
        sequences: B sequences of ints (lists, tuples or 1-D arrays).
        padding_value: id written after each sequence's end (``Vocab``'s ``<pad>`` is 0).
        batch_first: shape (B, T) if True, (T, B) if False (the layout of RNNs without
            ``batch_first``).

    Returns:
        ``(padded, lengths)``: int64 arrays of shape (B, T) or (T, B) with T the longest
        length, and (B,) with each sequence's length (pass it as ``lengths=`` to minigrad's
        recurrent layers so padding does not change their state).
    """
    if len(sequences) == 0:
        raise ValueError("pad_batch: got no sequences; a batch needs at least one.")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    out = np.full((len(sequences), int(lengths.max())), padding_value, dtype=np.int64)
    for row, seq in zip(out, sequences, strict=True):
        row[: len(seq)] = seq
    return (out if batch_first else np.ascontiguousarray(out.T)), lengths


def _rng(seed: int | None) -> np.random.Generator:
    if seed is not None:
        return np.random.default_rng(seed)
    from .dataset import _host_rng

    return _host_rng()


def bucket_batches(
    lengths: Sequence[int],
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
    drop_last: bool = False,
    pool_size: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[list[int]]:
    """Group indices of sequences of similar length into batches, to waste little padding.

    Without shuffling: indices sorted by length (ties by index), cut into consecutive batches.
    With shuffling: the indices are shuffled, cut into pools of ``pool_size`` (default 50
    batches), each pool sorted by length and cut into batches, and the batch order is shuffled;
    batches are random from epoch to epoch yet nearly uniform in length.

    Args:
        lengths: length of each sequence (``len(lengths)`` samples).
        batch_size: samples per batch.
        shuffle: randomise as above.
        seed: for a fixed arrangement; None draws from minigrad's host generator (repeatable
            after ``minigrad.manual_seed``).
        drop_last: drop the batches smaller than ``batch_size`` (at most one per pool).
        pool_size: samples sorted together when shuffling; larger means less padding and less
            randomness.
        rng: a NumPy generator to use instead of ``seed``.

    Returns:
        A list of batches, each a list of indices into ``lengths``.
    """
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or (batch_size < 1)
    ):
        raise ValueError(f"bucket_batches: batch_size must be a positive int, got {batch_size!r}.")
    lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
    n = len(lens)
    if not shuffle:
        order = np.lexsort((np.arange(n), lens))  # by length, ties by index: deterministic
        batches = [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
        if drop_last and batches and len(batches[-1]) < batch_size:
            batches.pop()
        return batches

    gen = rng if rng is not None else _rng(seed)
    pool = int(pool_size) if pool_size is not None else 50 * batch_size
    if pool < batch_size:
        raise ValueError(f"bucket_batches: pool_size {pool} is smaller than batch_size.")
    perm = gen.permutation(n)
    batches = []
    for p in range(0, n, pool):
        chunk = perm[p : p + pool]
        chunk = chunk[np.argsort(lens[chunk], kind="stable")]
        for i in range(0, len(chunk), batch_size):
            b = chunk[i : i + batch_size].tolist()
            if len(b) == batch_size or not drop_last:
                batches.append(b)
    return [batches[i] for i in gen.permutation(len(batches))]


class BucketSampler:
    """A batch sampler that yields length-bucketed batches of indices (see
    :func:`bucket_batches`), a new arrangement every epoch.

    Pass it as ``DataLoader(ds, batch_sampler=BucketSampler(...), collate_fn=...)``, or iterate
    it directly.

    Args:
        lengths: length of each sample.
        batch_size, shuffle, drop_last, pool_size: as in :func:`bucket_batches`.
        seed: with an int, the sampler owns a generator seeded once, so the sequence of epochs is
            fixed; with None, each epoch draws from minigrad's host generator (repeatable after
            ``minigrad.manual_seed``).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
        pool_size: int | None = None,
    ) -> None:
        self.lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.pool_size = pool_size
        self._own_rng = np.random.default_rng(seed) if seed is not None else None
        # Validate the arguments now rather than at the first epoch.
        self._len = len(self._arrange(np.random.default_rng(0)))

    def _arrange(self, rng: np.random.Generator | None) -> list[list[int]]:
        return bucket_batches(
            self.lengths, self.batch_size, shuffle=self.shuffle, drop_last=self.drop_last,
            pool_size=self.pool_size, rng=rng,
        )  # fmt: skip

    def __iter__(self) -> Iterator[list[int]]:
        if not self.shuffle:
            rng = None
        elif self._own_rng is not None:
            rng = self._own_rng
        else:
            rng = _rng(None)
        return iter(self._arrange(rng))

    def __len__(self) -> int:
        """Batches per epoch (the same every epoch)."""
        return self._len
