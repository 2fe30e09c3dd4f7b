"""Draw the computation graph behind a tensor, as Graphviz DOT text.

    import minigrad as mg
    from minigrad.utils import viz

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    print(viz.to_dot(y, params={"x": x}))   # DOT text: paste it into any Graphviz viewer
    viz.render(y, "graph.png")               # runs Graphviz's `dot` if it is installed

The picture reads bottom-up, the way the forward pass ran: leaf tensors (inputs and parameters)
at the bottom, one oval per op named by its class (``Mul``, ``Sum``, ...), the output at the
top. Backward walks the same arrows the other way. Leaves that require grad are highlighted
(parameters you named in green, other leaves in yellow), and outputs in blue.

The graph is freed by ``backward()`` (unless ``retain_graph=True``), so draw it before that.
Nothing here imports Graphviz: :func:`to_dot` only builds a string, and :func:`render` calls
the ``dot`` program when it is on the PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Mapping

from minigrad.utils.files import atomic_write

__all__ = ["render", "to_dot"]

_OUT_STYLE = 'shape=box, style="rounded,filled", fillcolor="#cfe2ff"'
_PARAM_STYLE = 'shape=box, style="rounded,filled", fillcolor="#c8f0c8"'
_LEAF_STYLE = 'shape=box, style="rounded,filled", fillcolor="#fff3bf"'
_CONST_STYLE = 'shape=box, style="rounded", color="#888888"'
_OP_STYLE = 'shape=ellipse, style=filled, fillcolor="#eeeeee"'


def _shape(t: Any) -> str:
    return "(" + ", ".join(str(int(n)) for n in t.shape) + ("," if len(t.shape) == 1 else "") + ")"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _named(params: Any) -> dict[int, str]:
    """id(tensor) -> name, from a dict of tensors or anything with ``named_parameters()``."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        params = dict(params.named_parameters())
    if not isinstance(params, Mapping):
        raise TypeError("to_dot: params must be a dict {name: tensor} or a Module, got "
                        f"{type(params).__name__}")
    return {id(t): str(name) for name, t in params.items()}


def to_dot(tensors: Any, params: Mapping[str, Any] | Any = None, *, show_shapes: bool = True,
           rankdir: str = "BT", max_nodes: int = 500, title: str | None = None) -> str:
    """Return the Graphviz DOT text of the graph that produced ``tensors``.

    Args:
        tensors: one Tensor or a list/tuple of Tensors (the outputs to draw from).
        params: optional names for tensors: a dict ``{name: tensor}`` or a Module (its
            ``named_parameters()``); named leaves are labelled and drawn green.
        show_shapes: print each tensor's shape under its name. Op nodes keep only what backward
            needs, so intermediate results have no shape to show; leaves and outputs do.
        rankdir: Graphviz layout direction; "BT" (bottom to top) puts the inputs at the bottom.
        max_nodes: stop after this many op nodes (a long recurrence has thousands) and draw a
            note saying how many were left out.
        title: an optional label for the whole picture.

    The graph is walked with an explicit stack, not recursion, so a 10,000-step recurrence is
    fine (but drawn only up to ``max_nodes``).
    """
    from minigrad.tensor import Tensor

    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(roots):
        if not isinstance(t, Tensor):
            raise TypeError(f"to_dot: expected Tensors, got {type(t).__name__} at position {i}")
    names = _named(params)
    ids: dict[int, str] = {}  # id(node or tensor) -> DOT node id
    keep: list[Any] = []  # hold objects whose id() we use, so ids are not reused meanwhile
    lines = [f"digraph minigrad {{\n  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    if title:
        lines.append(f"  labelloc=t; label={_quote(title)};")

    def dot_id(obj: Any) -> tuple[str, bool]:
        key = id(obj)
        if key in ids:
            return ids[key], False
        ids[key] = f"n{len(ids)}"
        keep.append(obj)
        return ids[key], True

    def tensor_label(t: Any, default: str) -> str:
        name = names.get(id(t), default)
        return f"{name}\n{_shape(t)}" if show_shapes else name

    def leaf_line(t: Any) -> str:
        tid, _ = dot_id(t)
        if id(t) in names:
            style = _PARAM_STYLE
        elif t.requires_grad:
            style = _LEAF_STYLE
        else:
            style = _CONST_STYLE
        return f"  {tid} [label={_quote(tensor_label(t, 'leaf'))}, {style}];"

    stack: list[Any] = []
    for k, t in enumerate(roots):
        label = tensor_label(t, "output" if len(roots) == 1 else f"output {k}")
        if t._node is None:  # a root that is a leaf: draw it, nothing below it
            lines.append(leaf_line(t).replace(_CONST_STYLE, _OUT_STYLE))
            continue
        tid, _ = dot_id(t)
        lines.append(f"  {tid} [label={_quote(label)}, {_OUT_STYLE}];")
        nid, new = dot_id(t._node)
        lines.append(f"  {nid} -> {tid};")
        if new:
            stack.append(t._node)

    drawn = 0
    skipped = 0
    while stack:
        node = stack.pop()
        nid = ids[id(node)]
        if drawn >= max_nodes:
            skipped += 1
            lines.append(f'  {nid} [label="...", shape=plaintext];')
            continue
        drawn += 1
        lines.append(f"  {nid} [label={_quote(type(node).__name__)}, {_OP_STYLE}];")
        edges = node._edges
        if edges is None:  # freed by backward
            fid, _ = dot_id(("freed", id(node)))
            lines.append(f'  {fid} [label="(graph freed by backward)", shape=plaintext];')
            lines.append(f"  {fid} -> {nid};")
            continue
        for edge in edges:
            if edge is None:  # an input that needs no gradient (a constant): not recorded
                continue
            target, index = edge
            if index == -1:  # a leaf tensor
                tid, new = dot_id(target)
                if new:
                    lines.append(leaf_line(target))
                lines.append(f"  {tid} -> {nid};")
                continue
            pid, new = dot_id(target)
            attrs = f' [label="[{index}]"]' if getattr(target, "_n_out", 1) > 1 else ""
            lines.append(f"  {pid} -> {nid}{attrs};")
            if new:
                stack.append(target)
    if skipped:
        lines.append(f'  note [label="graph cut at max_nodes={max_nodes}: the ops below each '
                     '\\"...\\" are not drawn", shape=note];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_or_tensor: Any, path: str | os.PathLike[str], *, quiet: bool = False,
           **to_dot_kwargs: Any) -> Path:
    """Write the graph to ``path`` (``.png``, ``.svg`` or ``.pdf``), using Graphviz if present.

    ``dot_or_tensor`` is DOT text (from :func:`to_dot`) or a Tensor / list of Tensors (passed
    to :func:`to_dot` with ``to_dot_kwargs``). The DOT text is always written next to ``path``
    with the suffix ``.dot``. If Graphviz's ``dot`` program is on the PATH, it renders ``path``
    and that path is returned; otherwise the ``.dot`` path is returned and a message says how to
    render it (``apt install graphviz`` / ``brew install graphviz``, then ``dot -Tpng ...``).
    """
    text = dot_or_tensor if isinstance(dot_or_tensor, str) else to_dot(dot_or_tensor,
                                                                        **to_dot_kwargs)
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower() or "png"
    dot_path = out.with_suffix(".dot")
    if dot_path == out:
        fmt = "dot"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dot_path, text.encode("utf-8"), who="viz.render")
    exe = shutil.which("dot")
    if fmt == "dot":
        return dot_path
    if exe is None:
        if not quiet:
            print(f"Graphviz's `dot` was not found, so the graph was written as DOT text to "
                  f"{dot_path}.\nTo draw it, install Graphviz (apt install graphviz, brew install "
                  f"graphviz, conda install graphviz) and run:\n  dot -T{fmt} {dot_path} -o {out}")
        return dot_path
    subprocess.run([exe, f"-T{fmt}", str(dot_path), "-o", str(out)], check=True,
                   capture_output=True)
    return out

