"""graflow_core.utils.graph: ASCII and Mermaid drawings, dependency listings, build_graph."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import time

import pytest

from graflow_core.core.decorators import task
from graflow_core.core.graph import TaskGraph
from graflow_core.core.task import Task
from graflow_core.core.workflow import WorkflowContext, workflow
from graflow_core.exceptions import GraflowError
from graflow_core.utils.graph import (
    OptionalDependencyError,
    build_graph,
    draw_ascii,
    draw_mermaid,
    draw_mermaid_png,
    draw_png,
    show_graph_info,
    visualize_dependencies,
)


def _etl() -> WorkflowContext:
    """fetch >> ((ta >> sub) | tb) >> store"""
    with workflow("etl") as wf:

        @task
        def fetch() -> int:
            return 1

        @task
        def ta() -> int:
            return 2

        @task
        def sub() -> int:
            return 3

        @task
        def tb() -> int:
            return 4

        @task
        def store() -> int:
            return 5

        fetch >> ((ta >> sub) | tb) >> store
    return wf


def _chain(*ids: str) -> TaskGraph:
    with workflow("chain") as wf:
        tasks = [Task(i) for i in ids]
        for a, b in itertools.pairwise(tasks):
            a >> b
    return wf.graph


def _box_line(text: str, node: str) -> int:
    """Index of the line holding ``node``'s box label."""
    for i, line in enumerate(text.splitlines()):
        if re.search(rf"[│|] {re.escape(node)} [│|]", line):
            return i
    raise AssertionError(f"no box for {node!r} in:\n{text}")


# --- draw_ascii -----------------------------------------------------------------------------


def test_chain_is_drawn_top_to_bottom_with_arrows() -> None:
    text = draw_ascii(_chain("a", "b", "c"))
    assert _box_line(text, "a") < _box_line(text, "b") < _box_line(text, "c")
    assert text.count("▼") == 2


def test_parallel_group_is_one_block_listing_its_members() -> None:
    text = draw_ascii(_etl().graph)
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if "ParallelGroup_1" in line)
    assert lines[header].startswith("╔")
    assert "║ ta >> sub" in text
    assert "║ tb" in text
    # Members are drawn inside the block only, not as separate boxes.
    assert not re.search(r"│ (ta|tb|sub) │", text)
    assert _box_line(text, "fetch") < header < _box_line(text, "store")


def test_graph_str_and_workflow_context_use_draw_ascii() -> None:
    wf = _etl()
    assert str(wf.graph) == draw_ascii(wf.graph) == draw_ascii(wf)


def test_cycles_do_not_hang_and_are_listed() -> None:
    graph = TaskGraph()
    for name in "abc":
        graph.add_node(Task(name, register_to_context=False))
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    graph.add_edge("c", "a")
    graph.add_edge("c", "c")
    text = draw_ascii(graph)
    assert "Loops" in text
    assert "c → a" in text
    assert "c → c" in text


def test_fan_out_fan_in_and_long_edges() -> None:
    graph = TaskGraph()
    for name in "abcde":
        graph.add_node(Task(name, register_to_context=False))
    for u, v in [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "d"), ("d", "e")]:
        graph.add_edge(u, v)
    text = draw_ascii(graph)
    assert _box_line(text, "a") < _box_line(text, "b") == _box_line(text, "c")
    assert _box_line(text, "c") < _box_line(text, "d") < _box_line(text, "e")
    assert text.count("▼") == 4  # into b, c, d (one arrow for three edges) and e


def test_ascii_only_output() -> None:
    text = draw_ascii(_etl().graph, unicode=False)
    assert text.isascii()
    assert "ta >> sub" in text


def test_empty_graph_and_isolated_nodes() -> None:
    assert draw_ascii(TaskGraph()) == "Empty graph"
    graph = TaskGraph()
    graph.add_node(Task("x", register_to_context=False))
    graph.add_node(Task("y", register_to_context=False))
    text = draw_ascii(graph)
    assert _box_line(text, "x") < _box_line(text, "y")
    assert "▼" not in text


def test_large_graphs_draw_quickly() -> None:
    chain = _chain(*(f"t{i}" for i in range(500)))
    graph = TaskGraph()
    graph.add_node(Task("root", register_to_context=False))
    for i in range(200):
        graph.add_node(Task(f"leaf{i}", register_to_context=False))
        graph.add_edge("root", f"leaf{i}")
    start = time.perf_counter()
    assert "t499" in draw_ascii(chain)
    assert "leaf199" in draw_ascii(graph)
    assert time.perf_counter() - start < 5


# --- draw_mermaid ---------------------------------------------------------------------------

_NODE = re.compile(r'^\s*([A-Za-z][A-Za-z0-9_]*)\["(.*)"\]$')
_SUBGRAPH = re.compile(r'^\s*subgraph ([A-Za-z][A-Za-z0-9_]*)\["(.*)"\]$')
_EDGE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*) --> ([A-Za-z][A-Za-z0-9_]*)$")


