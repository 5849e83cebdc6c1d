"""TaskGraph: the nodes (executables) and static edges of a workflow.

Plain dicts instead of networkx: the graph is on the engine's hot path and ``import networkx``
alone costs more than our whole import budget.  Successor and predecessor lists keep edge
insertion order, as networkx does, so execution order matches Graflow's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, KeysView, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import DuplicateTaskError

if TYPE_CHECKING:
    from graflow_core.core.task import Executable


class NodeView:
    """Read-only view of a graph's node ids (networkx ``NodeView``-compatible subset)."""

    __slots__ = ("_tasks",)

    def __init__(self, tasks: dict[str, Executable | None]) -> None:
        self._tasks = tasks

    def __contains__(self, node: object) -> bool:
        return node in self._tasks

    def __iter__(self) -> Iterator[str]:
        return iter(self._tasks)

    def __len__(self) -> int:
        return len(self._tasks)

    def __getitem__(self, node: str) -> dict[str, Any]:
        task = self._tasks[node]
        return {} if task is None else {"task": task}

    def keys(self) -> KeysView[str]:
        """The node ids."""
        return self._tasks.keys()

    def __call__(self, data: bool = False) -> list[Any]:
        if data:
            return [(n, self[n]) for n in self._tasks]
        return list(self._tasks)

    def __repr__(self) -> str:
        return f"NodeView({tuple(self._tasks)})"


