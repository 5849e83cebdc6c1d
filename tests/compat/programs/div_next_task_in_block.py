"""next_task with a task created during the run, inside a `with workflow()` block."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.task import TaskWrapper
from graflow.core.workflow import workflow

log = []
with workflow("dyn") as wf:

    @task(inject_context=True)
    def start(ctx: TaskExecutionContext):
        log.append("start")
        ctx.next_task(TaskWrapper("extra", lambda: log.append("extra")))

    @task
    def after():
        log.append("after")

    start >> after
    result, ctx = wf.execute("start", ret_context=True)
print("log:", log)
print("completed:", ctx.completed_tasks)
