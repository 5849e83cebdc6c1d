"""Module-level tasks for the spec tests: importable as ``spec_sample_tasks`` (tests/spec is on
sys.path while its tests run), so specs built from them load back.

Every task writes what it did to the channel under keys of its own, so two runs (of the
original workflow and of the one loaded from its spec) can be compared key by key even when
parallel members run on threads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypedDict

from graflow_core import RetryPolicy, Task, task, workflow
from graflow_core.core.handler import TaskHandler
from graflow_core.core.handlers.group_policy import (
    AtLeastNGroupPolicy,
    CriticalGroupPolicy,
    GroupExecutionPolicy,
)
from graflow_core.core.task_types import TaskType, register_task_type
from graflow_core.exceptions import ParallelGroupError
from graflow_core.resilience.circuit_breaker import CircuitBreaker, register_circuit_breaker

# -- plain data tasks --------------------------------------------------------------------------


@task
def source() -> int:
    return 3


@task
def double(source: int) -> int:
    return source * 2


@task("add_one")
def add_one_impl(double: int) -> int:
    return double + 1


@task(inject_context=True)
def step(ctx: Any, k: int = 0, salt: Any = 1, extra: Any = None) -> str:
    """The generic task of the random workflows: records itself under its own keys."""
    value = f"{ctx.task_id}:{k}:{salt}"
    ctx.get_channel().set(f"seen.{ctx.task_id}", [k, salt, extra])
    return value


class StepFailure(Exception):
    pass


@task(inject_context=True)
def fail_step(ctx: Any, k: int = 0) -> None:
    ctx.get_channel().set(f"seen.{ctx.task_id}", k)
    raise StepFailure(f"{ctx.task_id} fails (k={k})")


@task(inject_context=True, retry_policy=RetryPolicy(2, 0.0, 1.0, 0.0, False))
def flaky(ctx: Any) -> int:
    """Fails on its first attempt, succeeds on the second."""
    channel = ctx.get_channel()
    key = f"attempts.{ctx.task_id}"
    attempts = channel.get(key, 0) + 1
    channel.set(key, attempts)
    if attempts < 2:
        raise StepFailure(f"{ctx.task_id}: attempt {attempts}")
    return attempts


@task(max_retries=3, max_cycles=4, resolve_keyword_args=False)
def configured(value: int = 7) -> int:
    return value


# -- dynamic features --------------------------------------------------------------------------


@task(inject_context=True)
def router(ctx: Any, target: str = "dyn") -> str:
    ctx.next_task(step(task_id=target, k=99), goto=True)
    return "routed"


@task(inject_context=True, max_cycles=5)
def counter(ctx: Any, data: Any = None) -> int:
    n = (data or 0) + 1
    ctx.get_channel().set("counter", n)
    if n < 3 and ctx.can_iterate():
        ctx.next_iteration(n)
    return n


def _stop(ctx: Any) -> None:
    ctx.terminate_workflow("enough")


@task(inject_context=True)
def stopper(ctx: Any) -> str:
    _stop(ctx)  # through a module-level helper: still detected
    return "stopped"


@task(inject_context=True)
def canceller(ctx: Any) -> None:
    ctx.cancel_workflow("no")


@task(inject_context=True)
def saver(ctx: Any) -> str:
    ctx.checkpoint({"at": "saver"})
    return "saved"


class Message(TypedDict):
    text: str


@task(inject_context=True)
def typed_writer(ctx: Any) -> str:
    ctx.get_typed_channel(Message).set("msg", {"text": "hi"})
    return "written"


def _with_inner(ctx: Any) -> Callable[[], None]:
    def inner() -> None:
        ctx.next_iteration()

    return inner


@task(inject_context=True)
def nested_code(ctx: Any) -> int:
    values = [ctx.get_result(x) for x in ("a", "b")]  # a comprehension: nested code
    return len(values)


# -- decorated functions, placeholders, LLM injection ------------------------------------------


def logged(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return ("logged", func(*args, **kwargs))

    return wrapper


@task
@logged
def decorated(x: int = 1) -> int:
    return x


@task(inject_llm_client=True, inject_llm_agent="helper")
def llm_user(llm_client: Any = None, llm_agent: Any = None) -> str:
    return "llm"


def plain_function(x: int = 2) -> int:
    return x * 10


# -- handlers, task types, breakers ------------------------------------------------------------


class TaggingHandler(TaskHandler):
    def execute_task(self, task: Any, context: Any) -> Any:
        result = ("tagged", task.run())
        context.set_result(task.task_id, result)
        return result


@task(handler="spec_tagging")
def handled() -> int:
    return 5


class EchoType(TaskType):
    name = "spec-test-echo"
    options = ("prefix",)

    def build(self, target: Any, *, task_id: str | None, options: dict[str, Any]) -> Any:
        prefix = options.get("prefix", "")

        def run(**kwargs: Any) -> str:
            return f"{prefix}{target(**kwargs)}"

        return run


register_task_type(EchoType(), replace=True)


def echo_target() -> str:
    return "echo"


echoed = task(id="echoed", type="spec-test-echo", type_options={"prefix": ">"})(echo_target)

BREAKER = register_circuit_breaker(CircuitBreaker("spec-test-breaker", failure_threshold=3))


@task(timeout=5.0, circuit_breaker="spec-test-breaker")
def guarded() -> str:
    return "guarded"


# -- group policies ----------------------------------------------------------------------------


class AllowFailures(GroupExecutionPolicy):
    """Fails the group when more than ``allowed`` members failed."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed

    def on_group_finished(self, group_id: str, tasks: Any, results: Any, context: Any) -> None:
        failed = [(tid, r.error_message) for tid, r in results.items() if not r.success]
        if len(failed) > self.allowed:
            raise ParallelGroupError(
                f"{group_id}: {len(failed)} failures > {self.allowed}",
                group_id=group_id,
                failed_tasks=failed,
                successful_tasks=[tid for tid, r in results.items() if r.success],
            )


