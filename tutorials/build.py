"""Build the tutorials' notebooks and keep the Chinese edition's code in step: one command.

    python tutorials/build.py           # write tutorials/notebooks/**.ipynb, sync tutorials/zh/
    python tutorials/build.py --check   # change nothing; exit 1 and say what is out of date

The percent-format scripts (``tutorials/NN_*.py``) are the source of truth. This tool

* **syncs the Chinese edition**: every code cell of ``tutorials/zh/NN_*.py`` is replaced by the
  code cell at the same position in the English script (the Markdown cells, translated, stay as
  they are), so the two editions run the very same code. The two must have the same number of
  code cells; if not (a cell was added to the English script), the tool says so and you add the
  translated prose around the new cell by hand, with an empty ``# %%`` cell where it goes.
* **writes one notebook per script** with jupytext (``tutorials/notebooks/`` and
  ``tutorials/notebooks/zh/``), without outputs. Their first code cell installs minigrad when
  the kernel does not have it (Colab, Binder), from :data:`INSTALL`, then holds the
  ``QUICK = False`` switch. The notebooks are committed so that Colab and Binder can open them
  from the repository with one link (:func:`colab_url`, :func:`binder_url`).

The test suite checks that both are up to date (``tests/test_notebooks.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # minigrad from this checkout, installed or not
from minigrad.utils.files import atomic_write  # noqa: E402

TUTORIALS = ROOT / "tutorials"
ZH = TUTORIALS / "zh"
NOTEBOOKS = TUTORIALS / "notebooks"
PATTERN = "[0-9][0-9]_*.py"
HEADER = re.compile(r"^# %%.*$", flags=re.M)


def _project_field(section: str, key: str) -> str:
    """One string field of pyproject.toml (a regex: tomllib is not in Python 3.10)."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(rf"^\[{re.escape(section)}\]\n(.*?)(?=^\[|\Z)", text, flags=re.M | re.S)
    found = block and re.search(rf'^{key}\s*=\s*"([^"]+)"', block.group(1), flags=re.M)
    if not found:
        raise SystemExit(f"pyproject.toml has no {key} = \"...\" under [{section}]")
    return found.group(1)


#: The repository the links point to and the notebooks install from (pyproject's URL).
REPOSITORY = _project_field("project.urls", "Repository")
#: The distribution name (``pip install NAME``); the import name is always ``minigrad``.
DISTRIBUTION = _project_field("project", "name")
#: What a kernel without minigrad installs: the one install line of every notebook. Until the
#: distribution is on PyPI it comes from the repository; then this becomes
#: ``f"{DISTRIBUTION}[tutorials]"``.
INSTALL = f"{DISTRIBUTION}[tutorials] @ git+{REPOSITORY}"
BRANCH = "main"


# ------------------------------------------------------------------------------------- cells
def raw_cells(source: str) -> list[tuple[str, str]]:
    """``[(header, body)]`` losslessly: ``"".join(h + b ...)`` gives ``source`` back.

    ``header`` is the ``# %%`` line with its newline (``""`` for text before the first one);
    ``body`` everything up to the next header.
    """
    starts = [m.start() for m in HEADER.finditer(source)]
    if not starts or starts[0] != 0:
        starts = [0] + starts
    cells = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(source)
        chunk = source[start:end]
        if HEADER.match(chunk):
            line_end = chunk.find("\n") + 1 or len(chunk)
            cells.append((chunk[:line_end], chunk[line_end:]))
        else:
            cells.append(("", chunk))
    return cells


def kind_of(header: str) -> str:
    """``"markdown"`` or ``"code"`` for a cell header (text before any header is code)."""
    return "markdown" if "[markdown]" in header else "code"


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def split_cells(source: str) -> list[tuple[str, list[str]]]:
    """``[(kind, lines)]``, kind ``"markdown"`` or ``"code"``, in file order; blank lines
    around a cell dropped, empty cells skipped."""
    cells = [(kind_of(h), _trim(body.splitlines())) for h, body in raw_cells(source)]
    return [(k, lines) for k, lines in cells if any(s.strip() for s in lines)]


def code_cells(source: str) -> list[str]:
    """The code cells' text, in order (what must be identical across the two editions)."""
    return ["\n".join(lines) for kind, lines in split_cells(source) if kind == "code"]


def scripts(folder: Path = TUTORIALS) -> list[Path]:
    """The tutorial scripts of one edition, in order."""
    return sorted(folder.glob(PATTERN))


# --------------------------------------------------------------------------- Chinese edition
def synced(english: str, chinese: str, name: str = "") -> str:
    """``chinese`` with each of its code cells replaced by the English one at that position."""
    en_code = code_cells(english)
    zh = raw_cells(chinese)
    zh_code = [i for i, (h, body) in enumerate(zh) if kind_of(h) == "code" and h]
    if len(zh_code) != len(en_code):
        raise SystemExit(
            f"tutorials/zh/{name} has {len(zh_code)} code cells, tutorials/{name} has "
            f"{len(en_code)}: add or remove '# %%' cells in the Chinese script (with their "
            "translated prose) so that they line up, then run this again")
    out = list(zh)
    for i, code in zip(zh_code, en_code):
        header, body = zh[i]
        newlines = len(body) - len(body.rstrip("\n"))  # 1 + the blank lines before the next cell
        out[i] = (header, code + "\n" * max(newlines, 1))
    return "".join(h + b for h, b in out)


# --------------------------------------------------------------------------------- notebooks
def first_cell_prelude() -> str:
    """What every notebook's first code cell runs before the ``QUICK`` switch."""
    return (
        "# On Colab or Binder, install minigrad (and matplotlib, tqdm) into this kernel first.\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n\n"
        "if importlib.util.find_spec(\"minigrad\") is None:\n"
        "    subprocess.check_call([sys.executable, \"-m\", \"pip\", \"install\", \"-q\",\n"
        f"                           \"{INSTALL}\"])\n"
        "    importlib.invalidate_caches()  # so that the import below sees the new package\n\n")


def notebook(source: str, name: str) -> str:
    """The ``.ipynb`` text for one tutorial script's ``source`` (no outputs; deterministic);
    ``name`` (the script's path) is for messages."""
    import jupytext  # the tutorials extra; imported here so the cell helpers need nothing

    nb = jupytext.reads(source, fmt="py:percent")
    first = next(c for c in nb.cells if c.cell_type == "code")
    if not re.search(r"^QUICK = False$", first.source, flags=re.M):
        raise SystemExit(
            f"{name}: the first code cell must be the quick-mode switch, as in the other "
            "tutorials: a cell '# %%' holding 'QUICK = False' before the imports, the helpers "
            "imported with 'from minigrad.utils.tutorial import ..., quick_mode' (not from "
            "_helpers, which a notebook does not have), and 'QUICK = quick_mode(QUICK)' before "
            "banner(...)")
    first.source = first_cell_prelude() + first.source
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # fixed ids, so an unchanged script gives an unchanged notebook
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return jupytext.writes(nb, fmt="ipynb")


def notebook_path(script: Path) -> Path:
    """Where the notebook of a script goes: tutorials/notebooks[/zh]/NN_name.ipynb."""
    sub = script.parent.relative_to(TUTORIALS)
    return NOTEBOOKS / sub / (script.stem + ".ipynb")


def colab_url(script: Path) -> str:
    """Open the committed notebook of ``script`` in Google Colab."""
    rel = notebook_path(script).relative_to(ROOT).as_posix()
    repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/{rel}"


def binder_url(script: Path) -> str:
    """Open the committed notebook of ``script`` in JupyterLab on mybinder.org."""
    rel = notebook_path(script).relative_to(ROOT).as_posix()
    repo = REPOSITORY.removeprefix("https://github.com/")
    return f"https://mybinder.org/v2/gh/{repo}/{BRANCH}?labpath={rel.replace('/', '%2F')}"


LINKS_START, LINKS_END = "<!-- notebooks: start -->", "<!-- notebooks: end -->"


def links_block() -> str:
    """The README's table of notebooks with their Colab and Binder links (between markers)."""
    rows = [LINKS_START,
            "| notebook | open it in | 中文 |",
            "|---|---|---|"]
    for script in scripts(TUTORIALS):
        nb = notebook_path(script).relative_to(TUTORIALS).as_posix()
        zh = ZH / script.name
        zh_cell = (f"[Colab]({colab_url(zh)}) · [Binder]({binder_url(zh)})" if zh.is_file()
                   else "")
        rows.append(f"| [{nb}]({nb}) | [Colab]({colab_url(script)}) · "
                    f"[Binder]({binder_url(script)}) | {zh_cell} |")
    return "\n".join(rows + [LINKS_END])


def with_links(readme: str) -> str:
    """``readme`` with the text between the markers replaced by :func:`links_block`."""
    start, end = readme.find(LINKS_START), readme.find(LINKS_END)
    if start < 0 or end < start:
        raise SystemExit(f"tutorials/README.md needs the two lines {LINKS_START} and "
                         f"{LINKS_END} where the notebook links go")
    return readme[:start] + links_block() + readme[end + len(LINKS_END):]


SWITCH_CELL = ("# %%\n"
               "# Quick mode runs the same code on a small slice of the data, in seconds. In a "
               "notebook,\n# set it here; from a terminal, `--quick` or MINIGRAD_QUICK=1 turn it "
               "on as well.\nQUICK = False\n\n")


def with_switch(source: str, name: str = "") -> str:
    """A tutorial written for the old ``_helpers.py`` given the quick-mode switch: a first code
    cell ``QUICK = False``, the helpers imported from ``minigrad.utils.tutorial`` and
    ``QUICK = quick_mode(QUICK)`` before ``banner(...)``. (Run ``ruff check --fix`` after, to
    sort the imports.)"""
    if re.search(r"^QUICK = False$", source, flags=re.M):
        return source
    helpers = re.search(r"^from _helpers import (.*)$", source, flags=re.M)
    banner = re.search(r"^banner\(", source, flags=re.M)
    first = re.search(r"^# %%$", source, flags=re.M)
    if not (helpers and banner and first):
        raise SystemExit(f"{name}: expected a code cell with 'from _helpers import ...' and "
                         "'banner(...)'; add the switch by hand")
    names = [n.strip() for n in helpers.group(1).split(",") if n.strip() != "QUICK"]
    names = sorted({*names, "quick_mode"}, key=lambda s: (not s[0].isupper(), s))
    out = (source[:banner.start()] + "QUICK = quick_mode(QUICK)\n" + source[banner.start():])
    out = out.replace(helpers.group(0),
                      "from minigrad.utils.tutorial import " + ", ".join(names), 1)
    return out[:first.start()] + SWITCH_CELL + out[first.start():]


# ------------------------------------------------------------------------------------- main
def _write(path: Path, text: str) -> None:
    """Atomically, and only when it changes (keeps timestamps and git quiet)."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"), who="tutorials/build.py")
    print(f"wrote {path.relative_to(ROOT)}")


def expected_files() -> dict[Path, str]:
    """Every file this tool writes, with the text it should hold."""
    want: dict[Path, str] = {}
    for zh in scripts(ZH):
        en = TUTORIALS / zh.name
        if not en.is_file():
            raise SystemExit(f"tutorials/zh/{zh.name} has no English original tutorials/{zh.name}")
        want[zh] = synced(en.read_text(encoding="utf-8"), zh.read_text(encoding="utf-8"),
                          zh.name)
    for script in scripts(TUTORIALS) + scripts(ZH):
        # a Chinese notebook is built from the synced text, so one run of the tool suffices
        source = want.get(script) or script.read_text(encoding="utf-8")
        want[notebook_path(script)] = notebook(source, script.relative_to(ROOT).as_posix())
    readme = TUTORIALS / "README.md"
    want[readme] = with_links(readme.read_text(encoding="utf-8"))
    return want


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; list the files that are out of date, exit 1 if any")
    parser.add_argument("--add-switch", nargs="+", type=Path, metavar="SCRIPT",
                        help="give these tutorials (written for _helpers.py) the QUICK switch, "
                             "then stop")
    args = parser.parse_args(argv)
    if args.add_switch:
        for path in args.add_switch:
            _write(path.resolve(), with_switch(path.read_text(encoding="utf-8"), str(path)))
        print("now run: ruff check --fix --select I tutorials/ && python tutorials/build.py")
        return 0
    want = expected_files()
    stale = [p for p, text in want.items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    known = set(want)
    extra = [p for p in NOTEBOOKS.rglob("*.ipynb") if p not in known]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}")
        for p in extra:
            print(f"no script for: {p.relative_to(ROOT)}")
        if stale or extra:
            print("run: python tutorials/build.py")
        return 1 if stale or extra else 0
    for p in stale:
        _write(p, want[p])
    for p in extra:
        p.unlink()
        print(f"removed {p.relative_to(ROOT)} (its script is gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
