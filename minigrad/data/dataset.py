"""Map-style data sets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``.

A data set is anything with ``__len__`` and ``__getitem__(i)`` for ``0 <= i < len``; the
:class:`Dataset` base class only documents that contract (as in PyTorch), so a plain list of
``(x, y)`` tuples works with :class:`~minigrad.data.DataLoader` too.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


def _host_rng() -> np.random.Generator:
    """The library-wide host RNG, reseeded by ``minigrad.manual_seed``."""
    from minigrad import backend  # lazy: minigrad may still be initialising when this loads

    return backend.host_generator()


class Dataset(ABC):
    """Abstract map-style data set: subclasses implement ``__getitem__`` and ``__len__``.

    ``ds1 + ds2`` concatenates two data sets.
    """

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Return sample ``index`` (an int in ``range(len(self))``)."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of samples."""

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


def _first_dim(t: Any) -> int:
    shape = getattr(t, "shape", None)
    if shape is None or len(shape) == 0:
        raise TypeError(
            f"TensorDataset needs tensors or arrays with at least one dimension, got "
            f"{type(t).__name__} with shape {shape}; wrap numbers with numpy.asarray first."
        )
    return int(shape[0])


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``ds[i] == (t[i] for t in tensors)``.

    Accepts minigrad Tensors and NumPy arrays (anything with ``.shape`` that indexes along its
    first dimension). All must have the same size in the first dimension.

    Example:
        >>> ds = TensorDataset(mg.randn(100, 3), mg.arange(100))
        >>> x, y = ds[0]
    """

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, got none.")
        sizes = [_first_dim(t) for t in tensors]
        if any(s != sizes[0] for s in sizes):
            detail = ", ".join(f"tensor {i}: {s}" for i, s in enumerate(sizes))
            raise ValueError(
                "TensorDataset: all tensors must have the same size in the first dimension "
                f"(the number of samples), got {detail}."
            )
        self.tensors: tuple[Any, ...] = tuple(tensors)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return _first_dim(self.tensors[0])

    def _get_batch(self, indices: Sequence[int]) -> tuple[Any, ...]:
        """All rows ``indices`` at once, collated as ``default_collate`` would collate
        ``[self[i] for i in indices]`` but with one gather per tensor instead of one index and
        one stack per sample (the DataLoader's fast path)."""
        from minigrad import creation as mg  # not the package itself: that would be a cycle

        idx = np.asarray(indices, dtype=np.int64)
        out = []
        for t in self.tensors:
            if isinstance(t, mg.Tensor):
                out.append(t[idx])
            else:
                out.append(mg.tensor(np.asarray(t)[idx]))
        return tuple(out)


class Subset(Dataset):
    """The samples of ``dataset`` at positions ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]
        n = len(dataset)
        bad = [i for i in self.indices if not -n <= i < n]
        if bad:
            raise IndexError(
                f"Subset: indices {bad[:5]} are out of range for a data set of length {n}."
            )

    def __getitem__(self, index: int) -> Any:
        if isinstance(index, (list, tuple)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several data sets one after the other."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one data set.")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {n}.")
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        return self.datasets[k][index - start]


def _resolve_lengths(n: int, lengths: Sequence[int | float]) -> list[int]:
    if not lengths:
        raise ValueError("random_split: lengths is empty.")
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        ints = [int(x) for x in lengths]
        if any(x < 0 for x in ints) or sum(ints) != n:
            raise ValueError(
                f"random_split: lengths {ints} must be non-negative and sum to the data set's "
                f"length {n} (they sum to {sum(ints)}); or pass fractions that sum to 1."
            )
        return ints
    fracs = [float(x) for x in lengths]
    if any(f < 0 or f > 1 for f in fracs) or not math.isclose(sum(fracs), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"random_split: fractions {fracs} must lie in [0, 1] and sum to 1 (they sum to "
            f"{sum(fracs)}); or pass integer lengths that sum to {n}."
        )
    # As PyTorch: floor each part, then hand the remainder out one by one from the first part.
    ints = [math.floor(n * f) for f in fracs]
    for i in range(n - sum(ints)):
        ints[i % len(ints)] += 1
    return ints


def random_split(
    dataset: Any,
    lengths: Sequence[int | float],
    generator_seed: int | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    Args:
        dataset: any map-style data set.
        lengths: integer lengths summing to ``len(dataset)``, or fractions summing to 1 (the
            remainder after flooring goes to the first parts, as in PyTorch).
        generator_seed: with an int, the split depends only on this seed (a fixed split that
            survives other code drawing random numbers); with None it is drawn from minigrad's
            host generator, so it is repeatable after ``minigrad.manual_seed``.

    Returns:
        One :class:`Subset` per length, in order.
    """
    n = len(dataset)
    sizes = _resolve_lengths(n, lengths)
    rng = np.random.default_rng(generator_seed) if generator_seed is not None else _host_rng()
    perm = rng.permutation(n).tolist()
    out, start = [], 0
    for size in sizes:
        out.append(Subset(dataset, perm[start : start + size]))
        start += size
    return out
