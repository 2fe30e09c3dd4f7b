"""A Griffe extension that lets minigrad's docstrings render well on the documentation site.

The docstrings are Google style (``Args:``, ``Returns:``) but keep two reStructuredText habits
that read well in ``help()``; this extension turns them into Markdown before mkdocstrings parses
them:

- roles: ``:func:`tbptt``` becomes a cross-reference to the object it names (a link where that
  object is on the site, inline code where it is not, such as a private helper); a name that
  resolves to nothing in minigrad is reported, which fails the strict build;
  ``:math:`\\theta``` becomes ``$\\theta$``;
- literal blocks: a paragraph ending in ``::`` followed by an indented block becomes a paragraph
  ending in ``:`` and a fenced code block (``Example::`` becomes a Google ``Examples:`` section);
- ``a, b: text`` in an ``Args:`` section (one entry for two parameters) becomes two entries.

It also gives an overriding method that has no docstring of its own the docstring of the
method it overrides (``Linear.forward`` shows ``Module.forward``'s), as ``inspect.getdoc`` and
``help()`` do, so the site and the docstring test agree on what is documented.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

import griffe

_logger = griffe.get_logger("griffe_minigrad")

_ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|attr|data|obj|exc|math):`([^`]+)`")
_SECTION_EXAMPLE = re.compile(r"^(\s*)Examples?::\s*$")
_EXTERNAL = ("os.", "sys.", "numpy.", "np.", "cupy.", "torch.")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _role_to_markdown(obj: griffe.Object, kind: str, target: str) -> str:
    if kind == "math":
        return f"${target}$"
    short = target.startswith("~")
    target = target.lstrip("~").strip()
    call = "()" if kind in ("func", "meth") else ""
    title = (target.rsplit(".", 1)[-1] if short else target) + call
    if target.startswith(_EXTERNAL) or target.startswith("_") or "._" in target:
        return f"`{title}`"
    head, _, rest = target.partition(".")
    path = None
    if head == "minigrad":  # a full path: it must exist
        try:
            obj.modules_collection[target]
            path, rest = target, ""
        except (KeyError, ValueError, griffe.AliasResolutionError):
            pass
    else:
        try:
            path = obj.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            pass
    if path is None or not path.startswith("minigrad"):
        if path is None and kind != "mod":
            _logger.warning("%s: reference to %r, which names nothing minigrad has "
                            "(write the full path, e.g. minigrad.nn.Linear)",
                            obj.path, target)
        return f"`{title}`"
    path = f"{path}.{rest}" if rest else path
    if "._" in path:
        return f"`{title}`"
    # Optional: a link where the target is on the site, plain code where it is not rendered
    # (a private helper); a name that resolves to nothing was reported above.
    return f'<autoref identifier="{path}" optional><code>{title}</code></autoref>'


_PARAM_SECTION = re.compile(
    r"^(\s*)(Args|Arguments|Parameters|Params|Attributes|Keyword Args|Other Parameters):\s*$")
_SHARED_ITEM = re.compile(r"^(\s*)(\w+(?:\s*,\s*\w+)+)(\s*\([^)]*\))?:(.*)$")


def _shared_items(lines: list[str]) -> list[str]:
    """Split ``a, b: text`` in an Args section (one entry for two names) into two entries."""
    out: list[str] = []
    section = None  # indentation of the current Args-like section title
    i = 0
    while i < len(lines):
        line = lines[i]
        title = _PARAM_SECTION.match(line)
        if title:
            section = len(title.group(1))
        elif line.strip() and section is not None and _indent(line) <= section:
            section = None
        item = _SHARED_ITEM.match(line) if section is not None else None
        if not item:
            out.append(line)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() and _indent(lines[j]) > _indent(line):
            j += 1
        pad, names, kind, text = item.groups()
        for name in (n.strip() for n in names.split(",")):
            out.append(f"{pad}{name}{kind or ''}:{text}")
            out.extend(lines[i + 1:j])
        i = j
    return out


def _literal_blocks(lines: list[str]) -> list[str]:
    """Turn ``text::`` + indented block into ``text:`` + a fenced code block."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.rstrip().endswith("::"):
            out.append(line)
            i += 1
            continue
        base = _indent(line)
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        block_start = j
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
            j += 1
        block = lines[block_start:j]
        while block and not block[-1].strip():
            block.pop()
        if not block:  # a "::" that introduces nothing: keep the text as is
            out.append(line)
            i += 1
            continue
        section = _SECTION_EXAMPLE.match(line)
        if section:
            out.append(f"{section.group(1)}Examples:")
            inner = min(_indent(b) for b in block if b.strip())
            if any(b.strip().startswith(">>>") for b in block):
                out.extend(block)  # doctest lines: the Google parser renders them itself
            else:
                pad = " " * inner
                out.extend([f"{pad}```python", *block, f"{pad}```"])
        else:
            text = line.rstrip()[:-2].rstrip()
            out.append(text + ":" if text.strip() else "")
            inner = min(_indent(b) for b in block if b.strip())
            pad = " " * base
            out.append("")
            out.append(f"{pad}```python")
            out.extend(pad + b[inner:] if b.strip() else "" for b in block)
            out.append(f"{pad}```")
        out.append("")
        i = j
    return out


