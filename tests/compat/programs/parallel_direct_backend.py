"""DIRECT backend: members run in order on the shared context (and appear as completed)."""

import logging

from graflow.coordination.coordinator import CoordinationBackend
from graflow.core.decorators import task
from graflow.core.workflow import workflow
from graflow.exceptions import ParallelGroupError

logging.disable(logging.CRITICAL)
log = []
with workflow("direct") as wf:

    @task
    def a():
        log.append("a")
        return 1

    @task
    def b(a):
        log.append(f"b({a})")
        return 2

    @task
    def c():
        log.append("c")
        return 3

    @task
    def d(b, c):
        log.append(f"d({b},{c})")

    g = (b | c).with_execution(backend=CoordinationBackend.DIRECT)
    print("backend:", g._execution_config["backend"])
    a >> g >> d
    result, ctx = wf.execute("a", ret_context=True)
    print("log:", log)
    print("completed:", ctx.completed_tasks)
    print("steps:", ctx.steps)

with workflow("direct_fail") as wf:

    @task
    def good():
        return "g"

    @task
    def broken():
        raise ValueError("broken!")

    g = (good | broken).with_execution(backend="direct")
    try:
        wf.execute(g.task_id)
    except ParallelGroupError as exc:
        print("direct failed:", exc, exc.failed_tasks, exc.successful_tasks)

log.clear()
with workflow("direct_drain") as wf:

    @task
    def s():
        log.append("s")

    @task
    def m1():
        log.append("m1")

    @task
    def m2():
        log.append("m2")

    @task
    def e():
        log.append("e")

    g = (m1 | m2).with_execution(backend=CoordinationBackend.DIRECT)
    s >> g
    s >> e
    wf.execute("s")
    print("drain order:", log)
