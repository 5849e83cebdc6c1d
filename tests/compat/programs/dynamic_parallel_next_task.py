"""A task queues a parallel group of bound task instances with next_task()."""

import threading

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.task import parallel
from graflow.core.workflow import workflow

lock = threading.Lock()
trace = []

with workflow("fan_out") as wf:

    @task(inject_context=True)
    def root(ctx: TaskExecutionContext):
        trace.append("root")
        ctx.next_task(parallel(leaf(task_id="leaf_a", tag="a"), leaf(task_id="leaf_b", tag="b")))

    @task
    def leaf(tag):
        with lock:
            trace.append(f"leaf:{tag}")
        return tag.upper()

    result, ctx = wf.execute("root", ret_context=True)
    print("trace:", trace[0], sorted(trace[1:]))
    print("results:", ctx.get_result("leaf_a"), ctx.get_result("leaf_b"))
    print("completed:", ctx.completed_tasks[0], len(ctx.completed_tasks))