def to_markdown(obj: griffe.Object, text: str) -> str:
    """A docstring with reStructuredText roles and literal blocks rewritten as Markdown."""
    lines = _shared_items(_literal_blocks(text.splitlines()))
    fenced = False
    for k, line in enumerate(lines):
        if line.strip().startswith("```"):
            fenced = not fenced
        elif not fenced and ":`" in line:
            lines[k] = _ROLE.sub(lambda m: _role_to_markdown(obj, m.group(1), m.group(2)), line)
    return "\n".join(lines)


def _builtins_stay_builtins(obj: griffe.Object) -> None:
    """Let ``bool`` in an annotation mean the builtin, not the dtype ``minigrad.bool``.

    Griffe looks a name up in the enclosing packages too, and minigrad's top level defines
    ``bool`` (the dtype, as ``torch.bool``), so ``flag: bool`` would render as ``bool_``.
    """
    exprs = []
    if obj.is_function:
        exprs = [param.annotation for param in obj.parameters] + [obj.returns]
    elif obj.is_attribute:
        exprs = [obj.annotation]
    for expr in exprs:
        if expr is None or isinstance(expr, str):
            continue
        for name in expr.iterate(flat=True):
            if (isinstance(name, griffe.ExprName) and hasattr(builtins, name.name)
                    and isinstance(name.parent, griffe.Object)
                    and name.name not in name.parent.module.members):
                name.parent = None


def _walk(obj: griffe.Object) -> Any:
    yield obj
    for member in obj.members.values():
        if not member.is_alias and member.parent is obj:
            yield from _walk(member)


class MinigradDocstrings(griffe.Extension):
    """Markdown-ify docstrings and inherit missing method docstrings (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        objects = list(_walk(pkg))
        for obj in objects:
            if obj.is_class:
                self._inherit(obj)
        for obj in objects:
            _builtins_stay_builtins(obj)
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(obj, obj.docstring.value)

    # griffe < 2 calls the same hook by its old name
    on_package_loaded = on_package

    @staticmethod
    def _inherit(cls: griffe.Class) -> None:
        try:
            mro = cls.mro()
        except Exception:  # a base that griffe cannot see (outside the package)
            return
        for name, member in cls.members.items():
            if member.is_alias or member.docstring is not None or name.startswith("_"):
                continue
            for base in mro:
                parent = base.members.get(name)
                if parent is not None and not parent.is_alias and parent.docstring is not None:
                    member.docstring = griffe.Docstring(parent.docstring.value,
                                                        parent=member)
                    break
