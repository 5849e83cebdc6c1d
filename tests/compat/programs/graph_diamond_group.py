"""a >> (b | c) >> d: the group is a node; d runs once after the whole group (threading)."""

import threading

from graflow.core.decorators import task
from graflow.core.workflow import workflow

lock = threading.Lock()
ran = []


def mark(name):
    with lock:
        ran.append(name)


with workflow("diamond") as wf:

    @task
    def a():
        mark("a")
        return 10

    @task
    def b(a):
        mark("b")
        return a + 1

    @task
    def c(a):
        mark("c")
        return a + 2

    @task
    def d(b, c):
        mark("d")
        return b * c

    seq = a >> (b | c) >> d
    print("seq:", repr(seq))
    print("nodes:", sorted(wf.graph.nodes))
    print("edges:", sorted(wf.graph.get_edges()))
    result, ctx = wf.execute("a", ret_context=True)
    print("first/last:", ran[0], ran[-1], "middle:", sorted(ran[1:-1]))
    print("result:", result)
    print("completed:", ctx.completed_tasks)
    print("steps:", ctx.steps)
    print("group result:", ctx.get_result("ParallelGroup_1"))