TOLERANT = AllowFailures(1)


class StrictCritical(CriticalGroupPolicy):
    """A subclass of a built-in policy: described as a custom policy."""


# -- a workflow using everything ---------------------------------------------------------------


def build_everything() -> Any:
    """One workflow with every static feature the spec describes."""
    with workflow("everything", version="2.1", retry_policy=RetryPolicy(1, 0.0, 2.0, 5.0)) as wf:
        noop = Task("noop")
        critical_group = (step(task_id="c1", k=1) | fail_step(task_id="c2", k=2)).with_execution(
            backend="direct", policy=CriticalGroupPolicy(["c1"])
        )
        at_least = (step(task_id="l1", k=3) | fail_step(task_id="l2")).with_execution(
            backend="threading", backend_config={"thread_count": 2}, policy=AtLeastNGroupPolicy(1)
        )
        tolerant = (step(task_id="t1") | fail_step(task_id="t2")).with_execution(policy=TOLERANT)
        custom = (step(task_id="u1") | step(task_id="u2")).with_execution(policy=AllowFailures(0))
        best = (
            fail_step(task_id="b1") | (step(task_id="b2") >> step(task_id="b3"))
        ).with_execution(policy="best_effort")
        best.set_group_name("best")
        inner = step(task_id="i1", k=1) | step(task_id="i2", k=2)
        from graflow_core.core.task import ParallelGroup

        outer = ParallelGroup([inner, step(task_id="o1", salt="x")])
        (
            source
            >> double
            >> add_one_impl
            >> noop
            >> critical_group
            >> at_least
            >> tolerant
            >> custom
            >> best
            >> outer
            >> flaky
            >> configured
            >> decorated
            >> handled
            >> echoed
            >> guarded
            >> step(task_id="last", k=5, salt=2.5, extra={"a": [1, None, True], "b": "s"})
        )
    return wf


class Tools:
    """Methods as task functions."""

    @classmethod
    def make(cls, n: int = 1) -> str:
        return f"{cls.__name__}:{n}"

    @staticmethod
    def helper(n: int = 2) -> int:
        return n + 1

    def bound(self) -> None:
        pass
