"""terminate_workflow vs cancel_workflow: completion, results, error text, required message."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow
from graflow.exceptions import GraflowRuntimeError, GraflowWorkflowCanceledError


def run(mode):
    log = []
    with workflow(f"tc_{mode}") as wf:

        @task(inject_context=True)
        def first(ctx: TaskExecutionContext):
            log.append("first")
            if mode in ("terminate", "both"):
                ctx.terminate_workflow("done early")
            if mode in ("cancel", "both"):
                ctx.cancel_workflow("abort!")
            if mode == "noarg":
                ctx.terminate_workflow()
            return "first-result"

        @task
        def second():
            log.append("second")

        first >> second
        try:
            result, ctx = wf.execute("first", ret_context=True)
            print(mode, "result:", result, "completed:", ctx.completed_tasks, "steps:", ctx.steps)
        except GraflowWorkflowCanceledError as exc:
            print(mode, "canceled:", str(exc), exc.task_id, isinstance(exc, GraflowRuntimeError))
        except GraflowRuntimeError as exc:
            print(mode, "error:", type(exc).__name__, type(exc.cause).__name__)
    print(mode, "log:", log)


for m in ("terminate", "cancel", "both", "noarg"):
    run(m)
