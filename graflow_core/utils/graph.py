"""Inspecting and drawing task graphs: ASCII art, Mermaid, dependency listings.

The counterpart of Graflow's ``graflow.utils.graph``.  Graflow's module imports networkx and
matplotlib when it is imported and needs grandalf for ASCII art; this one uses the standard
library only, so ``print(wf.graph)`` and ``graflow visualize`` cost nothing extra.

Every function accepts a :class:`~graflow_core.core.graph.TaskGraph`.  A ``WorkflowContext``
(its ``.graph`` is used) and networkx-style graphs (``nodes``/``edges``/``successors``, the
executable in the node attribute ``task``) work as well.

Parallel groups are drawn as one block that lists their members; member chains such as
``ta >> sub`` are shown inside the block.  Loops (back edges) are listed under the drawing.
"""

from __future__ import annotations

import re
from collections import deque
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import GraflowError

if TYPE_CHECKING:
    from graflow_core.core.graph import TaskGraph
    from graflow_core.core.task import Executable
    from graflow_core.core.workflow import WorkflowContext

__all__ = [
    "OptionalDependencyError",
    "build_graph",
    "draw_ascii",
    "draw_mermaid",
    "draw_mermaid_png",
    "draw_png",
    "show_graph_info",
    "visualize_dependencies",
]


class OptionalDependencyError(GraflowError, ImportError):
    """A feature needs an optional package that is not installed."""


# --------------------------------------------------------------------------------------------
# A normalised, read-only snapshot of a graph
# --------------------------------------------------------------------------------------------


def _group_members(task: object) -> list[Any] | None:
    """The member executables of a parallel group, or None if ``task`` is not a group."""
    tasks = getattr(task, "tasks", None)
    if isinstance(tasks, list) and hasattr(task, "with_execution"):
        return tasks
    return None


def _task_of(graph: Any, node: Any) -> Any:
    """The executable stored for ``node`` (None for a bare edge endpoint)."""
    try:
        data = graph.nodes[node]
    except (KeyError, TypeError, AttributeError):
        data = None
    if isinstance(data, dict):
        return data.get("task")
    getter = getattr(graph, "get_node", None)
    if getter is None:
        return None
    try:
        return getter(node)
    except KeyError:
        return None


class _View:
    """Node ids in order, successor/predecessor lists, executables and parallel groups."""

    def __init__(self, graph: Any) -> None:
        if not hasattr(graph, "successors") and hasattr(graph, "graph"):
            graph = graph.graph  # a WorkflowContext
        self.source = graph  # the TaskGraph (or networkx-style graph) itself
        self.nodes: list[str] = []
        self.task: dict[str, Any] = {}
        for node in graph.nodes:
            node_id = str(node)
            self.nodes.append(node_id)
            self.task[node_id] = _task_of(graph, node)
        self.succ: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.pred: dict[str, list[str]] = {n: [] for n in self.nodes}
        self.edges: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        for edge in graph.edges:
            u, v = str(edge[0]), str(edge[1])
            if (u, v) in seen:
                continue
            seen.add((u, v))
            self.edges.append((u, v))
            self.succ.setdefault(u, []).append(v)
            self.pred.setdefault(v, []).append(u)
        # Parallel groups, including nested groups that are members rather than nodes.
        self.members: dict[str, list[str]] = {}
        pending: deque[tuple[str, Any]] = deque(self.task.items())
        while pending:
            node_id, task = pending.popleft()
            members = _group_members(task)
            if members is None or node_id in self.members:
                continue
            ids: list[str] = []
            for member in members:
                member_id = str(member.task_id)
                ids.append(member_id)
                if self.task.get(member_id) is None:
                    self.task[member_id] = member
                pending.append((member_id, member))
            self.members[node_id] = ids

    def is_membership_edge(self, u: str, v: str) -> bool:
        """True for an explicit group -> member edge (as :func:`build_graph` adds)."""
        return v in self.members.get(u, ())


