"""Tasks chained outside any block land in the implicit global workflow context."""

from graflow.core.decorators import task
from graflow.core.workflow import current_workflow_context, get_current_workflow_context

print("before:", get_current_workflow_context())


@task
def g_first():
    print("g_first ran")
    return 1


@task
def g_second(g_first):
    print("g_second got", g_first)


print("pending before chain:", g_first._pending_registration)
g_first >> g_second
ctx = current_workflow_context()
print("implicit created:", get_current_workflow_context() is ctx, len(ctx.name))
print("nodes:", sorted(ctx.graph.nodes), "edges:", ctx.graph.get_edges())
ctx.execute("g_first")
print("same again:", current_workflow_context() is ctx)
