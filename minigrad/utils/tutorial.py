"""What every tutorial shares: quick mode, the outputs folder, plots, progress bars, timing.

Nothing here is about minigrad itself; it keeps the tutorials free of boilerplate. It lives in
the package (not beside the scripts) so that a tutorial opened as a notebook from any folder,
or uploaded alone to Colab, finds it with ``import minigrad``. It needs the ``tutorials`` extra
(matplotlib, tqdm); ``import minigrad`` never imports it.

* :func:`quick_mode` decides between the full run and quick mode (the same code on a small
  slice of the data, in seconds; the test suite runs every tutorial this way). Quick mode is on
  when the notebook's first cell says ``QUICK = True``, or with ``--quick`` on the command line,
  or ``MINIGRAD_QUICK=1`` in the environment.
* ``OUT`` is the folder for plots (PNG) and saved models: ``MINIGRAD_TUTORIALS_OUT`` if set,
  else ``outputs/`` beside the running script (``tutorials/outputs/``, git-ignored), else
  ``outputs/`` in the working folder (a notebook).
* :func:`savefig` saves a figure there, and shows it too when run inside Jupyter.
* :func:`progress` is a tqdm progress bar, silent when the output is not a terminal or in
  quick mode.
* :func:`caveat` is what to print after a number trained in quick mode (it means nothing);
  :func:`draw_graph` draws a graph from ``mg.viz.to_dot``, with Graphviz or else matplotlib.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable

__all__ = ["OUT", "QUICK", "Timer", "banner", "caveat", "draw_graph", "in_notebook", "plt",
           "progress", "quick_mode", "savefig"]


def _quick_from_command_line() -> bool:
    return "--quick" in sys.argv or os.environ.get("MINIGRAD_QUICK", "") not in ("", "0")


def _outputs_folder() -> Path:
    if os.environ.get("MINIGRAD_TUTORIALS_OUT"):
        return Path(os.environ["MINIGRAD_TUTORIALS_OUT"])
    script = getattr(sys.modules.get("__main__"), "__file__", None)  # none in a notebook
    if script and script.endswith(".py"):
        return Path(script).resolve().parent / "outputs"
    return Path.cwd() / "outputs"


# What the command line asks for; quick_mode(QUICK) adds the notebook's switch to it.
QUICK = _quick_from_command_line()
OUT = _outputs_folder()
OUT.mkdir(parents=True, exist_ok=True)


def quick_mode(requested: bool = False) -> bool:
    """Quick mode or the full run, for the rest of the tutorial.

    ``requested`` is the notebook's switch (``QUICK = True`` in the first cell); ``--quick`` or
    ``MINIGRAD_QUICK=1`` turn quick mode on as well. Returns the decision, which
    :func:`banner` and :func:`progress` follow from then on.
    """
    global QUICK
    if not isinstance(requested, bool):
        raise TypeError(f"quick_mode expects True or False (the QUICK switch), got "
                        f"{requested!r}")
    QUICK = requested or _quick_from_command_line()
    return QUICK


def in_notebook() -> bool:
    """True inside Jupyter (or VS Code's interactive window), where plots are shown inline."""
    return "ipykernel" in sys.modules


# Scripts only save their figures: draw them off-screen (no display needed), unless the user
# picked a backend themselves (MPLBACKEND) or we run in a notebook (inline backend).
if not in_notebook() and "MPLBACKEND" not in os.environ:
    os.environ["MPLBACKEND"] = "Agg"

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from tqdm.auto import tqdm  # noqa: E402


def savefig(fig: plt.Figure, name: str) -> Path:
    """Save ``fig`` as ``OUT / name`` (PNG); show it inline in a notebook."""
    path = OUT / name
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"[saved {path}]")
    if in_notebook():
        plt.show()
    else:
        plt.close(fig)
    return path


def progress(iterable: Iterable[Any] | None = None, **kwargs: Any) -> tqdm:
    """A tqdm bar over ``iterable``; off in quick mode and when the output is not a terminal
    (a log file, a test run), on in a notebook."""
    # disable=None is tqdm's "off when not a TTY"; a notebook is no TTY but shows a widget
    kwargs.setdefault("disable", True if QUICK else (False if in_notebook() else None))
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``; ``t.elapsed()`` on the way."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start

    def elapsed(self) -> float:
        """Seconds since the start (also inside the with block)."""
        return time.perf_counter() - self.start


def banner(title: str) -> None:
    """Say which mode we run in, once, at the top of a tutorial."""
    mode = "QUICK mode (a small slice, for tests)" if QUICK else "full mode"
    print(f"== {title} -- {mode} ==")


def caveat() -> str:
    """Nothing in full mode; in quick mode, a reminder to print after every trained result: a
    few steps on a small slice show that the code runs, and nothing about the method."""
    return " [quick mode: a smoke test, this number means nothing]" if QUICK else ""


def draw_graph(dot: str, name: str) -> Path:
    """Draw a graph given as DOT text (from ``mg.viz.to_dot``) as ``outputs/name`` (PNG).

    With Graphviz's ``dot`` program installed, Graphviz lays it out (``mg.viz.render``).
    Without it, matplotlib draws it here: each node one row above the nodes that feed it
    (rows by longest path from the output, which sits at the top), in the node's colour and
    shape (ovals are ops, boxes tensors). Cruder than Graphviz, but needs nothing else.
    """
    import re
    import shutil

    if shutil.which("dot"):
        from minigrad.utils import viz

        return viz.render(dot, OUT / name)
    nodes = {m[0]: (m[1].replace("\\n", "\n"), m[2]) for m in
             re.findall(r'^\s*(\w+) \[label="(.*?)"(.*)\];$', dot, flags=re.M)}
    edges = re.findall(r"^\s*(\w+) -> (\w+);$", dot, flags=re.M)
    # row of a node: longest path down from the output, so every edge points upwards
    row = {n: 0 for n in nodes}
    for _ in nodes:
        for src, dst in edges:
            row[src] = max(row[src], row[dst] + 1)
    by_row: dict[int, list[str]] = {}
    for n in nodes:
        by_row.setdefault(row[n], []).append(n)
    xy = {n: (k - (len(ns) - 1) / 2, -r) for r, ns in by_row.items() for k, n in enumerate(ns)}
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * max(map(len, by_row.values())),
                                    1 + 1.1 * len(by_row)))
    for src, dst in edges:
        ax.annotate("", xy=xy[dst], xytext=xy[src],
                    arrowprops=dict(arrowstyle="->", color="#555555", shrinkA=14, shrinkB=14))
    for n, (label, attrs) in nodes.items():
        fill = re.search(r'fillcolor="([^"]+)"', attrs)
        style = "round,pad=0.4" if "shape=box" in attrs else "ellipse,pad=0.2"
        ax.text(*xy[n], label, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle=style, fc=fill.group(1) if fill else "white", ec="#555555"))
    title = re.search(r"labelloc=\w+; label=\"([^\"]*)\"", dot)
    ax.set_title(title.group(1) if title else "")
    ax.set_xlim(-0.5 - max(map(len, by_row.values())) / 2, 0.5 + max(map(len, by_row.values())) / 2)
    ax.set_ylim(-len(by_row) + 0.4, 0.6)
    ax.axis("off")
    print("(Graphviz's `dot` is not installed: drawn with matplotlib instead; for Graphviz's "
          "layout, install it: apt install graphviz, brew install graphviz or conda install "
          "graphviz)")
    return savefig(fig, name)
