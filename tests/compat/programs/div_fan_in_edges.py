"""A diamond built from plain edges: how often does the join task run?"""

from graflow.core.context import ExecutionContext
from graflow.core.engine import WorkflowEngine
from graflow.core.graph import TaskGraph
from graflow.core.task import TaskWrapper

log = []
graph = TaskGraph()
for name in ("fetch", "left", "right", "store"):
    graph.add_node(TaskWrapper(name, lambda n=name: log.append(n), register_to_context=False), name)
for u, v in (("fetch", "left"), ("fetch", "right"), ("left", "store"), ("right", "store")):
    graph.add_edge(u, v)
ctx = ExecutionContext.create(graph, "fetch")
WorkflowEngine().execute(ctx)
print("log:", log)
print("steps:", ctx.steps, "completed:", ctx.completed_tasks)
