"""Operators: | builds ParallelGroup nodes; naming, membership and group-level edges."""

from graflow.core.decorators import task
from graflow.core.task import ParallelGroup
from graflow.core.workflow import workflow

with workflow("pg") as wf:

    @task
    def a():
        return 1

    @task
    def b():
        return 2

    @task
    def c():
        return 3

    @task
    def d():
        return 4

    @task
    def e():
        return 5

    g = a | b
    print("type:", type(g).__name__, isinstance(g, ParallelGroup))
    print("id:", g.task_id, "repr:", repr(g))
    g2 = g | c
    print("same object:", g2 is g, "members:", [t.task_id for t in g2.tasks])
    print("members via graph:", wf.graph.get_parallel_group_members(g.task_id))
    print("has_node member:", wf.graph.has_node("b"))
    h = (d | e).set_group_name("tail_group")
    print("renamed:", h.task_id, sorted(wf.graph.nodes))
    pipeline = g >> h
    print("pipeline:", repr(pipeline))
    print("edges:", sorted(wf.graph.get_edges()))
    print("config:", g._execution_config)
    try:
        (a | c).set_group_name("tail_group")
    except ValueError as exc:
        print("rename clash:", type(exc).__name__, "tail_group" in str(exc))
