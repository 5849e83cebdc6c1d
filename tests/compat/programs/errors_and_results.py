"""Exception types and messages: wrapping, duplicates, start-node detection, hierarchy.

What execute() returns and what is stored as results (None, exceptions, groups).
"""

from graflow import exceptions as ex
from graflow.core.decorators import task
from graflow.core.workflow import workflow
from graflow.exceptions import GraflowRuntimeError

print("hierarchy:", [c.__name__ for c in ex.ParallelGroupError.__mro__[:4]])
print("dup is compile error:", issubclass(ex.DuplicateTaskError, ex.GraphCompilationError))
err = ex.GraflowError("outer", cause=ValueError("inner"))
print("with cause:", str(err), "|", type(err.cause).__name__)
print("no cause:", str(ex.GraflowError("plain")))
print("as_runtime_error:", str(ex.as_runtime_error(KeyError("k"))))
kept = ex.CycleLimitExceededError("t", 3, 3)
print("kept:", ex.as_runtime_error(kept) is kept)

with workflow("boom") as wf:

    @task
    def explode():
        raise ZeroDivisionError("div by zero")

    try:
        wf.execute("explode")
    except ex.GraflowRuntimeError as exc:
        print("wrapped:", type(exc).__name__, "|", exc, "|", type(exc.cause).__name__)

with workflow("dup"):

    @task
    def same():
        pass

    try:

        @task("same")
        def same2():
            pass

    except ex.DuplicateTaskError as exc:
        print("duplicate:", type(exc).__name__, str(exc).startswith("Duplicate task ID: "))

with workflow("multi") as wf:

    @task
    def r1():
        pass

    @task
    def r2():
        pass

    try:
        wf.execute()
    except ex.GraphCompilationError as exc:
        print("multiple:", str(exc).startswith("Multiple start nodes found, please specify one."))

with workflow("empty") as wf:
    try:
        wf.execute()
    except ex.GraphCompilationError as exc:
        print("none:", type(exc).__name__)


with workflow("ret") as wf:

    @task
    def first():
        return {"k": 1}

    @task
    def returns_none():
        return None

    first >> returns_none
    result, ctx = wf.execute("first", ret_context=True)
    print("result:", result)
    print("stored None:", ctx.get_channel().exists("returns_none.__result__"))
    print("first:", ctx.get_result("first"))

with workflow("ret_group") as wf:

    @task
    def x():
        return "x"

    @task
    def y():
        return "y"

    g = x | y
    result, ctx = wf.execute(g.task_id, ret_context=True)
    print("group last result:", result, ctx.get_result(g.task_id, "missing"))


with workflow("ret_fail2") as wf:

    @task
    def fails2():
        raise ValueError("bad value")

    from graflow.core.context import ExecutionContext

    ectx = ExecutionContext.create(wf.graph, "fails2")
    try:
        ectx.execute()
    except GraflowRuntimeError as exc:
        stored = ectx.get_result("fails2")
        print("stored exception:", type(stored).__name__, stored, stored is exc.cause)