def _containers(view: _View) -> tuple[dict[str, list[str]], dict[str, str]]:
    """What is drawn inside each parallel group, and the innermost group owning each node.

    A group contains its members plus the nodes reachable only through them (``ta >> sub``
    inside ``(ta >> sub) | tb``), stopping at the group's own successors.
    """
    content: dict[str, list[str]] = {}
    for group, members in view.members.items():
        member_set = set(members)
        external = {s for s in view.succ.get(group, ()) if s not in member_set}
        inside = [m for m in dict.fromkeys(members) if m != group]
        inside_set = set(inside)
        changed = True
        while changed:
            changed = False
            for node in list(inside):
                for succ in view.succ.get(node, ()):
                    if succ in inside_set or succ in external or succ == group:
                        continue
                    if all(p in inside_set for p in view.pred.get(succ, ())):
                        inside.append(succ)
                        inside_set.add(succ)
                        changed = True
        content[group] = inside
    owner: dict[str, str] = {}
    # Larger containers first, so that the innermost (smallest) one wins.
    for group in sorted(content, key=lambda g: -len(content[g])):
        for node in content[group]:
            if node != group:
                owner[node] = group
    return content, owner


def _outermost(node: str, owner: dict[str, str]) -> str:
    seen = {node}
    while node in owner and owner[node] not in seen:
        node = owner[node]
        seen.add(node)
    return node


def _group_lines(
    view: _View,
    content: dict[str, list[str]],
    owner: dict[str, str],
    group: str,
    active: frozenset[str] = frozenset(),
) -> list[str]:
    """One line per member chain of ``group``, e.g. ``["ta >> sub", "tb"]``."""
    active = active | {group}
    owned = [n for n in content.get(group, ()) if owner.get(n) == group]
    owned_set = set(owned)
    shown: set[str] = set()
    expanded: set[str] = set()

    def label(node: str) -> str:
        if node in view.members and node not in active:
            inner = _group_lines(view, content, owner, node, active)
            return "(" + " | ".join(inner) + ")"
        return node

    def inner_succ(node: str) -> list[str]:
        return [
            s
            for s in view.succ.get(node, ())
            if s in owned_set and s != node and not view.is_membership_edge(node, s)
        ]

    def chain(node: str) -> str:
        parts = [label(node)]
        shown.add(node)
        current = node
        while True:
            expanded.add(current)
            nxt = inner_succ(current)
            if not nxt:
                break
            if len(nxt) == 1 and nxt[0] not in shown:
                current = nxt[0]
                parts.append(label(current))
                shown.add(current)
                continue
            if len(nxt) == 1:
                parts.append(label(nxt[0]))
            else:
                parts.append("(" + ", ".join(label(s) for s in nxt) + ")")
            shown.update(nxt)
            break
        return " >> ".join(parts)

    lines = [chain(n) for n in owned if n not in shown]
    for node in owned:
        if node not in expanded and inner_succ(node):
            lines.append(chain(node))
    return lines


# --------------------------------------------------------------------------------------------
# Text output: dependencies and graph information
# --------------------------------------------------------------------------------------------


def visualize_dependencies(graph: TaskGraph | WorkflowContext | Any) -> None:
    """Print one line per node: ``node >> s1 >> s2`` or ``node (no dependencies)``.

    The format of Graflow's ``visualize_dependencies`` (successors, in edge order).
    """
    view = _View(graph)
    print("=== Dependencies ===")
    for node in view.nodes:
        successors = view.succ.get(node, [])
        if successors:
            print(f"{node} >> {' >> '.join(successors)}")
        else:
            print(f"{node} (no dependencies)")


def _start_nodes(view: _View) -> list[str]:
    getter = getattr(view.source, "get_start_nodes", None)
    if getter is not None:
        return [str(n) for n in getter()]
    return [n for n in view.nodes if not view.pred.get(n)]


def _cycles(view: _View) -> list[list[str]]:
    detect = getattr(view.source, "detect_cycles", None)
    if detect is not None:
        return [[str(n) for n in c] for c in detect()]
    # Fallback for graphs without detect_cycles: one cycle per back edge.
    _, back = _split_back_edges(view.nodes, view.edges)
    cycles: list[list[str]] = []
    for u, v in back:
        path = _path(view.succ, v, u)
        if path:
            cycles.append(path)
    return cycles


