"""Threading branches: channel writes and member results are merged for successors."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("branches") as wf:

    @task(inject_context=True)
    def init(ctx: TaskExecutionContext):
        ctx.get_channel().set("base", "v0")
        ctx.get_channel().set("counter", 0)

    def make(i):
        @task(id=f"worker_{i}", inject_context=True)
        def worker(ctx: TaskExecutionContext):
            ch = ctx.get_channel()
            ch.set(f"out_{i}", ch.get("base") + f"-{i}")
            for _ in range(10):
                ch.atomic_add("counter", 1)
            return i * i

        return worker

    workers = [make(i) for i in range(4)]
    group = workers[0] | workers[1]
    for w in workers[2:]:
        group = group | w

    @task(inject_context=True)
    def report(ctx: TaskExecutionContext, worker_3):
        ch = ctx.get_channel()
        print("outs:", [ch.get(f"out_{i}") for i in range(4)])
        print("results:", [ctx.get_result(f"worker_{i}") for i in range(4)], worker_3)
        print("counter:", ch.get("counter"))

    init >> group >> report
    result, ctx = wf.execute("init", ret_context=True)
    print("completed:", ctx.completed_tasks, "steps:", ctx.steps)
