"""Channel through the workflow: initial_channel, result keys, get_result defaults."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("chan") as wf:

    @task(inject_context=True)
    def first(ctx: TaskExecutionContext):
        ch = ctx.get_channel()
        print("seed:", ch.get("seed"))
        ch.set("shared", {"n": 1})
        return None

    @task(inject_context=True)
    def second(ctx: TaskExecutionContext):
        ch = ctx.get_channel()
        print("first result key exists:", ch.exists("first.__result__"), ch.get("first.__result__"))
        print("get_result default:", ctx.get_result("nope", "dflt"))
        print("shared:", ch.get("shared"))
        return [1, 2]

    first >> second
    result, ctx = wf.execute("first", ret_context=True, initial_channel={"seed": 42})
    print("result:", result)
    keys = sorted(ctx.channel.keys())
    print("keys:", keys)
    print("second:", ctx.get_result("second"))