def _path(succ: dict[str, list[str]], start: str, goal: str) -> list[str]:
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            out = [node]
            while parent[out[-1]] is not None:
                out.append(parent[out[-1]])  # type: ignore[arg-type]
            return out[::-1]
        for s in succ.get(node, ()):
            if s not in parent:
                parent[s] = node
                queue.append(s)
    return []


def show_graph_info(graph: TaskGraph | WorkflowContext | Any) -> None:
    """Print the nodes, edges, start nodes, parallel groups and cycles of a graph."""
    view = _View(graph)
    print("=== Graph Information ===")
    print(f"Nodes: {view.nodes}")
    print(f"Edges: {view.edges}")
    print(f"Start nodes: {_start_nodes(view)}")
    for group, members in view.members.items():
        print(f"Parallel group {group}: {members}")
    cycles = _cycles(view)
    if cycles:
        print(f"Cycles detected: {cycles}")
    else:
        print("No cycles detected")


# --------------------------------------------------------------------------------------------
# ASCII drawing: layered layout (longest path from the start nodes), boxes, routed edges
# --------------------------------------------------------------------------------------------

_UP, _DOWN, _LEFT, _RIGHT = 1, 2, 4, 8
_LINE_CHARS = {
    _UP: "│",
    _DOWN: "│",
    _UP | _DOWN: "│",
    _LEFT: "─",
    _RIGHT: "─",
    _LEFT | _RIGHT: "─",
    _DOWN | _RIGHT: "┌",
    _DOWN | _LEFT: "┐",
    _UP | _RIGHT: "└",
    _UP | _LEFT: "┘",
    _UP | _DOWN | _RIGHT: "├",
    _UP | _DOWN | _LEFT: "┤",
    _DOWN | _LEFT | _RIGHT: "┬",
    _UP | _LEFT | _RIGHT: "┴",
    _UP | _DOWN | _LEFT | _RIGHT: "┼",
}
_TO_ASCII = str.maketrans(
    {
        "│": "|",
        "─": "-",
        "┌": "+",
        "┐": "+",
        "└": "+",
        "┘": "+",
        "├": "+",
        "┤": "+",
        "┬": "+",
        "┴": "+",
        "┼": "+",
        "▼": "v",
        "═": "=",
        "║": "#",
        "╔": "#",
        "╗": "#",
        "╚": "#",
        "╝": "#",
        "╤": "+",
        "↺": "@",
        "→": ">",
    }
)
_H_GAP = 3


class _Canvas:
    """Characters by position; line cells merge into box-drawing junctions."""

    def __init__(self) -> None:
        self.text: dict[tuple[int, int], str] = {}
        self.lines: dict[tuple[int, int], int] = {}

    def put(self, x: int, y: int, s: str) -> None:
        for i, ch in enumerate(s):
            self.text[(x + i, y)] = ch

    def _dir(self, x: int, y: int, d: int) -> None:
        self.lines[(x, y)] = self.lines.get((x, y), 0) | d

    def vline(self, x: int, y0: int, y1: int) -> None:
        """A vertical line from row y0 to row y1 (inclusive, y0 <= y1), open at both ends."""
        for y in range(y0, y1 + 1):
            self._dir(x, y, _UP | _DOWN)

    def hline(self, y: int, x0: int, x1: int) -> None:
        """A horizontal segment joining the vertical lines at columns x0 and x1."""
        lo, hi = min(x0, x1), max(x0, x1)
        for x in range(lo, hi + 1):
            d = (_LEFT if x > lo else 0) | (_RIGHT if x < hi else 0)
            self._dir(x, y, d)

    def bend(self, x: int, y: int, up: bool, down: bool) -> None:
        """Restrict a corner cell of a horizontal segment to the vertical sides it joins."""
        cur = self.lines.get((x, y), 0)
        self.lines[(x, y)] = cur | (_UP if up else 0) | (_DOWN if down else 0)

    def render(self) -> str:
        cells: dict[tuple[int, int], str] = {
            k: _LINE_CHARS.get(v, " ") for k, v in self.lines.items()
        }
        cells.update(self.text)
        if not cells:
            return ""
        height = max(y for _, y in cells) + 1
        rows: list[dict[int, str]] = [{} for _ in range(height)]
        for (x, y), ch in cells.items():
            rows[y][x] = ch
        out = []
        for row in rows:
            if not row:
                out.append("")
                continue
            width = max(row) + 1
            out.append("".join(row.get(x, " ") for x in range(width)).rstrip())
        return "\n".join(out)


