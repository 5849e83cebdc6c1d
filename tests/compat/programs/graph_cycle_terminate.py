"""A static cycle agent >> tool >> agent ended by terminate_workflow; cycle counts."""

from graflow.core.context import TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.workflow import workflow

with workflow("loop") as wf:
    log = []

    @task(inject_context=True)
    def agent(ctx: TaskExecutionContext):
        log.append(f"agent#{ctx.cycle_count}")
        if ctx.cycle_count >= 3:
            ctx.terminate_workflow("enough")
            return "final"
        return f"ask{ctx.cycle_count}"

    @task
    def tool(agent):
        log.append(f"tool({agent})")
        return "tool-out"

    @task
    def never():
        log.append("never")

    agent >> tool >> agent
    tool >> never
    print("cycles:", [sorted(cyc) for cyc in wf.graph.detect_cycles()])
    result, ctx = wf.execute("agent", ret_context=True)
    print("log:", log)
    print("result:", result)
    print("completed:", ctx.completed_tasks)
    print("steps:", ctx.steps)
    print("cycle counts:", ctx.cycle_controller.get_cycle_count("agent"))
