"""The engine's shape, checked: no import cycle, imports go one way, the core stays small.

Imports are read from the source with ``ast`` (those inside functions too), so a cycle hidden
behind a lazy import fails here as surely as one at the top of a file.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "minigrad"
CORE_PAGE = ROOT / "docs" / "read-these-first.md"
CORE_BUDGET = 500  # lines of code in the core files, together

# Bottom to top. A module may import from its own layer and the layers below, never above.
LAYERS = [
    ("backend and dtypes", ("minigrad.backend", "minigrad.dtypes", "minigrad._fake_cuda",
                            "minigrad.cuda")),
    ("the autograd core and its features", ("minigrad.autograd",)),
    ("the ops", ("minigrad.ops",)),
    ("Tensor's methods and the factories", ("minigrad.tensor", "minigrad.creation")),
    ("the recurrence compiler", ("minigrad.jit",)),
    ("nn", ("minigrad.nn",)),
]


def module_files() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    """The package's modules that ``name`` imports, with the line of the first import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: dict[str, int] = {}
    for node in ast.walk(tree):  # every import, at the top or inside a function
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..ops import y
                head = package[:len(package) - node.level + 1]
                base = ".".join(head + ([node.module] if node.module else []))
            # `from pkg import sub` imports the module pkg.sub when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                       for a in node.names]
        for t in targets:
            if t in modules and t != name:
                found.setdefault(t, node.lineno)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return path[path.index(n):] + [n]
            if n not in state:
                cycle = visit(n)
                if cycle:
                    return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            if cycle:
                return cycle
    return None


def layer_of(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return len(LAYERS)  # optim, data, serialization, interop, testing, utils, the package


def code_lines(path: Path) -> int:
    """Lines of code: docstrings, comments and blank lines not counted."""
    source = path.read_text(encoding="utf-8")
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines - docstrings)


def core_table() -> dict[str, int]:
    """The rows ``| `path` | count |`` of the core table on the "Read these first" page."""
    rows = re.findall(r"^\|\s*`(minigrad/[\w/]+\.py)`\s*\|\s*(\d+)\s*\|", CORE_PAGE.read_text(
        encoding="utf-8"), flags=re.MULTILINE)
    return {path: int(n) for path, n in rows}


# ------------------------------------------------------------------------------------ tests

def test_no_import_cycle() -> None:
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(
        f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:])) + f" -> {cycle[-1]}"


def test_imports_go_one_way() -> None:
    upward = [f"{m} (line {line}) imports {n}, which is in {LAYERS[layer_of(n)][0]}"
              for m, deps in import_graph().items() for n, line in deps.items()
              if layer_of(n) > layer_of(m) and layer_of(m) < len(LAYERS)]
    assert not upward, "imports against the layering:\n" + "\n".join(upward)


def test_cycle_finder_finds_a_planted_cycle() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": 1}, "b": {}}) is None


def test_imports_inside_functions_are_counted(tmp_path: Path) -> None:
    mod = tmp_path / "m.py"
    mod.write_text("def f():\n    from minigrad.tensor import Tensor\n    return Tensor\n")
    assert imports_of("minigrad.fake", mod, module_files()) == {"minigrad.tensor": 2}


def test_core_page_counts_are_true_and_within_budget() -> None:
    table = core_table()
    assert table, f"no core table found in {CORE_PAGE.relative_to(ROOT)}"
    actual = {path: code_lines(ROOT / path) for path in table}
    assert table == actual, (f"{CORE_PAGE.relative_to(ROOT)} lists {table}, the files have "
                             f"{actual} lines of code: update the page")
    assert sum(actual.values()) <= CORE_BUDGET, (
        f"the core has {sum(actual.values())} lines of code, more than {CORE_BUDGET}: move a "
        "feature out into a module of its own")


def test_code_lines_skip_docstrings_comments_and_blanks(tmp_path: Path) -> None:
    src = tmp_path / "x.py"
    src.write_text('"""Doc\n\nstring."""\n\n# comment\ndef f(x):\n    """Doc."""\n'
                   '    return (x +\n            1)  # why\n')
    assert code_lines(src) == 3  # def, and the two lines of the return
