"""Workflows for the graflow-dagster tests (importable by reference: module-level tasks)."""

from __future__ import annotations

import os
from typing import Any

from graflow_core.core.decorators import task
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import TaskWrapper
from graflow_core.core.workflow import WorkflowContext, workflow


@task(inject_context=True)
def record_run(ctx: Any) -> str:
    """Returns the run identity the task sees (the Dagster run id on Dagster)."""
    run_id = ctx.execution_context.workflow_run_id
    ctx.get_channel().set("seen_run_id", run_id)
    return str(run_id)


@task
def double(value: int) -> int:
    return value * 2


def shout(input: int) -> str:
    return f"{input}!"


def build_odd_ids() -> WorkflowContext:
    """Task ids Dagster does not allow as names (dots, dashes, a reserved word)."""
    with workflow("odd ids.v2") as wf:
        a = record_run(task_id="fetch-data.v2")
        b = double(task_id="input")
        c = TaskWrapper("shout!", shout, register_to_context=True)
        a >> b >> c  # type: ignore[operator]
    return wf


@task(inject_context=True, retry_policy=RetryPolicy(max_retries=3, initial_interval=0.01))
def always_fails(ctx: Any) -> None:
    """Counts its attempts in a file under ``scratch_dir`` and always fails."""
    path = os.path.join(ctx.get_channel().get("scratch_dir"), "always_fails.attempts")
    count = int(open(path).read()) + 1 if os.path.exists(path) else 1  # noqa: SIM115
    with open(path, "w") as fh:
        fh.write(str(count))
    raise RuntimeError(f"attempt {count} fails")


def build_always_fails() -> WorkflowContext:
    with workflow("always_fails_flow") as wf:
        always_fails >> double  # type: ignore[operator]
    return wf


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def total(numbers: list[int]) -> int:
    return sum(numbers)


@task
def summary(total: int, unit: str = "points") -> str:
    return f"{total} {unit}"


def build_data_flow() -> WorkflowContext:
    """Tasks that only pass named data (results) downstream: renderable as assets."""
    with workflow("data_flow") as wf:
        numbers >> total >> summary  # type: ignore[operator]
    return wf


@task(timeout=5.0, retry_policy=RetryPolicy(max_retries=2, initial_interval=0.5, jitter=True))
def slow_ok(n: int) -> int:
    return n


def build_timeout_retry() -> WorkflowContext:
    with workflow("timeout_retry") as wf:
        slow_ok >> double  # type: ignore[operator]
    return wf


@task
def big_value(n: int) -> list[int]:
    return list(range(n))


@task
def count_big(big_value: list[int]) -> int:
    return len(big_value)


def build_big_values() -> WorkflowContext:
    with workflow("big_values") as wf:
        big_value >> count_big  # type: ignore[operator]
    return wf


@task(timeout=0.3)
def too_slow() -> str:
    import time

    time.sleep(3)
    return "late"


def build_too_slow() -> WorkflowContext:
    with workflow("too_slow_flow") as wf:
        too_slow >> double  # type: ignore[operator]
    return wf


@task(inject_context=True)
def side_trip(ctx: Any, amount: int = 0) -> int:
    ctx.get_channel().set("side", amount)
    return amount


@task(inject_context=True)
def jump_away(ctx: Any) -> str:
    """Jumps to a task that is not in the static graph: the static successor is skipped."""
    ctx.next_task(side_trip(task_id="side_work", amount=7), goto=True)
    return "jumped"


@task
def after_jump() -> str:
    return "must not run"


def build_jump_away() -> WorkflowContext:
    with workflow("jump_away_flow") as wf:
        jump_away >> after_jump  # type: ignore[operator]
    return wf


def not_a_workflow() -> int:
    return 1
