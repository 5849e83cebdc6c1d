"""execute() with a start node id that is not in the graph.

A task defined outside any workflow block, connected into two workflows.
"""

from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("typo") as wf:

    @task
    def real():
        print("real ran")

    try:
        print("returned:", wf.execute("reall"))
    except Exception as exc:
        print("raised:", type(exc).__name__, "reall" in str(exc))


log = []


@task
def shared():
    log.append("shared")


@task
def tail():
    log.append("tail")


for name in ("first", "second"):
    with workflow(name) as wf:
        shared >> tail
        try:
            print(name, "returned:", wf.execute("shared"))
        except Exception as exc:
            print(name, "raised:", type(exc).__name__)
    print(name, "log:", log)
    log.clear()
