"""goto=True to an existing node inside a workflow block: successors skipped, target runs."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow

log = []
with workflow("goto") as wf:

    @task(inject_context=True)
    def check(ctx: TaskExecutionContext):
        log.append("check")
        ctx.next_task(handle_error, goto=True)
        return "checked"

    @task
    def normal():
        log.append("normal")

    @task
    def handle_error(check):
        log.append(f"handle_error({check})")
        return "handled"

    check >> normal
    result, ctx = wf.execute("check", ret_context=True)
print("log:", log)
print("result:", result)
print("completed:", ctx.completed_tasks)
