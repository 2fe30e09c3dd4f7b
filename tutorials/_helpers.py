"""The tutorials' helpers now live in the package, as :mod:`minigrad.utils.tutorial`, so that a
tutorial opened as a notebook from any folder (or uploaded alone to Colab) finds them.

This file only re-exports them for scripts that still say ``from _helpers import ...``.
"""

from minigrad.utils.tutorial import (  # noqa: F401
    OUT,
    QUICK,
    Timer,
    banner,
    caveat,
    draw_graph,
    in_notebook,
    plt,
    progress,
    quick_mode,
    savefig,
)
