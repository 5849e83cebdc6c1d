"""fetch >> ((ta >> sub) | tb) >> store: a member's own successor runs inside its branch."""

import threading

from graflow.core.decorators import task
from graflow.core.workflow import workflow

lock = threading.Lock()
ran = []


def mark(x):
    with lock:
        ran.append(x)


with workflow("chained") as wf:

    @task
    def fetch():
        mark("fetch")
        return 1

    @task
    def ta(fetch):
        mark("ta")
        return fetch + 1

    @task
    def sub(ta):
        mark("sub")
        return ta * 10

    @task
    def tb():
        mark("tb")
        return "b"

    @task
    def store(sub, tb):
        mark("store")
        return f"{sub}{tb}"

    g = (ta >> sub) | tb
    print("group:", repr(g))
    fetch >> g >> store
    print("edges:", sorted(wf.graph.get_edges()))
    result, ctx = wf.execute("fetch", ret_context=True)
    print("first/last:", ran[0], ran[-1], "middle:", sorted(ran[1:-1]))
    print("ta before sub:", ran.index("ta") < ran.index("sub"))
    print("result:", result, "completed:", ctx.completed_tasks, "steps:", ctx.steps)
