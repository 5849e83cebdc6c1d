"""next_iteration: cycle budget, can_iterate, data passing and CycleLimitExceededError."""

from graflow.core.context import ExecutionContext, TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.engine import WorkflowEngine
from graflow.core.graph import TaskGraph
from graflow.exceptions import CycleLimitExceededError

graph = TaskGraph()
seen = []


@task(inject_context=True, max_cycles=4)
def counter(ctx: TaskExecutionContext, data=None):
    total = (data or 0) + 1
    seen.append(
        (ctx.cycle_count, ctx.max_cycles, ctx.can_iterate(), total, ctx.task_id == "counter")
    )
    if ctx.can_iterate():
        ctx.next_iteration(total)
    return total


graph.add_node(counter, "counter")
ctx = ExecutionContext.create(graph, "counter")
result = WorkflowEngine().execute(ctx)
for row in seen:
    print("cycle:", row)
print("result:", result, "steps:", ctx.steps, "completed:", len(ctx.completed_tasks))
print(
    "iteration ids:",
    sorted(
        t.split("_cycle_")[0] + "_cycle_" + t.split("_cycle_")[1].split("_")[0]
        for t in ctx.completed_tasks
        if "_cycle_" in t
    ),
)

graph2 = TaskGraph()


@task(inject_context=True, max_cycles=2)
def greedy(ctx: TaskExecutionContext, data=None):
    ctx.next_iteration()


graph2.add_node(greedy, "greedy")
try:
    WorkflowEngine().execute(ExecutionContext.create(graph2, "greedy"))
except CycleLimitExceededError as exc:
    print("limit:", type(exc).__name__, exc)
    print("attrs:", exc.task_id, exc.cycle_count, exc.max_cycles)
