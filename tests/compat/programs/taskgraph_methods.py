"""TaskGraph methods on a hand-built graph."""

from graflow.core.graph import TaskGraph
from graflow.core.task import Task
from graflow.exceptions import DuplicateTaskError

g = TaskGraph()
for name in ("a", "b", "c", "d"):
    g.add_node(Task(name, register_to_context=False))
g.add_edge("a", "b")
g.add_edge("a", "c")
g.add_edge("b", "d")
g.add_edge("c", "d")
print("nodes:", sorted(g.nodes), "keys:", sorted(g.nodes.keys()))
print("edges:", sorted(g.edges), sorted(g.get_edges()))
print("succ/pred:", g.successors("a"), g.predecessors("d"))
print("start:", g.get_start_nodes())
print("has:", g.has_node("a"), g.has_node("zz"))
print("get_node:", type(g.get_node("a")).__name__, g.get_node("a").task_id)
try:
    g.get_node("zz")
except KeyError as exc:
    print("get_node missing:", type(exc).__name__)
try:
    g.add_node(Task("a", register_to_context=False))
except DuplicateTaskError:
    print("duplicate add_node: DuplicateTaskError")
g.add_node(Task("a", register_to_context=False), skip_if_exists=True)
print("cycles none:", g.detect_cycles())
g.add_edge("d", "a")
print("cycles:", sorted(sorted(c) for c in g.detect_cycles()))
g.rename_node("d", "dd")
print("renamed:", sorted(g.nodes), g.predecessors("dd"), g.successors("dd"))
print("task run:", Task("x", register_to_context=False).run())
g.clear()
print("cleared:", list(g.nodes))
