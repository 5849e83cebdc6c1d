"""ExecutionContext: create(), ids, queue, results, steps, completed tasks.

TaskExecutionContext properties seen by an injected task.
"""

from graflow.core.context import ExecutionContext, TaskExecutionContext, create_execution_context
from graflow.core.decorators import task
from graflow.core.engine import WorkflowEngine
from graflow.core.graph import TaskGraph
from graflow.core.task import TaskWrapper
from graflow.core.workflow import workflow

graph = TaskGraph()
graph.add_node(TaskWrapper("first", lambda: "one", register_to_context=False), "first")
graph.add_node(TaskWrapper("second", lambda: None, register_to_context=False), "second")
graph.add_edge("first", "second")
ctx = ExecutionContext.create(graph)
print("start:", ctx.start_node, "max_steps:", ctx.max_steps, "steps:", ctx.steps)
print("ids:", len(ctx.session_id), ctx.trace_id == ctx.session_id)
print("queue:", ctx.queue is ctx.task_queue, ctx.task_queue.size(), ctx.is_completed())
print(
    "controllers:",
    ctx.cycle_controller.get_max_cycles_for_node("first"),
    ctx.retry_controller.default_max_retries,
)
print("result:", WorkflowEngine().execute(ctx))
print("after:", ctx.steps, ctx.completed_tasks, ctx.is_completed())
print(
    "results:",
    ctx.get_result("first"),
    ctx.get_result("second", "dflt"),
    ctx.get_result("zz", "dflt"),
)
print("channel keys:", sorted(ctx.get_channel().keys()))
ctx.set_result("manual", 5)
print("set_result:", ctx.get_channel().get("manual.__result__"))
helper = create_execution_context()
print("helper:", helper.start_node, helper.max_steps, sorted(helper.graph.nodes))
ctx2 = ExecutionContext.create(graph, "second", max_steps=7, default_max_cycles=3)
print("ctx2:", ctx2.start_node, ctx2.max_steps, ctx2.cycle_controller.get_max_cycles_for_node("x"))
print("ctx2 execute:", ctx2.execute(), ctx2.completed_tasks)


with workflow("props") as wf:

    @task(inject_context=True, max_cycles=5, max_retries=2)
    def probe(ctx: TaskExecutionContext, value=7):
        print("task_id:", ctx.task_id, "value:", value)
        print("cycle:", ctx.cycle_count, ctx.max_cycles, ctx.can_iterate())
        print("retry:", ctx.retry_count, ctx.max_retries)
        print(
            "ids equal:",
            ctx.trace_id == ctx.session_id,
            ctx.session_id == ctx.execution_context.session_id,
        )
        print("graph nodes:", sorted(ctx.graph.nodes))
        ctx.set_local_data("k", "v")
        print("local:", ctx.get_local_data("k"), ctx.get_local_data("zz", "d"))
        print("elapsed ok:", ctx.elapsed_time() >= 0)
        print("channel same:", ctx.get_channel() is ctx.execution_context.channel)
        return "probed"

    @task(inject_context=True)
    def second(ctx: TaskExecutionContext):
        print("get_result:", ctx.get_result("probe"), ctx.get_result("nope", 0))
        print("default max cycles:", ctx.max_cycles, "default retries:", ctx.max_retries)

    probe >> second
    wf.execute("probe")
