"""a | (b | c): a joins the front of the existing group (and maybe also follows it)."""

from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("or_group") as wf:
    ran = []

    @task
    def a():
        ran.append("a")

    @task
    def b():
        ran.append("b")

    @task
    def c():
        ran.append("c")

    g = b | c
    g2 = a | g
    print("same group:", g2 is g, [t.task_id for t in g.tasks])
    print("edges:", sorted(wf.graph.get_edges()))
    wf.execute(g.task_id)
    print("runs of a:", ran.count("a"), "members:", sorted(set(ran)))
