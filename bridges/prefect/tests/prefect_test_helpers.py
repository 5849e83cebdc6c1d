"""Workflows and a capturing plugin for the graflow-prefect tests (importable by reference)."""

from __future__ import annotations

import time
from typing import Any

from graflow_core.core.decorators import task
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import ParallelGroup
from graflow_core.core.workflow import WorkflowContext, workflow
from graflow_core.testing.catalog import channel_dict
from graflow_core.testing.hooks import HookRecorder


class Capture(HookRecorder):
    """Records every hook call of a run (core's HookRecorder) and reads back what tests check."""

    @property
    def context(self) -> Any:
        """The run's ExecutionContext (from workflow_end or workflow_failure)."""
        ends = self.get_calls("workflow_end") or self.get_calls("workflow_failure")
        return ends[-1]["context"] if ends else None

    @property
    def channel(self) -> dict[str, Any] | None:
        """The final channel of the run as a dict."""
        context = self.context
        return None if context is None else channel_dict(context)

    @property
    def retries(self) -> list[tuple[str, int, float]]:
        return [(c["task_id"], c["attempt"], c["delay"]) for c in self.get_calls("task_retry")]

    @property
    def failures(self) -> list[tuple[str, bool]]:
        return [(c["task_id"], c["final"]) for c in self.get_calls("task_failure")]


class HelperError(Exception):
    """The intended failure of the helper workflows."""


# -- a group whose members sleep, to observe concurrency ------------------------------------------


@task(inject_context=True)
def sleeper(ctx: Any, pause: float = 0.3) -> float:
    start = time.time()
    time.sleep(pause)
    ctx.get_channel().set(f"span.{ctx.task_id}", [start, time.time()])
    return pause


@task
def gather() -> str:
    return "gathered"


#: attempts of flaky_member per workflow run (a member's retries run on the task runner's threads)
FLAKY_ATTEMPTS: dict[str, int] = {}


@task(inject_context=True, retry_policy=RetryPolicy(max_retries=2, initial_interval=0.0))
def flaky_member(ctx: Any) -> int:
    run_id = ctx.execution_context.workflow_run_id
    FLAKY_ATTEMPTS[run_id] = FLAKY_ATTEMPTS.get(run_id, 0) + 1
    if FLAKY_ATTEMPTS[run_id] == 1:
        raise HelperError("the first attempt of a group member fails")
    ctx.get_channel().set("flaky.retry_count", ctx.retry_count)
    return FLAKY_ATTEMPTS[run_id]


def build_sleepers() -> WorkflowContext:
    with workflow("sleepers") as wf:
        group = ParallelGroup(
            [sleeper(task_id="s1"), sleeper(task_id="s2"), flaky_member(task_id="flaky")],
            name="sleep_group",
        ).with_execution(backend_config={"thread_count": 3})
        group >> gather
    return wf


# -- a task that always fails, with a backoff policy ----------------------------------------------

ALWAYS_FAILS_POLICY = RetryPolicy(
    max_retries=3, initial_interval=0.01, backoff_factor=3.0, max_interval=0.05
)


@task(inject_context=True, retry_policy=ALWAYS_FAILS_POLICY)
def always_fails(ctx: Any) -> None:
    channel = ctx.get_channel()
    channel.set("seen_retry_counts", [*channel.get("seen_retry_counts", []), ctx.retry_count])
    raise HelperError(f"attempt {ctx.retry_count + 1} fails")


def build_always_fails() -> WorkflowContext:
    with workflow("always_fails") as wf:
        always_fails  # noqa: B018 - a one-task workflow
        wf.graph.add_node(always_fails, "always_fails", skip_if_exists=True)
    return wf


# -- a timeout -------------------------------------------------------------------------------------


@task(timeout=0.2)
def too_slow() -> str:
    time.sleep(1.0)
    return "late"


def build_too_slow() -> WorkflowContext:
    with workflow("too_slow") as wf:
        wf.graph.add_node(too_slow, "too_slow", skip_if_exists=True)
    return wf


def parent_flow_of(bridged: Any) -> Any:
    """A hand-written Prefect flow that calls the bridged flow as a subflow."""
    from prefect import flow

    @flow(name="parent_of_bridged")
    def parent(n: int) -> str:
        return f"parent got {bridged(n=n)}"

    return parent
