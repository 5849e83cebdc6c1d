"""A failed run on Dagster reports the graflow engine's final channel: what ran until the
failure, the failing op's own writes and its exception result included (issue 8)."""

from __future__ import annotations

from typing import Any

import pytest
from dagster import DagsterEventType, DagsterInstance

from graflow_core import task, workflow
from graflow_core.core.workflow import WorkflowContext
from graflow_core.exceptions import ParallelGroupError
from graflow_core.spec.target_run import run_native, run_on
from graflow_core.testing.catalog import get_example


def _comparable(channel: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (type(v).__name__, str(v)) if isinstance(v, BaseException) else v
        for k, v in channel.items()
    }


@pytest.mark.parametrize("name", ["failing", "group_failure", "cancel"])
def test_failed_run_has_the_engines_channel(
    name: str, dagster_memory_instance: DagsterInstance
) -> None:
    example = get_example(name)
    params = example.run_params()
    native = run_native(example.build, params)
    run = run_on("dagster", example.reference, params, instance=dagster_memory_instance)
    assert type(run.error) is type(native.error) is example.error
    assert _comparable(run.channel) == _comparable(native.channel)
    assert run.result is None


def test_the_failing_op_still_fails_and_nothing_downstream_runs(
    dagster_memory_instance: DagsterInstance,
) -> None:
    example = get_example("failing")
    params = example.run_params()
    run = run_on("dagster", example.reference, params, instance=dagster_memory_instance)
    assert run.states == {"load": "success", "explode": "failed", "never_runs": "upstream_failed"}
    started = dagster_memory_instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
    assert sorted(e.step_key for e in started) == ["explode", "load"]
    failures = dagster_memory_instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE)
    assert [e.step_key for e in failures] == ["explode"]
    assert run.channel["exploded"] is True


@task
def start() -> int:
    return 1


@task
def member_ok() -> int:
    return 2


@task
def member_bad() -> int:
    raise ValueError("the member fails")


@task(inject_context=True)
def side_bad(ctx: Any) -> int:
    ctx.get_channel().set("side_wrote", True)
    raise KeyError("the independent branch fails")


def build_two_failures() -> WorkflowContext:
    """A strict group failing and an independent branch (later in plan order) failing."""
    with workflow("two_failures") as wf:
        start >> (member_ok | member_bad).set_group_name("grp")  # type: ignore[operator]
        start >> side_bad  # type: ignore[operator]
    return wf


def test_the_error_is_the_first_failure_in_plan_order(
    dagster_memory_instance: DagsterInstance,
) -> None:
    native = run_native(build_two_failures, {})
    run = run_on("dagster", build_two_failures, {}, instance=dagster_memory_instance)
    assert type(native.error) is ParallelGroupError
    assert type(run.error) is ParallelGroupError  # not the branch the engine never reached
    assert run.states["grp"] == run.states["side_bad"] == "failed"
    # the engine stopped at the group; Dagster also ran the independent branch (an extra)
    assert _comparable(native.channel).items() <= _comparable(run.channel).items()
    assert run.channel["side_wrote"] is True
