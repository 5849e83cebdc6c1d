"""Retries: tail re-queue order, retry_count, RetryPolicy delays (sleep patched), exhaustion."""

import graflow.core.engine as engine_mod
from graflow.core.context import ExecutionContext, TaskExecutionContext
from graflow.core.decorators import task
from graflow.core.engine import WorkflowEngine
from graflow.core.graph import TaskGraph
from graflow.core.retry import RetryPolicy
from graflow.exceptions import GraflowRuntimeError, RetryLimitExceededError

sleeps = []
engine_mod.time.sleep = lambda s: sleeps.append(round(s, 3))

policy = RetryPolicy(max_retries=3, initial_interval=0.5, backoff_factor=3.0, max_interval=2.0)
print("policy delays:", [policy.get_delay(k) for k in range(4)])
print("policy defaults:", RetryPolicy().max_retries, RetryPolicy().initial_interval)

log = []
graph = TaskGraph()
attempts = {"flaky": 0}


@task(inject_context=True, retry_policy=policy)
def flaky(ctx: TaskExecutionContext):
    attempts["flaky"] += 1
    log.append(f"flaky try={ctx.retry_count}/{ctx.max_retries}")
    if attempts["flaky"] < 3:
        raise ConnectionError(f"boom {attempts['flaky']}")
    return "ok"


@task
def sibling():
    log.append("sibling")


@task
def start():
    log.append("start")


for t in (start, flaky, sibling):
    graph.add_node(t, t.task_id)
graph.add_edge("start", "flaky")
graph.add_edge("start", "sibling")
ctx = ExecutionContext.create(graph, "start")
WorkflowEngine().execute(ctx)
print("log:", log)
print("sleeps:", sleeps)
print("steps:", ctx.steps, "completed:", ctx.completed_tasks)

graph2 = TaskGraph()


@task(max_retries=2)
def always():
    raise ValueError("nope")


graph2.add_node(always, "always")
try:
    WorkflowEngine().execute(ExecutionContext.create(graph2, "always"))
except RetryLimitExceededError as exc:
    print("exhausted:", type(exc).__name__, isinstance(exc, GraflowRuntimeError))
    print("str:", exc)
    print("attrs:", exc.task_id, exc.retry_count, exc.max_retries, type(exc.cause).__name__)

graph3 = TaskGraph()
count = {"n": 0}


@task
def uses_default():
    count["n"] += 1
    if count["n"] < 2:
        raise RuntimeError("first fails")
    return "recovered"


graph3.add_node(uses_default, "uses_default")
c3 = ExecutionContext.create(graph3, "uses_default", default_max_retries=1)
print("default retries:", WorkflowEngine().execute(c3), count["n"])
