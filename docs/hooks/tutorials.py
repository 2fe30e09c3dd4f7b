"""MkDocs hook: the tutorials' pages (English and Chinese), with the outputs of a full run.

The pages are built from the percent-format scripts (``tutorials/NN_*.py`` and
``tutorials/zh/NN_*.py``): each ``# %% [markdown]`` cell becomes prose and each ``# %%`` code cell
a fenced Python block. Nothing is executed here. Under each code cell come what it printed and
the figures it drew in the last full run, stored by ``docs/build_tutorial_pages.py --full`` in
``docs/tutorials/runs/NN_name.json`` and ``docs/tutorials/figures/``, but only while the stored
code is the script's code (a Chinese page shows the English run: its code cells are the same).
A page whose script changed since its run shows the code alone, with a note saying so, and
``tests/test_docs.py`` fails until the runs are redone.

The pages are generated in memory (nothing is written into ``docs/``) under ``tutorials/`` and
``zh/tutorials/``, and listed in the navigation in file order in place of the entries
``tutorials/index.md`` and ``zh/tutorials/index.md``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "docs" / "tutorials" / "runs"
MAX_LINES = 150  # of printed output shown under one cell
_SAVEFIG = re.compile(r"""savefig\([^,]+,\s*["']([^"']+\.png)["']""")
_SCRIPT_LINK = re.compile(r"\]\((?:tutorials/)?([0-9][0-9]_[A-Za-z0-9_]+)\.py\)")

_spec = importlib.util.spec_from_file_location("_tutorials_build", ROOT / "tutorials" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
split_cells = build.split_cells

# What the pages say, in each language; "zh" pages live under zh/.
WORDS = {
    "en": {
        "folder": "tutorials", "figures": "figures/", "output": "output",
        "open": "Open it as a notebook: [Colab]({colab}) · [Binder]({binder}).",
        "run": "Run it: `python {source}` (add `--quick` for a small slice in seconds).",
        "ran": "The outputs and figures on this page are those of a full run of this script "
               "({finished}, {seconds:.0f} s on {machine}).",
        "stale": "The outputs of this tutorial are not shown: the script changed since its last "
                 "full run. Run `python docs/build_tutorial_pages.py --full {stem}`.",
        "unrun": "*Running the script saves this figure as `tutorials/outputs/{name}`.*",
        "index": ["# Tutorials", "",
                  "Each tutorial is a Python script in `tutorials/` written in the percent "
                  "format: run it as a script, or open it as a notebook (Jupyter with jupytext, "
                  "VS Code, or the ready-made notebooks in `tutorials/notebooks/`, also on Colab "
                  "and Binder from each page). The pages show each script with what a full run "
                  "printed and drew. Install the extras first: `pip install -e \".[tutorials]\"`.",
                  ""],
    },
    "zh": {
        "folder": "zh/tutorials", "figures": "../../tutorials/figures/", "output": "输出",
        "open": "以 notebook 打开：[Colab]({colab}) · [Binder]({binder})。",
        "run": "运行：`python {source}`（加上 `--quick` 只用一小部分数据，几秒钟跑完）。",
        "ran": "本页的输出和图来自英文版脚本的一次完整运行（代码单元格与本页完全相同；"
               "{finished}，用时 {seconds:.0f} 秒，{machine}）。",
        "stale": "本教程的输出暂未显示：脚本在上次完整运行之后改过。"
                 "请运行 `python docs/build_tutorial_pages.py --full {stem}`。",
        "unrun": "*运行脚本后，这张图保存为 `tutorials/outputs/{name}`。*",
        "index": ["# 教程（中文版）", "",
                  "每篇教程都是 `tutorials/zh/` 里的一个 percent 格式的 Python 脚本：可以直接运行，"
                  "也可以当作 notebook 打开（Jupyter 加 jupytext、VS Code，或者 "
                  "`tutorials/notebooks/zh/` 里现成的 notebook，每页顶部都有 Colab 和 Binder "
                  "链接）。代码与英文版逐字相同，只有文字是中文。先安装：`pip install -e "
                  "\".[tutorials]\"`。其余教程见[英文版](../../tutorials/index.md)。", ""],
    },
}


def scripts(lang: str = "en") -> list[Path]:
    """The tutorial scripts of one edition, in order."""
    return build.scripts(build.TUTORIALS if lang == "en" else build.ZH)


def _prose(lines: list[str], lang: str) -> str:
    text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)

    def link(m: re.Match) -> str:
        stem = m.group(1)
        if lang == "en" or (build.ZH / f"{stem}.py").is_file():
            return f"]({stem}.md)"
        return f"](../../tutorials/{stem}.md)"  # no Chinese version: the English page

    return _SCRIPT_LINK.sub(link, text)


def title_of(path: Path) -> str:
    """The first Markdown heading of a tutorial (its file name if it has none)."""
    for kind, lines in split_cells(path.read_text(encoding="utf-8")):
        if kind == "markdown":
            for line in _prose(lines, "en").splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def load_run(stem: str) -> dict | None:
    """The stored full run of tutorial ``stem``, or None."""
    path = RUNS / f"{stem}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def run_matches(run: dict | None, path: Path) -> bool:
    """True when ``run`` ran exactly the code cells of the script at ``path``."""
    return run is not None and [c["code"] for c in run["cells"]] == build.code_cells(
        path.read_text(encoding="utf-8"))


def _output_block(text: str, title: str) -> list[str]:
    lines = text.rstrip("\n").splitlines()
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"... ({len(lines) - MAX_LINES} more lines)"]
    return [f'```text title="{title}"', *lines, "```", ""]


def to_markdown(path: Path, run: dict | None, lang: str = "en") -> str:
    """The page for one tutorial script, with ``run``'s outputs when it ran this code."""
    words = WORDS[lang]
    source = path.relative_to(ROOT).as_posix()
    shown = run if run_matches(run, path) else None
    out = [f"<!-- Generated from {source} by docs/hooks/tutorials.py: edit the script. -->", ""]
    links = words["open"].format(colab=build.colab_url(path), binder=build.binder_url(path))
    if run is not None and shown is None:
        links += "\n\n!!! warning\n    " + words["stale"].format(stem=path.stem)
    code_index = 0
    for kind, lines in split_cells(path.read_text(encoding="utf-8")):
        if kind == "markdown":
            prose = _prose(lines, lang)
            if links and prose.startswith("# "):  # the links go under the title
                title, _, rest = prose.partition("\n")
                prose = f"{title}\n\n{links}\n{rest}"
                links = ""
            out += [prose, ""]
            continue
        out += ["```python", *lines, "```", ""]
        if shown is not None:
            cell = shown["cells"][code_index]
            if cell["output"].strip():
                out += _output_block(cell["output"], words["output"])
            for name in cell["figures"]:
                out += [f"![{name}]({words['figures']}{name})", ""]
        else:
            for name in _SAVEFIG.findall("\n".join(lines)):
                out += [words["unrun"].format(name=name), ""]
        code_index += 1
    out += ["---", "", words["run"].format(source=source), ""]
    if shown is not None:
        out += [words["ran"].format(**shown), ""]
    return "\n".join(out)


def index_page(paths: list[Path], lang: str = "en") -> str:
    """A tutorials landing page: one line per tutorial."""
    out = list(WORDS[lang]["index"])
    for path in paths:
        out.append(f"1. [{title_of(path)}]({path.stem}.md)")
    out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------------------- mkdocs events
def _expand(nav: Any) -> Any:
    """The nav with each tutorials index entry followed by one entry per tutorial."""
    if isinstance(nav, list):
        return [_expand(item) for item in nav]
    if isinstance(nav, dict):
        out = {}
        for key, value in nav.items():
            for lang in WORDS:
                if value == f"{WORDS[lang]['folder']}/index.md":
                    value = [value] + [{title_of(p): f"{WORDS[lang]['folder']}/{p.stem}.md"}
                                       for p in scripts(lang)]
                    break
            else:
                value = _expand(value)
            out[key] = value
        return out
    return nav


def on_config(config: Any) -> Any:
    """Replace the nav entries of the tutorials' index pages by one entry per tutorial."""
    config["nav"] = _expand(config.get("nav") or [])
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated tutorial pages (the figures are files under docs/ already)."""
    for lang, words in WORDS.items():
        paths = scripts(lang)
        files.append(File.generated(config, f"{words['folder']}/index.md",
                                    content=index_page(paths, lang)))
        for path in paths:
            files.append(File.generated(config, f"{words['folder']}/{path.stem}.md",
                                        content=to_markdown(path, load_run(path.stem), lang)))
    return files
