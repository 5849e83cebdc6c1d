"""next_task on the low-level TaskGraph API: new tasks keep successors, goto skips them."""

from graflow.core.context import ExecutionContext, TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.engine import WorkflowEngine
from graflow.core.graph import TaskGraph
from graflow.core.task import TaskWrapper


def build(mode):
    log = []
    graph = TaskGraph()

    @task(inject_context=True)
    def start(ctx: TaskExecutionContext):
        log.append("start")
        if mode == "new":
            tid = ctx.next_task(TaskWrapper("extra", lambda: log.append("extra")))
            log.append(f"queued:{tid}")
        elif mode == "goto":
            ctx.next_task(TaskWrapper("jump", lambda: log.append("jump")), goto=True)
        elif mode == "existing":
            ctx.next_task(graph.get_node("side"))

    @task
    def after():
        log.append("after")

    @task
    def side():
        log.append("side")

    for t in (start, after, side):
        graph.add_node(t, t.task_id)
    graph.add_edge("start", "after")
    ctx = ExecutionContext.create(graph, "start")
    WorkflowEngine().execute(ctx)
    print(f"{mode}:", log, ctx.completed_tasks, "graph has extra:", graph.has_node("extra"))


for mode in ("plain", "new", "goto", "existing"):
    build(mode)
