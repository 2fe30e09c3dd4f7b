"""``DataLoader``: batches of samples from a map-style data set, optionally shuffled."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .dataset import TensorDataset, _host_rng

__all__ = ["DataLoader", "default_collate"]


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, field by field, as PyTorch's ``default_collate``.

    * minigrad Tensors -> ``minigrad.stack`` (a new leading batch dimension);
    * NumPy arrays, NumPy scalars, Python ``bool``/``int``/``float`` ->
      ``minigrad.tensor(numpy.stack(...))`` (Python ints become int64, floats float64, as
      ``numpy.asarray`` makes them);
    * ``str``/``bytes`` -> the list as is;
    * tuples, lists, named tuples and dicts -> the same structure with each field collated, so a
      data set of ``(x, y)`` pairs yields ``(X, Y)`` batches.

    Samples of different shapes cannot be stacked: pad them (see
    :func:`minigrad.data.pad_batch`) in a custom ``collate_fn``.
    """
    from minigrad import creation as mg  # not the package itself: that would be a cycle

    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch.")
    first = batch[0]

    if isinstance(first, mg.Tensor) or any(isinstance(b, mg.Tensor) for b in batch):
        return mg.stack([b if isinstance(b, mg.Tensor) else mg.tensor(b) for b in batch])
    if isinstance(first, (np.ndarray, np.generic, bool, int, float)):
        try:
            return mg.tensor(np.stack([np.asarray(b) for b in batch]))
        except ValueError as e:
            shapes = sorted({np.shape(b) for b in batch})
            raise ValueError(
                f"default_collate: cannot stack samples of different shapes {shapes[:4]}; pad "
                "them to one length in a collate_fn (see minigrad.data.pad_batch)."
            ) from e
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        size = len(first)
        if any(len(b) != size for b in batch):
            raise ValueError(
                "default_collate: every sample must have the same number of fields, got "
                f"{sorted({len(b) for b in batch})}."
            )
        fields = [default_collate([b[i] for b in batch]) for i in range(size)]
        if isinstance(first, tuple) and hasattr(first, "_fields"):  # named tuple
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    raise TypeError(
        f"default_collate: don't know how to batch samples of type {type(first).__name__}; "
        "return Tensors, NumPy arrays, numbers, strings, or tuples/dicts of those from the "
        "data set, or pass a collate_fn."
    )


class DataLoader:
    """Iterate over a data set in batches.

    Args:
        dataset: a map-style data set (``__len__`` and ``__getitem__``).
        batch_size: samples per batch.
        shuffle: draw a new random order at the start of every epoch (every ``iter()``) from
            minigrad's host generator, so training is repeatable after ``minigrad.manual_seed``.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        collate_fn: turns a list of samples into a batch (default: :func:`default_collate`).
        batch_sampler: an iterable of lists of indices (e.g. a
            :class:`~minigrad.data.BucketSampler`) used instead of ``batch_size``, ``shuffle``
            and ``drop_last``.

    Example:
        >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
        >>> for xb, yb in loader:
        ...     loss = F.cross_entropy(model(xb), yb)
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        batch_sampler: Iterable[Sequence[int]] | None = None,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"DataLoader needs a map-style data set with __len__ and __getitem__, got "
                f"{type(dataset).__name__}."
            )
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler already decides the batches; leave batch_size, "
                    "shuffle and drop_last at their defaults when you pass it."
                )
        elif (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or (batch_size < 1)
        ):
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}.")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn if collate_fn is not None else default_collate
        self.batch_sampler = batch_sampler

    def __len__(self) -> int:
        """Number of batches per epoch."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def _batches(self) -> Iterator[Sequence[int]]:
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        n = len(self.dataset)
        # The order is drawn when iteration starts, so each epoch gets a fresh permutation and
        # the sequence of epochs is fixed by the seed.
        order = _host_rng().permutation(n) if self.shuffle else np.arange(n)
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size].tolist()

    def __iter__(self) -> Iterator[Any]:
        # A TensorDataset with the default collate is gathered with one index per tensor, which is
        # what stacking the samples one by one would give, only much faster.
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate
        for indices in self._batches():
            if fast:
                yield self.dataset._get_batch(indices)
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def __repr__(self) -> str:
        return (
            f"DataLoader(dataset={type(self.dataset).__name__}(len={len(self.dataset)}), "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )
