"""Tests for minigrad.utils.viz: the DOT text of a graph, and rendering with or without Graphviz."""

from __future__ import annotations

import os
import re
import stat
import sys

import pytest

import minigrad as mg
import minigrad.nn as nn
from minigrad.utils import viz


def _nodes(dot: str) -> dict[str, str]:
    """DOT node id -> label."""
    return dict(re.findall(r'^\s*(n\d+) \[label="([^"]*)"', dot, flags=re.M))


def _edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(n\d+) -> (n\d+)", dot, flags=re.M)


def test_small_graph_ops_shapes_and_params():
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    lin = nn.Linear(2, 3)
    y = lin(x).tanh().sum()
    dot = viz.to_dot(y, params=lin)
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    labels = _nodes(dot)
    names = sorted(labels.values())
    # the ops named by class, the output, the named parameters and the unnamed leaf
    assert "Tanh" in names and "Sum" in names
    assert r"weight\n(3, 2)" in names and r"bias\n(3,)" in names
    assert r"leaf\n(1, 2)" in names and r"output\n()" in names
    # parameters green, other grad leaves yellow, output blue
    assert re.search(r'label="weight[^\]]*#c8f0c8', dot)
    assert re.search(r'label="leaf[^\]]*#fff3bf', dot)
    assert re.search(r'label="output[^\]]*#cfe2ff', dot)
    # edges point the way data flowed: leaf -> op -> ... -> output
    ids = {v: k for k, v in labels.items()}
    edges = _edges(dot)
    assert (ids[r"weight\n(3, 2)"], ids["Linear"]) in edges
    assert (ids["Sum"], ids[r"output\n()"]) in edges
    # every edge joins two declared nodes
    assert all(a in labels and b in labels for a, b in edges)


def test_shared_subgraph_drawn_once_and_constants_left_out():
    a = mg.tensor(2.0, requires_grad=True)
    c = mg.tensor(3.0)  # a constant: no gradient flows there, so no edge is recorded
    b = a * c
    y = b * b + b
    labels = _nodes(viz.to_dot(y, params={"a": a}))
    assert list(labels.values()).count("Mul") == 2  # b once, b * b once
    assert r"a\n()" in labels.values()
    assert not any(v.startswith("leaf") for v in labels.values())


def test_multi_output_edges_are_labelled():
    a, b = mg.randn(4, requires_grad=True).split(2)
    dot = viz.to_dot(a * b)
    assert '[label="[0]"]' in dot and '[label="[1]"]' in dot
    assert list(_nodes(dot).values()).count("Split") == 1


def test_several_outputs_and_show_shapes_off():
    x = mg.randn(3, requires_grad=True)
    dot = viz.to_dot([x.exp(), x.sum()], show_shapes=False, title="two outputs")
    labels = set(_nodes(dot).values())
    assert {"output 0", "output 1", "Exp", "Sum", "leaf"} <= labels
    assert 'label="two outputs"' in dot


def test_deep_recurrence_no_recursion_and_max_nodes():
    w = mg.randn(3, 3, requires_grad=True)
    h = mg.zeros(1, 3)
    for _ in range(5000):  # deeper than Python's recursion limit
        h = (h @ w).tanh()
    limit = sys.getrecursionlimit()
    dot = viz.to_dot(h.sum(), max_nodes=10_001)
    assert sys.getrecursionlimit() == limit
    assert list(_nodes(dot).values()).count("Tanh") == 5000
    short = viz.to_dot(h.sum(), max_nodes=20)
    assert "max_nodes=20" in short and len(_nodes(short)) < 30


def test_graph_freed_by_backward_is_said():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    assert "freed" in viz.to_dot(y)


def test_bad_input():
    with pytest.raises(TypeError, match="expected Tensors"):
        viz.to_dot([1.0])
    with pytest.raises(TypeError, match="params"):
        viz.to_dot(mg.tensor(1.0, requires_grad=True), params=[1])


def test_render_without_graphviz_writes_dot(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    x = mg.tensor([1.0], requires_grad=True)
    out = viz.render((x * x).sum(), tmp_path / "g.png")
    assert out == tmp_path / "g.dot" and out.read_text().startswith("digraph")
    assert not (tmp_path / "g.png").exists()
    said = capsys.readouterr().out
    assert "dot -Tpng" in said and "install" in said.lower()


@pytest.mark.skipif(os.name == "nt", reason="uses a shell script as a stand-in for dot")
def test_render_calls_dot_when_present(tmp_path, monkeypatch):
    # a stand-in `dot` that records its arguments and writes the output file
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text(f'#!/bin/sh\necho "$@" > "{bindir}/args"\n'
                    'while [ "$#" -gt 0 ]; do [ "$1" = "-o" ] && echo PNG > "$2"; shift; done\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", str(bindir))
    out = viz.render("digraph { a -> b }", tmp_path / "sub" / "g.svg")
    assert out == tmp_path / "sub" / "g.svg" and out.read_text().strip() == "PNG"
    assert (tmp_path / "sub" / "g.dot").read_text() == "digraph { a -> b }"
    assert (bindir / "args").read_text().split()[0] == "-Tsvg"


def test_utils_import_is_light():
    # `import minigrad.utils` must not pull in graphviz or matplotlib
    import subprocess

    code = ("import sys, minigrad.utils.viz; "
            "print(any(m.split('.')[0] in ('graphviz', 'matplotlib') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
