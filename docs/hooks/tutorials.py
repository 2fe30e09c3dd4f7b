"""MkDocs hook: render the tutorials (percent-format scripts in ``tutorials/``) as pages.

Nothing is executed. Each ``# %% [markdown]`` cell becomes prose (the leading ``# `` of each
line removed) and each ``# %%`` code cell a fenced Python block. A cell that saves a figure
(``savefig(fig, "name.png")``) is followed by that figure when ``tutorials/outputs/name.png``
exists (it does after the tutorial has been run), and by a one-line note otherwise. Links to a
sibling tutorial script (``03_vanishing_gradients.py``) point to its page.

The pages are generated in memory at build time (nothing is written into ``docs/``), under
``tutorials/``, and listed in the navigation in file order, in place of the nav entry
``Tutorials: tutorials/index.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "tutorials"
PATTERN = "[0-9][0-9]_*.py"
_SAVEFIG = re.compile(r"""savefig\([^,]+,\s*["']([^"']+\.png)["']""")
_SCRIPT_LINK = re.compile(r"\]\((?:tutorials/)?([0-9][0-9]_[A-Za-z0-9_]+)\.py\)")


def scripts() -> list[Path]:
    """The tutorial scripts, in order."""
    return sorted(TUTORIALS.glob(PATTERN))


def split_cells(source: str) -> list[tuple[str, list[str]]]:
    """``[(kind, lines)]`` with kind ``"markdown"`` or ``"code"``, in file order."""
    cells: list[tuple[str, list[str]]] = []
    kind, lines = "code", []
    for line in source.splitlines():
        if line.startswith("# %%"):
            cells.append((kind, lines))
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
        else:
            lines.append(line)
    cells.append((kind, lines))
    return [(k, _trim(ls)) for k, ls in cells if any(s.strip() for s in ls)]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _prose(lines: list[str]) -> str:
    text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)
    return _SCRIPT_LINK.sub(r"](\1.md)", text)


def title_of(path: Path) -> str:
    """The first Markdown heading of a tutorial (its file name if it has none)."""
    for kind, lines in split_cells(path.read_text(encoding="utf-8")):
        if kind == "markdown":
            for line in _prose(lines).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def to_markdown(path: Path, figures: set[str]) -> str:
    """The page for one tutorial script; ``figures`` are the PNG names available to show."""
    out = [
        f"<!-- Generated from tutorials/{path.name} by docs/hooks/tutorials.py: edit the script."
        " -->",
        "",
    ]
    for kind, lines in split_cells(path.read_text(encoding="utf-8")):
        if kind == "markdown":
            out += [_prose(lines), ""]
            continue
        out += ["```python", *lines, "```", ""]
        for name in _SAVEFIG.findall("\n".join(lines)):
            if name in figures:
                out += [f"![{name}](outputs/{name})", ""]
            else:
                out += [f"*Running the script saves this figure as `tutorials/outputs/{name}`.*",
                        ""]
    source = f"tutorials/{path.name}"
    out += ["---", "",
            f"Run it: `python {source}` (add `--quick` for a small slice in seconds).", ""]
    return "\n".join(out)


def index_page(paths: list[Path]) -> str:
    """The tutorials' landing page: one line per tutorial."""
    out = [
        "# Tutorials",
        "",
        "Each tutorial is a Python script in `tutorials/` written in the percent format: run it",
        "as a script, or open it as a notebook (Jupyter with jupytext, or VS Code, where every",
        "`# %%` is a cell). The pages below are those scripts, rendered without running them.",
        "Install the extras first: `pip install -e \".[tutorials]\"`.",
        "",
    ]
    for path in paths:
        out.append(f"1. [{title_of(path)}]({path.stem}.md)")
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------- mkdocs events
def on_config(config: Any) -> Any:
    """Replace the nav entry ``Tutorials: tutorials/index.md`` by one entry per tutorial."""
    nav = config.get("nav") or []
    pages = ["tutorials/index.md"] + [
        {title_of(p): f"tutorials/{p.stem}.md"} for p in scripts()]
    for i, item in enumerate(nav):
        if isinstance(item, dict) and item.get("Tutorials") == "tutorials/index.md":
            nav[i] = {"Tutorials": pages}
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated tutorial pages (and any figures the tutorials have saved)."""
    paths = scripts()
    outputs = TUTORIALS / "outputs"
    figures: set[str] = set()
    for path in paths:
        for name in _SAVEFIG.findall(path.read_text(encoding="utf-8")):
            if (outputs / name).is_file():
                figures.add(name)
    files.append(File.generated(config, "tutorials/index.md", content=index_page(paths)))
    for path in paths:
        files.append(File.generated(config, f"tutorials/{path.stem}.md",
                                    content=to_markdown(path, figures)))
    for name in sorted(figures):
        files.append(File.generated(config, f"tutorials/outputs/{name}",
                                    abs_src_path=str(outputs / name)))
    return files
