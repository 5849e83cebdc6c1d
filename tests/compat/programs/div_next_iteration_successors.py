"""next_iteration() in a task that has a static successor, inside a workflow block."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow

log = []
with workflow("refine") as wf:

    @task(inject_context=True, max_cycles=3)
    def refine(ctx: TaskExecutionContext, data=None):
        log.append(f"refine#{ctx.cycle_count}")
        if ctx.can_iterate():
            ctx.next_iteration()

    @task
    def publish():
        log.append("publish")

    refine >> publish
    wf.execute("refine")
print("log:", log)
