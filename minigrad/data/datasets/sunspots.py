"""Sunspot numbers (monthly 1749-2009, yearly 1700-2008), as distributed with statsmodels."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np

from ._fetch import Resource, fetch, sha256_file
from ._types import TimeSeries

__all__ = ["SUNSPOTS_MONTHLY_RESOURCE", "SUNSPOTS_YEARLY_RESOURCE", "load_sunspots"]

# Public-domain files copied verbatim from the statsmodels 0.15.0 wheel, so these loaders work
# without pip or network. The pip route below stays as a fallback (e.g. an install that dropped
# package data) and documents exactly where the files came from.
_VENDORED = Path(__file__).with_name("files")

SUNSPOTS_MONTHLY_RESOURCE = Resource(
    name="sunspots",
    filename="sunspots_monthly.dat",
    package="statsmodels",
    version="0.15.0",
    member="statsmodels/datasets/sunspots/src/sunspots_monthly.dat",
    sha256="cc303d26340b6d599bc2878899f8c50c12323dc04b52a26ad047965ea2b9d2a3",
)

SUNSPOTS_YEARLY_RESOURCE = Resource(
    name="sunspots",
    filename="sunspots_yearly.csv",
    package="statsmodels",
    version="0.15.0",
    member="statsmodels/datasets/sunspots/sunspots.csv",
    sha256="f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
)


def _path(res: Resource, root: str | os.PathLike[str] | None, download: bool) -> Path:
    vendored = _VENDORED / res.filename
    # The hash is checked here too: a checkout with CRLF line endings would otherwise parse fine
    # but not be the pinned data.
    if vendored.is_file() and sha256_file(vendored) == res.sha256:
        return vendored
    return fetch(res, root=root, download=download)


def load_sunspots(
    monthly: bool = True,
    root: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> TimeSeries:
    """Load the international sunspot number, a classic real time series with an ~11-year cycle.

    Source: SIDC (Royal Observatory of Belgium) sunspot numbers as published by NOAA's National
    Geophysical Data Center, distributed with statsmodels 0.15.0 (BSD-3; ``COPYRIGHT = "This
    data is public domain."``): ``statsmodels/datasets/sunspots/src/sunspots_monthly.dat`` and
    ``statsmodels/datasets/sunspots/sunspots.csv``. Both files are vendored in
    ``minigrad/data/datasets/files/`` (see its README), verified by SHA-256.

    Args:
        monthly: True for 3,126 monthly means, January 1749 to June 2009 (values after December
            2008 were preliminary; February 1824 is interpolated); False for 309 yearly values
            1700-2008.
        root: cache directory for the pip fallback.
        download: allow the pip fallback to download.

    Returns:
        ``TimeSeries(values, years, months)``: ``values`` float64, ``years`` int64, ``months``
        int64 in 1..12 (None for the yearly series).
    """
    if not monthly:
        path = _path(SUNSPOTS_YEARLY_RESOURCE, root, download)
        with open(path, encoding="ascii", newline="") as f:
            rows = list(csv.DictReader(f))
        years = np.array([int(float(r["YEAR"])) for r in rows], dtype=np.int64)
        values = np.array([float(r["SUNACTIVITY"]) for r in rows], dtype=np.float64)
        return TimeSeries(values, years, None)

    path = _path(SUNSPOTS_MONTHLY_RESOURCE, root, download)
    vals: list[float] = []
    yrs: list[int] = []
    mons: list[int] = []
    with open(path, encoding="ascii") as f:
        # Data lines start with a 4-digit year followed by up to 12 monthly values; the header,
        # rules and footnotes do not. The last year (2009) is partial.
        for line in f:
            if not re.match(r"\d{4}\s", line):
                continue
            year, *months = line.split()
            for m, v in enumerate(months[:12], start=1):
                yrs.append(int(year))
                mons.append(m)
                vals.append(float(v))
    return TimeSeries(
        np.array(vals, dtype=np.float64),
        np.array(yrs, dtype=np.int64),
        np.array(mons, dtype=np.int64),
    )