def _split_back_edges(
    nodes: list[str], edges: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split edges into forward edges (a DAG) and back edges (closing loops), by DFS."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    indeg: dict[str, int] = dict.fromkeys(nodes, 0)
    for u, v in edges:
        succ.setdefault(u, []).append(v)
        indeg[v] = indeg.get(v, 0) + 1
    roots = [n for n in nodes if indeg.get(n, 0) == 0] + nodes
    state: dict[str, int] = {}  # 1 = on the DFS stack, 2 = done
    back: set[tuple[str, str]] = set()
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ.get(root, ())))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            st = state.get(nxt)
            if st == 1:
                back.add((node, nxt))
            elif st is None:
                state[nxt] = 1
                stack.append((nxt, iter(succ.get(nxt, ()))))
    forward = [e for e in edges if e not in back]
    return forward, [e for e in edges if e in back]


def _layers(nodes: list[str], forward: list[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layer of each node in the DAG of forward edges."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    indeg = dict.fromkeys(nodes, 0)
    for u, v in forward:
        succ[u].append(v)
        indeg[v] += 1
    layer = dict.fromkeys(nodes, 0)
    queue = deque(n for n in nodes if indeg[n] == 0)
    while queue:
        node = queue.popleft()
        for s in succ[node]:
            layer[s] = max(layer[s], layer[node] + 1)
            indeg[s] -= 1
            if indeg[s] == 0:
                queue.append(s)
    return layer


class _Box:
    __slots__ = ("center", "double", "height", "lines", "title", "width", "x")

    def __init__(self, title: str, lines: list[str] | None = None, double: bool = False) -> None:
        self.title = title
        self.lines = lines or []
        self.double = double
        self.x = 0
        if double:
            self.width = max([len(title) + 6] + [len(s) + 4 for s in self.lines])
            self.height = max(3, len(self.lines) + 2)
        elif title:
            self.width = len(title) + 4
            self.height = 3
        else:  # a dummy: an edge passing through a layer
            self.width = 1
            self.height = 0
        self.center = (self.width - 1) // 2

    @property
    def mid(self) -> int:
        return self.x + self.center

    def draw(self, canvas: _Canvas, y: int, exits: bool) -> None:
        x, w, h = self.x, self.width, self.height
        if self.double:
            head = f"═ {self.title} "
            canvas.put(x, y, "╔" + head + "═" * (w - 2 - len(head)) + "╗")
            for i in range(1, h - 1):
                text = self.lines[i - 1] if i - 1 < len(self.lines) else ""
                canvas.put(x, y + i, "║ " + text.ljust(w - 4) + " ║")
            bottom = "╚" + "═" * (w - 2) + "╝"
        else:
            canvas.put(x, y, "┌" + "─" * (w - 2) + "┐")
            canvas.put(x, y + 1, "│ " + self.title + " │")
            bottom = "└" + "─" * (w - 2) + "┘"
        if exits:
            bottom = (
                bottom[: self.center] + ("╤" if self.double else "┬") + bottom[self.center + 1 :]
            )
        canvas.put(x, y + h - 1, bottom)


def draw_ascii(graph: TaskGraph | WorkflowContext | Any, *, unicode: bool = True) -> str:
    """Draw a task graph as text: boxes in layers, top to bottom, joined by arrows.

    Layers follow the longest path from the start nodes.  A parallel group is one
    double-lined block listing its members (``ta >> sub`` for a chain inside the group).
    Edges that close a loop are listed under the drawing.  With ``unicode=False`` only
    ASCII characters are used (for terminals that cannot print box-drawing characters).
    """
    view = _View(graph)
    if not view.nodes:
        return "Empty graph"
    content, owner = _containers(view)

    # The displayed graph: top-level nodes; edges into/out of a group attach to its block.
    nodes = [n for n in view.nodes if n not in owner]
    node_set = set(nodes)
    edges: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    loops: list[tuple[str, str]] = []
    for u, v in view.edges:
        if view.is_membership_edge(u, v):
            continue
        du, dv = _outermost(u, owner), _outermost(v, owner)
        if du not in node_set or dv not in node_set:
            continue
        if du == dv:
            if u == v:
                loops.append((u, v))
            continue
        if (du, dv) not in seen:
            seen.add((du, dv))
            edges.append((du, dv))
    forward, back = _split_back_edges(nodes, edges)
    loops.extend(back)
    layer_of = _layers(nodes, forward)

    boxes: dict[str, _Box] = {}
    for n in nodes:
        if n in view.members:
            boxes[n] = _Box(n, _group_lines(view, content, owner, n), double=True)
        else:
            boxes[n] = _Box(n)

    # Isolated nodes go below the connected part, one per row, in order.
    connected = {u for e in forward for u in e}
    depth = max((layer_of[n] for n in connected), default=-1) + 1
    for n in nodes:
        if n not in connected:
            layer_of[n] = depth
            depth += 1

    # Long edges pass through the layers in between as dummies (1 column wide).
    segments: list[tuple[str, str]] = []
    dummy_count = 0
    for u, v in forward:
        prev = u
        for lay in range(layer_of[u] + 1, layer_of[v]):
            dummy_count += 1
            dummy = f"\x00{dummy_count}"
            boxes[dummy] = _Box("")
            layer_of[dummy] = lay
            segments.append((prev, dummy))
            prev = dummy
        segments.append((prev, v))

    n_layers = max(layer_of.values()) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for n in boxes:
        layers[layer_of[n]].append(n)
    seg_pred: dict[str, list[str]] = {n: [] for n in boxes}
    seg_succ: dict[str, list[str]] = {n: [] for n in boxes}
    for u, v in segments:
        seg_pred[v].append(u)
        seg_succ[u].append(v)

    # Crossing reduction: barycentre sweeps down, up and down again.
    def sweep(down: bool) -> None:
        rng = range(1, n_layers) if down else range(n_layers - 2, -1, -1)
        for i in rng:
            ref = layers[i - 1] if down else layers[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            cur = {n: k for k, n in enumerate(layers[i])}

            def key(n: str, pos: dict[str, int] = pos, cur: dict[str, int] = cur) -> float:
                nbrs = [pos[m] for m in (seg_pred[n] if down else seg_succ[n]) if m in pos]
                return sum(nbrs) / len(nbrs) if nbrs else float(cur[n])

            layers[i].sort(key=key)

    sweep(True)
    sweep(False)
    sweep(True)

    # x placement: centre each node under its predecessors (snapping to a predecessor's
    # column when close, for straight arrows), never overlapping its left neighbour.
    for i, row in enumerate(layers):
        right: int | None = None
        for n in row:
            box = boxes[n]
            want = 0 if right is None else right + _H_GAP
            if i > 0 and seg_pred[n]:
                mids = [boxes[p].mid for p in seg_pred[n]]
                centre = round(sum(mids) / len(mids))
                nearest = min(sorted(mids), key=lambda m: abs(m - centre))
                if abs(nearest - centre) <= 2:
                    centre = nearest
                want = centre - box.center if right is None else max(want, centre - box.center)
            box.x = want
            right = box.x + box.width
    min_x = min(b.x for b in boxes.values())
    for b in boxes.values():
        b.x -= min_x

    canvas = _Canvas()
    y = 0
    for i, row in enumerate(layers):
        row_h = max([boxes[n].height for n in row] + [1])
        for n in row:
            box = boxes[n]
            if box.title:
                box.draw(canvas, y, exits=bool(seg_succ[n]))
                if seg_succ[n] and box.height < row_h:
                    canvas.vline(box.mid, y + box.height, y + row_h - 1)
            else:
                canvas.vline(box.x, y, y + row_h - 1)
        y += row_h
        if i == n_layers - 1:
            break
        row_segments = [(u, v) for u in row for v in seg_succ[u]]
        if not row_segments:
            y += 1  # a blank line before the next (isolated) node
            continue
        # Edges that need a horizontal run share a track (row) when they fan out of one
        # source or fan into one target; other tracks are separate rows.
        by_source: dict[str, list[str]] = {}
        straight: set[int] = set()
        for u, v in row_segments:
            if boxes[u].mid == boxes[v].mid:
                straight.add(boxes[u].mid)
            else:
                by_source.setdefault(u, []).append(v)
        tracks: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for u, vs in by_source.items():
            for v in vs:
                key = ("s", u) if len(vs) > 1 else ("t", v)
                tracks.setdefault(key, []).append((u, v))
        # A track's source columns must end above the tracks that lead down that column.
        ups = {k: {boxes[u].mid for u, _ in segs} - straight for k, segs in tracks.items()}
        downs = {k: {boxes[v].mid for _, v in segs} for k, segs in tracks.items()}
        order: list[tuple[str, str]] = []
        pending = sorted(tracks, key=lambda k: min(ups[k] | downs[k]))
        while pending:
            chosen = pending[0]
            for k in pending:
                if not any(ups[k] & downs[o] for o in pending if o != k):
                    chosen = k
                    break
            order.append(chosen)
            pending.remove(chosen)
        arrow_y = y + 1 + len(order) + (1 if order else 0)
        for col in straight:
            canvas.vline(col, y, arrow_y - 1)
        for k_index, key in enumerate(order):
            ty = y + 1 + k_index
            cols_up = {boxes[u].mid for u, _ in tracks[key]}
            cols_down = {boxes[v].mid for _, v in tracks[key]}
            every = cols_up | cols_down
            canvas.hline(ty, min(every), max(every))
            for col in cols_up:
                canvas.vline(col, y, ty - 1)
                canvas.bend(col, ty, up=True, down=False)
            for col in cols_down:
                canvas.bend(col, ty, up=False, down=True)
                canvas.vline(col, ty + 1, arrow_y - 1)
        for _, v in row_segments:
            if boxes[v].title:
                canvas.put(boxes[v].mid, arrow_y, "▼")
            else:
                canvas.vline(boxes[v].mid, arrow_y, arrow_y)
        y = arrow_y + 1

    text = canvas.render()
    if loops:
        notes = [f"↺ {u} → {v}" for u, v in loops]
        text += "\n\nLoops (edges back to an earlier task):\n" + "\n".join(
            "  " + note for note in notes
        )
    return text if unicode else text.translate(_TO_ASCII)


# --------------------------------------------------------------------------------------------
# Mermaid
# --------------------------------------------------------------------------------------------

_SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
# Words Mermaid's flowchart lexer reads as keywords (case-sensitive, as the lexer is).
_MERMAID_RESERVED = {
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "direction",
    "click",
    "call",
    "href",
    "class",
    "classDef",
    "style",
    "linkStyle",
    "default",
    "TD",
    "TB",
    "BT",
    "RL",
    "LR",
}


def _mermaid_label(text: str) -> str:
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", " ")
    )


def draw_mermaid(graph: TaskGraph | WorkflowContext | Any, title: str | None = None) -> str:
    """Return a Mermaid ``flowchart TD`` of the graph.

    Each parallel group is a ``subgraph`` holding its members (nested groups nest); edges
    into and out of a group attach to the subgraph.  Ids that are not plain identifiers, or
    that are Mermaid keywords such as ``end``, are replaced by safe ids; the original id
    stays visible as the node's label.
    """
    view = _View(graph)
    content, owner = _containers(view)
    ids: dict[str, str] = {}
    used: set[str] = set()
    for n in view.nodes:
        if _SAFE_ID.match(n) and n not in _MERMAID_RESERVED:
            ids[n] = n
            used.add(n)

    def mid(node: str) -> str:
        if node not in ids:
            base = re.sub(r"[^A-Za-z0-9_]", "_", node).strip("_") or "node"
            if not base[0].isalpha():
                base = "n_" + base
            candidate, k = f"{base}_", 1
            while candidate in used or candidate in _MERMAID_RESERVED:
                k += 1
                candidate = f"{base}_{k}"
            ids[node] = candidate
            used.add(candidate)
        return ids[node]

    out = ["flowchart TD"]
    if title:
        out.insert(0, f"---\ntitle: {_mermaid_label(title)}\n---")
    if not view.nodes:
        out.append('    empty["(empty graph)"]')
        return "\n".join(out) + "\n"

    emitted: set[str] = set()

    def emit(node: str, indent: str) -> None:
        if node in emitted:
            return
        emitted.add(node)
        if node in view.members:
            out.append(f'{indent}subgraph {mid(node)}["{_mermaid_label(node)}"]')
            out.append(f"{indent}    direction TB")
            for inner in content[node]:
                if owner.get(inner) == node:
                    emit(inner, indent + "    ")
            out.append(f"{indent}end")
        else:
            out.append(f'{indent}{mid(node)}["{_mermaid_label(node)}"]')

    for n in view.nodes:
        if n not in owner:
            emit(n, "    ")
    for n in list(view.task):  # members that are not graph nodes and were not emitted
        if n not in emitted and (n in owner or n in view.members):
            emit(_outermost(n, owner), "    ")
    for u, v in view.edges:  # already without duplicates
        if view.is_membership_edge(u, v):
            continue
        out.append(f"    {mid(u)} --> {mid(v)}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Images (optional dependencies) and build_graph
# --------------------------------------------------------------------------------------------


def draw_png(graph: TaskGraph | WorkflowContext | Any, output_path: str | None = None) -> bytes:
    """Render the graph as PNG with Graphviz (needs the optional ``pygraphviz`` package)."""
    raise OptionalDependencyError(
        "draw_png needs the optional package 'pygraphviz', which graflow_core does not "
        "install; use draw_mermaid() or draw_ascii() instead, or render draw_mermaid()'s "
        "output with the Mermaid CLI (mmdc)."
    )


def draw_mermaid_png(
    graph: TaskGraph | WorkflowContext | Any, output_path: str | None = None
) -> bytes:
    """Render the graph as PNG via Mermaid (needs a Mermaid renderer; not bundled)."""
    raise OptionalDependencyError(
        "draw_mermaid_png needs a Mermaid renderer, which graflow_core does not install; "
        "write draw_mermaid()'s output to a .mmd file and render it with the Mermaid CLI "
        "(npm install -g @mermaid-js/mermaid-cli; mmdc -i graph.mmd -o graph.png)."
    )


def build_graph(start: Executable, context: WorkflowContext | None = None) -> TaskGraph:
    """A new TaskGraph of everything connected to ``start``, with group -> member edges.

    Follows successors, predecessors and parallel-group membership from ``start`` (a task, a
    group or a ``a >> b`` chain, which starts at its leftmost task) in the graph of
    ``context`` (default: the current workflow context) and returns the connected part as
    a new graph that also has an explicit edge from each parallel group to each member, as
    Graflow's ``build_graph`` does.  Unlike Graflow, the workflow's own graph is not
    changed: membership edges there would make the engine run members twice.
    """
    from graflow_core.core.graph import TaskGraph

    if context is None:
        from graflow_core.core.workflow import current_workflow_context

        context = current_workflow_context()
    source = context.graph
    leftmost = getattr(start, "leftmost", None)
    if leftmost is not None and _group_members(start) is None:
        start = leftmost
    result = TaskGraph()
    visited: set[str] = {start.task_id}
    result.add_node(start, start.task_id)
    # Depth-first, in Graflow's order: successors, then members, then predecessors.
    stack = [iter(_build_steps(source, start))]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        u, v, child = step
        result.add_edge(u, v)
        if child is None or child.task_id in visited:
            continue
        visited.add(child.task_id)
        result.add_node(child, child.task_id, skip_if_exists=True)
        stack.append(iter(_build_steps(source, child)))
    return result


def _build_steps(source: Any, node: Any) -> list[tuple[str, str, Any]]:
    """The edges build_graph follows from ``node``, with the executable at the other end."""

    def lookup(node_id: str) -> Any:
        try:
            return source.get_node(node_id)
        except KeyError:
            return None

    node_id = node.task_id
    steps: list[tuple[str, str, Any]] = []
    if node_id in source.nodes:
        steps += [(node_id, s, lookup(s)) for s in source.successors(node_id)]
    steps += [(node_id, m.task_id, m) for m in _group_members(node) or ()]
    if node_id in source.nodes:
        steps += [(p, node_id, lookup(p)) for p in source.predecessors(node_id)]
    return steps
