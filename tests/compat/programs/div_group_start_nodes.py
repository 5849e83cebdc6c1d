"""start >> (a | b) >> end with tasks defined in the block, executed without a start node."""

from graflow.core.decorators import task
from graflow.core.workflow import workflow
from graflow.exceptions import GraphCompilationError

with workflow("level3") as wf:
    ran = []

    @task
    def start():
        ran.append("start")

    @task
    def a():
        ran.append("a")

    @task
    def b():
        ran.append("b")

    @task
    def end():
        ran.append("end")

    start >> (a | b) >> end
    print("start nodes:", sorted(wf.graph.get_start_nodes()))
    try:
        wf.execute()
        print("ran:", ran[0], sorted(ran[1:3]), ran[3])
    except GraphCompilationError as exc:
        print("error:", type(exc).__name__, exc)