def _parse_mermaid(text: str) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, str]]:
    """(id -> label, edges, member id -> enclosing subgraph id); fails on any other line."""
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    labels: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    parent: dict[str, str] = {}
    stack: list[str] = []
    for line in lines[1:]:
        if m := _SUBGRAPH.match(line):
            labels[m[1]] = m[2]
            if stack:
                parent[m[1]] = stack[-1]
            stack.append(m[1])
        elif line.strip() == "end":
            stack.pop()
        elif line.strip() == "direction TB":
            continue
        elif m := _NODE.match(line):
            labels[m[1]] = m[2]
            if stack:
                parent[m[1]] = stack[-1]
        elif m := _EDGE.match(line):
            edges.append((m[1], m[2]))
        else:
            raise AssertionError(f"unexpected Mermaid line {line!r}")
    assert not stack
    for u, v in edges:
        assert u in labels and v in labels
    return labels, edges, parent


def test_mermaid_flowchart_with_group_subgraph() -> None:
    labels, edges, parent = _parse_mermaid(draw_mermaid(_etl().graph))
    assert set(labels) == {"fetch", "ParallelGroup_1", "ta", "sub", "tb", "store"}
    assert parent == {"ta": "ParallelGroup_1", "sub": "ParallelGroup_1", "tb": "ParallelGroup_1"}
    assert edges == [
        ("fetch", "ParallelGroup_1"),
        ("ta", "sub"),
        ("ParallelGroup_1", "store"),
    ]


def test_mermaid_escapes_unsafe_ids_and_labels() -> None:
    ids = ["end", "my task", "my_task_", "1st", 'say "hi"', "a-b", "x<y>"]
    graph = TaskGraph()
    for i in ids:
        graph.add_node(Task(i, register_to_context=False))
    for u, v in itertools.pairwise(ids):
        graph.add_edge(u, v)
    labels, edges, _ = _parse_mermaid(draw_mermaid(graph))
    assert len(labels) == len(ids)  # every id got its own safe Mermaid id
    assert "end" not in labels
    assert labels["my_task_"] == "my_task_"
    assert sorted(labels.values()) == sorted(
        i.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;") for i in ids
    )
    assert len(edges) == len(ids) - 1


def test_mermaid_title_and_empty_graph() -> None:
    text = draw_mermaid(TaskGraph(), title="demo")
    assert text.startswith("---\ntitle: demo\n---\nflowchart TD\n")


# --- text listings --------------------------------------------------------------------------


def test_visualize_dependencies_uses_graflows_format(capsys: pytest.CaptureFixture[str]) -> None:
    visualize_dependencies(_chain("a", "b", "c"))
    assert capsys.readouterr().out == (
        "=== Dependencies ===\na >> b\nb >> c\nc (no dependencies)\n"
    )


def test_show_graph_info(capsys: pytest.CaptureFixture[str]) -> None:
    show_graph_info(_etl().graph)
    out = capsys.readouterr().out
    assert out.startswith("=== Graph Information ===\nNodes: ['fetch', ")
    assert "Edges: [('fetch', 'ParallelGroup_1')" in out
    assert "Start nodes: ['fetch']" in out
    assert "Parallel group ParallelGroup_1: ['ta', 'tb']" in out
    assert out.endswith("No cycles detected\n")


def test_show_graph_info_reports_cycles(capsys: pytest.CaptureFixture[str]) -> None:
    graph = _chain("a", "b")
    graph.add_edge("b", "a")
    show_graph_info(graph)
    assert "Cycles detected: [['a', 'b']]" in capsys.readouterr().out


# --- build_graph ----------------------------------------------------------------------------


def test_build_graph_adds_group_member_edges_without_touching_the_workflow() -> None:
    with workflow("g") as wf:
        a, b, c, d = (Task(x) for x in "ABCD")
        flow = a >> (b | c) >> d
    before = list(wf.graph.edges)
    graph = build_graph(flow, wf)
    assert isinstance(graph, TaskGraph)
    assert set(graph.nodes) == {"A", "B", "C", "D", "ParallelGroup_1"}
    assert set(graph.edges) == {
        ("A", "ParallelGroup_1"),
        ("ParallelGroup_1", "B"),
        ("ParallelGroup_1", "C"),
        ("ParallelGroup_1", "D"),
    }
    assert graph.get_node("A") is a
    assert list(wf.graph.edges) == before
    # The drawings treat the explicit member edges as membership.
    assert "║ B" in draw_ascii(graph)
    _, edges, parent = _parse_mermaid(draw_mermaid(graph))
    assert parent == {"B": "ParallelGroup_1", "C": "ParallelGroup_1"}
    assert ("ParallelGroup_1", "B") not in edges


def test_build_graph_uses_the_current_context_and_follows_predecessors() -> None:
    with workflow("g"):
        a, b, c = (Task(x) for x in "ABC")
        a >> b >> c
        graph = build_graph(b)
    assert set(graph.edges) == {("A", "B"), ("B", "C")}


def test_build_graph_of_a_cycle() -> None:
    with workflow("g") as wf:
        a, b = Task("A"), Task("B")
        a >> b >> a
    assert set(build_graph(a, wf).edges) == {("A", "B"), ("B", "A")}


# --- images and imports ---------------------------------------------------------------------


@pytest.mark.parametrize("func", [draw_png, draw_mermaid_png])
def test_image_output_needs_an_optional_dependency(func: object) -> None:
    with pytest.raises(OptionalDependencyError, match=r"optional|renderer") as info:
        func(_chain("a"))  # type: ignore[operator]
    assert isinstance(info.value, GraflowError)


def test_module_imports_no_drawing_libraries() -> None:
    code = (
        "import sys, graflow_core.utils.graph\n"
        "print([m for m in ('networkx', 'matplotlib', 'grandalf', 'pygraphviz')"
        " if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
