"""Small result types shared by the data-set loaders."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["Splits", "TextCorpus", "TimeSeries"]


class Splits(NamedTuple):
    """Train / validation / test parts of a data set; unpacks as ``train, val, test = ...``."""

    train: Any
    validation: Any
    test: Any


class TextCorpus(NamedTuple):
    """A text corpus and its fixed split into contiguous train / validation / test ranges."""

    text: str
    train: str
    validation: str
    test: str


class TimeSeries(NamedTuple):
    """A univariate series with its calendar: ``values[i]`` belongs to ``years[i]`` and, for a
    monthly series, ``months[i]`` (1-12); ``months`` is None for a yearly series."""

    values: np.ndarray
    years: np.ndarray
    months: np.ndarray | None