class TaskGraph:
    """Directed graph of executables keyed by task id."""

    def __init__(self) -> None:
        self._tasks: dict[str, Executable | None] = {}
        self._succ: dict[str, list[str]] = {}
        self._pred: dict[str, list[str]] = {}
        self._edge_count = 0
        # Ids of nodes added while a workflow ran (next_task, next_iteration, chains built
        # inside a task).  They stay "new" for next_task in later runs of the same graph.
        self._dynamic: set[str] = set()
        # Bumped on every structural change; the engine caches its join analysis on it.
        self._version = 0
        self._join_cache: dict[str | None, tuple[int, dict[str, frozenset[str]]]] = {}
        self._candidate_cache: tuple[int, dict[str, frozenset[str]]] | None = None

    # -- building ------------------------------------------------------------------------------

    def add_node(
        self, task: Executable, task_id: str | None = None, skip_if_exists: bool = False
    ) -> None:
        """Add ``task`` under ``task_id`` (default: ``task.task_id``).

        Raises :class:`DuplicateTaskError` if the id is taken by another task, unless
        ``skip_if_exists``.
        """
        node_id = task.task_id if task_id is None else task_id
        existing = self._tasks.get(node_id, _MISSING)
        if existing is not _MISSING:
            if existing is None:  # a bare edge endpoint gets its task
                self._tasks[node_id] = task
                return
            if skip_if_exists:
                return
            raise DuplicateTaskError(
                node_id,
                "Give each task a unique id, e.g. @task(id=...) or "
                f"{getattr(task, '__name__', 'my_task')}(task_id='...') for another instance",
            )
        self._tasks[node_id] = task
        self._succ[node_id] = []
        self._pred[node_id] = []
        self._version += 1

    def add_dynamic_node(self, task: Executable) -> bool:
        """Add (or replace) a node created at run time; False if a static node has its id."""
        node_id = task.task_id
        existing = self._tasks.get(node_id)
        if existing is not None and node_id not in self._dynamic:
            return False
        if existing is None and node_id not in self._succ:
            self._succ[node_id] = []
            self._pred[node_id] = []
        self._tasks[node_id] = task
        self._dynamic.add(node_id)
        return True

    def add_edge(self, from_node: str, to_node: str) -> None:
        """Add the edge ``from_node -> to_node`` (missing endpoints become bare nodes)."""
        for node in (from_node, to_node):
            if node not in self._tasks:
                self._tasks[node] = None
                self._succ[node] = []
                self._pred[node] = []
        succ = self._succ[from_node]
        if to_node in succ:
            return
        succ.append(to_node)
        self._pred[to_node].append(from_node)
        self._edge_count += 1
        self._version += 1

    def remove_node(self, node: str) -> None:
        """Remove ``node`` and its edges."""
        if node not in self._tasks:
            return
        for s in self._succ.pop(node):
            self._pred[s].remove(node)
            self._edge_count -= 1
        for p in self._pred.pop(node):
            self._succ[p].remove(node)
            self._edge_count -= 1
        del self._tasks[node]
        self._version += 1

    def rename_node(self, old_task_id: str, new_task_id: str) -> None:
        """Rename a node, keeping its edges and position (raises ValueError if taken)."""
        if old_task_id not in self._tasks:
            raise KeyError(f"Node '{old_task_id}' not found in graph")
        if new_task_id in self._tasks:
            raise ValueError(f"Task {new_task_id} already exists in graph")

        def renamed(mapping: dict[str, Any]) -> dict[str, Any]:
            return {(new_task_id if k == old_task_id else k): v for k, v in mapping.items()}

        # Only the renamed node's neighbours mention it: patch their lists (O(degree)), and
        # re-key the three dicts in place order (one cheap pass, no per-node list copies).
        self._tasks = renamed(self._tasks)
        self._succ = renamed(self._succ)
        self._pred = renamed(self._pred)
        for table, neighbours in (
            (self._pred, self._succ[new_task_id]),
            (self._succ, self._pred[new_task_id]),
        ):
            for node in set(neighbours) - {old_task_id}:
                table[node] = [new_task_id if n == old_task_id else n for n in table[node]]
        own = (self._succ[new_task_id], self._pred[new_task_id])
        self._succ[new_task_id] = [new_task_id if n == old_task_id else n for n in own[0]]
        self._pred[new_task_id] = [new_task_id if n == old_task_id else n for n in own[1]]
        self._version += 1

    def clear(self) -> None:
        """Remove every node and edge."""
        self._tasks.clear()
        self._succ.clear()
        self._pred.clear()
        self._dynamic.clear()

        self._edge_count = 0
        self._version += 1

    # -- queries -------------------------------------------------------------------------------

    @property
    def nodes(self) -> NodeView:
        """The node ids (supports ``in``, iteration, ``len``, ``keys()``)."""
        return NodeView(self._tasks)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """All edges as ``(from, to)`` pairs in insertion order per source node."""
        return [(u, v) for u, vs in self._succ.items() for v in vs]

    def get_edges(self) -> list[tuple[str, str]]:
        """Same as :attr:`edges`."""
        return self.edges

    def get_node(self, task_id: str) -> Executable:
        """The executable with id ``task_id``; parallel-group members are found too.

        Raises ``KeyError`` when there is none.
        """
        task = self._tasks.get(task_id)
        if task is not None:
            return task
        member = self._find_group_member(task_id)
        if member is None:
            raise KeyError(f"Node '{task_id}' not found in graph")
        return member

    def has_node(self, task_id: str) -> bool:
        """True if ``task_id`` is a node or a member of a parallel group node."""
        if self._tasks.get(task_id) is not None:
            return True
        return self._find_group_member(task_id) is not None

    def _find_group_member(self, task_id: str) -> Executable | None:
        for task in self._tasks.values():
            members = getattr(task, "_members_for_lookup", None)
            if members is not None:
                found = members(task_id)
                if found is not None:
                    return found
        return None

    def group_member_ids(self) -> set[str]:
        """Ids of every member of every parallel group node (nested groups included)."""
        ids: set[str] = set()
        for task in self._tasks.values():
            collect = getattr(task, "_collect_member_ids", None)
            if collect is not None:
                collect(ids)
        return ids

    def get_start_nodes(self) -> list[str]:
        """Nodes without predecessors, excluding members of parallel groups.

        Graflow excludes members only when their group is itself a start node; graflow_core
        excludes members of every group, so ``start >> (a | b) >> end`` has one start node.
        Tasks added at run time (``ctx.next_task``) are not start nodes either, so a workflow
        that grew dynamic tasks in one run can be executed again.
        """
        candidates = [n for n, preds in self._pred.items() if not preds]
        if len(candidates) <= 1:
            return candidates
        members = self.group_member_ids()
        dynamic = self._dynamic
        return [n for n in candidates if n not in members and n not in dynamic]

    def successors(self, node: str) -> list[str]:
        """Successor ids of ``node`` in edge insertion order."""
        return list(self._succ.get(node, ()))

    def predecessors(self, node: str) -> list[str]:
        """Predecessor ids of ``node`` in edge insertion order."""
        return list(self._pred.get(node, ()))

    def get_parallel_group_members(self, group_id: str) -> list[str]:
        """Member ids of the parallel group ``group_id`` (``[]`` for any other node)."""
        group = self._tasks.get(group_id)
        tasks = getattr(group, "tasks", None)
        if tasks is None or not hasattr(group, "with_execution"):
            return []
        return [t.task_id for t in tasks]

    def detect_cycles(self, limit: int = 1000) -> list[list[str]]:
        """Elementary cycles of the graph (at most ``limit`` of them)."""
        cycles: list[list[str]] = []
        order = {n: i for i, n in enumerate(self._tasks)}
        for start in self._tasks:
            s_idx = order[start]
            # Iterative DFS over nodes with a larger index than ``start`` (each cycle once).
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(self._succ[start]))]
            path = [start]
            on_path = {start}
            while stack:
                nxt = next(stack[-1][1], None)

                if nxt is None:
                    stack.pop()
                    on_path.discard(path.pop())
                    continue
                if nxt == start:
                    cycles.append(list(path))
                    if len(cycles) >= limit:
                        return cycles
                elif order[nxt] > s_idx and nxt not in on_path:
                    path.append(nxt)
                    on_path.add(nxt)
                    stack.append((nxt, iter(self._succ[nxt])))
        return cycles

    def join_predecessors(self, start: str | None = None) -> dict[str, frozenset[str]]:
        """For every node with two or more *forward* predecessors, those predecessors.

        A forward predecessor is one outside the node's strongly connected component; a
        predecessor inside it closes a loop (a back edge) and triggers the node on its own.
        With ``start``, only predecessors reachable from ``start`` count: a run never waits
        for a task it cannot reach.  Cached until the graph changes.
        """
        version = self._version
        cached = self._join_cache.get(start)
        if cached is not None and cached[0] == version:
            return cached[1]
        candidates = self._join_candidates()
        joins: dict[str, frozenset[str]] = {}
        if candidates:
            reachable = self._reachable_from(start) if start is not None else None
            for node, forward in candidates.items():
                if reachable is not None:
                    forward = frozenset(p for p in forward if p in reachable)
                if len(forward) > 1:
                    joins[node] = forward
            if len(self._join_cache) >= 64:
                self._join_cache.clear()
            self._join_cache[start] = (version, joins)
        return joins

    def _join_candidates(self) -> dict[str, frozenset[str]]:
        """Nodes with two or more predecessors outside their strongly connected component."""
        cached = self._candidate_cache
        if cached is not None and cached[0] == self._version:
            return cached[1]
        candidates: dict[str, frozenset[str]] = {}
        multi = [n for n, preds in self._pred.items() if len(preds) > 1]
        if multi:
            component = self._strongly_connected_components()
            for node in multi:
                comp = component[node]
                forward = frozenset(p for p in self._pred[node] if component[p] != comp)
                if len(forward) > 1:
                    candidates[node] = forward
        self._candidate_cache = (self._version, candidates)
        return candidates

    def _reachable_from(self, start: str) -> set[str]:
        """Nodes reachable from ``start`` along edges and into parallel-group members."""
        seen = {start}
        todo = [start]
        while todo:
            node = todo.pop()
            following = list(self._succ.get(node, ()))
            members = getattr(self._tasks.get(node), "_collect_member_ids", None)
            if members is not None:
                ids: set[str] = set()
                members(ids)
                following.extend(ids)
            for nxt in following:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def _strongly_connected_components(self) -> dict[str, int]:
        """Component id of every node (see :func:`strongly_connected_components`)."""
        return strongly_connected_components(self._tasks, self._succ)

    def nx_graph(self) -> Any:
        """A ``networkx.DiGraph`` snapshot of this graph (nodes carry ``task=``).

        Graflow keeps its graph in networkx; graflow_core does not depend on it, so this needs
        ``pip install networkx`` and returns a copy: changing it does not change the workflow.
        """
        try:
            import networkx as nx
        except ImportError as exc:
            from graflow_core.exceptions import ConfigError

            raise ConfigError(
                "TaskGraph.nx_graph() needs networkx, which graflow_core does not install: "
                "pip install networkx"
            ) from exc
        graph = nx.DiGraph()
        for node, task in self._tasks.items():
            graph.add_node(node, **({} if task is None else {"task": task}))
        graph.add_edges_from(self.edges)
        return graph

    @property
    def _graph(self) -> Any:
        """Graflow's internal networkx graph, as a snapshot (see :meth:`nx_graph`)."""
        return self.nx_graph()

    def __len__(self) -> int:
        return len(self._tasks)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def __str__(self) -> str:
        from graflow_core.utils.graph import draw_ascii

        return draw_ascii(self)

    def __repr__(self) -> str:
        return f"TaskGraph(nodes={len(self._tasks)}, edges={self._edge_count})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_join_cache"] = {}
        state["_candidate_cache"] = None
        return state


class _Missing:
    pass


_MISSING: Any = _Missing()


def strongly_connected_components(
    nodes: Iterable[str], succ: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """Tarjan's algorithm, iterative (graphs of 100k nodes must not hit recursion limits).

    Returns the component id of every node reachable from ``nodes``; ids are numbered in the
    order components complete (roots and successors are visited in the given order).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    comp_id = 0
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(succ[nxt])))
                    advanced = True
                    break
                if nxt in on_stack and index[nxt] < low[node]:
                    low[node] = index[nxt]
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                if low[node] < low[parent]:
                    low[parent] = low[node]
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = comp_id
                    if member == node:
                        break
                comp_id += 1
    return component
