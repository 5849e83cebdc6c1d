"""A custom TaskHandler registered on your own WorkflowEngine."""

from graflow.core.context import ExecutionContext
from graflow.core.decorators import task
from graflow.core.engine import WorkflowEngine
from graflow.core.handler import TaskHandler
from graflow.core.handlers.direct import DirectTaskHandler
from graflow.core.workflow import workflow


class Upper(TaskHandler):
    def execute_task(self, task, context):
        result = task.run()
        print("Upper handled", task.task_id)
        context.set_result(task.task_id, str(result).upper())
        return str(result).upper()


print("handler name:", Upper().get_name(), DirectTaskHandler().get_name())
with workflow("handlers") as wf:

    @task
    def plain():
        return "plain"

    @task(handler="upper")
    def shout():
        return "quiet"

    @task(inject_context=True)
    def show(ctx):
        print("results:", ctx.get_result("plain"), ctx.get_result("shout"))

    plain >> shout >> show
    print("handler types:", plain.handler_type, shout.handler_type)
    engine = WorkflowEngine()
    print("default handlers:", sorted(engine._handlers))
    engine.register_handler("upper", Upper())
    ctx = ExecutionContext.create(wf.graph, "plain")
    engine.execute(ctx)
    try:
        WorkflowEngine()._get_handler(shout)
    except ValueError as exc:
        print("unknown handler:", exc)
