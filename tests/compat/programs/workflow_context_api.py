"""WorkflowContext API: current context, nesting, start detection, visualize_dependencies."""

from graflow.core.decorators import task
from graflow.core.workflow import (
    WorkflowContext,
    clear_workflow_context,
    get_current_workflow_context,
    workflow,
)

print("none active:", get_current_workflow_context())
with workflow("outer") as outer:
    print("type:", type(outer).__name__, isinstance(outer, WorkflowContext), outer.name)
    print("current is outer:", get_current_workflow_context() is outer)
    with workflow("inner") as inner:
        print("current is inner:", get_current_workflow_context() is inner)

        @task
        def in_inner():
            return "inner!"

    print("back to outer:", get_current_workflow_context() is outer)
    print("inner nodes:", sorted(inner.graph.nodes), "outer nodes:", sorted(outer.graph.nodes))

    @task
    def s():
        return "s"

    @task
    def t():
        return "t"

    @task
    def u():
        return "u"

    s >> t >> u
    outer.visualize_dependencies()
    print("auto start:", outer.execute())
    print("explicit start:", outer.execute("t"))
print("after block:", get_current_workflow_context())
print("inner run:", inner.execute())
print(
    "group name:", outer.get_next_group_name() if hasattr(outer, "get_next_group_name") else "n/a"
)
clear_workflow_context()
print("cleared:", get_current_workflow_context())
