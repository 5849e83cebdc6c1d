"""A failed run on Airflow reports the graflow engine's final channel: what ran until the
failure, the failing task's own writes and its exception result included (issue 8)."""

from __future__ import annotations

from typing import Any

import pytest

from graflow_core import task, workflow
from graflow_core.spec.target_run import run_native, run_on
from graflow_core.testing.catalog import get_example


def _comparable(channel: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (type(v).__name__, str(v)) if isinstance(v, BaseException) else v
        for k, v in channel.items()
    }


@pytest.mark.parametrize("name", ["failing", "group_failure", "cancel"])
def test_failed_run_has_the_engines_channel(name, airflow_env):
    example = get_example(name)
    native = run_native(example.build, example.run_params())
    run = run_on("airflow", example.build, example.run_params(), dag_id=f"failed_channel_{name}")
    assert type(run.error) is type(native.error) is example.error
    assert _comparable(run.channel) == _comparable(native.channel)
    assert run.result is None


def test_the_failing_task_pushes_its_partial_output_and_nothing_downstream_runs(airflow_env):
    from graflow_airflow.local import read_run
    from graflow_airflow.render import FAILED_PAYLOAD_KEY, PAYLOAD_KEY

    from graflow_core.steps import StepOutput

    example = get_example("failing")
    run = run_on("airflow", example.build, example.run_params(), dag_id="failed_channel_xcom")
    assert run.states == {"load": "success", "explode": "failed", "never_runs": "upstream_failed"}
    xcoms = read_run(run.details["dag_id"], run.details["dag_run_id"]).all_xcoms
    assert ("explode", PAYLOAD_KEY, -1) not in xcoms  # downstream tasks see no output of it
    partial = StepOutput.from_payload(xcoms[("explode", FAILED_PAYLOAD_KEY, -1)])
    assert partial.error is not None and "explode fails on purpose" in partial.error
    assert partial.value("exploded") is True


def test_graflow_operator_pushes_the_channel_when_the_workflow_fails(airflow_env):
    from graflow_airflow.local import read_run
    from graflow_airflow.operator import CHANNEL_KEY, RESULT_KEY_PREFIX

    example = get_example("cancel")  # hosted as a whole: one GraflowOperator
    run = run_on("airflow", example.build, example.run_params(), dag_id="failed_channel_hosted")
    assert run.details["hosted"] and run.native_tasks == 1
    xcoms = read_run(run.details["dag_id"], run.details["dag_run_id"]).all_xcoms
    (task_id,) = run.states
    assert xcoms[(task_id, CHANNEL_KEY, -1)] == {"n": 1, "cancelled_at": 2}
    assert xcoms[(task_id, f"{RESULT_KEY_PREFIX}load", -1)] == 2
    assert xcoms[(task_id, f"{RESULT_KEY_PREFIX}cancel_here", -1)] == "cancelling"


class HostedBreak(Exception):
    """What the hosted workflow's failing task raises."""


@task(inject_context=True)
def maybe_stop(ctx: Any) -> str:
    ctx.get_channel().set("checked", True)
    if ctx.get_channel().get("stop", False):
        ctx.terminate_workflow("asked to stop")  # makes the workflow hosted as a whole
    return "went on"


@task(inject_context=True)
def breaks(ctx: Any, maybe_stop: str) -> None:
    ctx.get_channel().set("half_done", maybe_stop)
    raise HostedBreak("breaks on purpose")


def test_a_hosted_workflow_failing_keeps_the_failing_tasks_exception_result(airflow_env):
    with workflow("failed_channel_hosted_break") as wf:
        maybe_stop >> breaks
    native = run_native(wf, {})
    run = run_on("airflow", wf, {}, dag_id="failed_channel_hosted_break")
    assert run.details["hosted"]
    assert type(run.error) is type(native.error)
    assert isinstance(run.error.__cause__, HostedBreak)
    assert _comparable(run.channel) == _comparable(native.channel)
    assert isinstance(run.channel["breaks.__result__"], HostedBreak)
    assert run.channel["half_done"] == "went on"
