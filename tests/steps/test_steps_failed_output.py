"""A failed step keeps its channel: run_step attaches the partial output to what it raises.

The graflow engine's channel after a failure holds what the failing task wrote before raising
and its exception as its result; a step's partial output (``failed_output(exc)``) holds the
same, so run_plan -- and the orchestrators -- report the engine's final channel for failed runs.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from graflow_core.exceptions import (
    GraflowRuntimeError,
    GraflowWorkflowCanceledError,
    ParallelGroupError,
)
from graflow_core.spec.target_run import run_native
from graflow_core.steps import (
    FAILED_OUTPUT_ATTR,
    StepInputs,
    StepOutput,
    UpstreamFailed,
    failed_output,
    run_plan,
    run_step,
)
from graflow_core.testing.catalog import CatalogError, get_example

CATALOG = "graflow_core.testing.catalog"


def _comparable(channel: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (type(v).__name__, str(v)) if isinstance(v, BaseException) else v
        for k, v in channel.items()
    }


def test_a_failing_task_step_carries_its_writes_and_exception_result(store_dir):
    ref = f"{CATALOG}:build_failing"
    load = run_step(ref, "load", StepInputs(params={"n": 1}), workflow_run_id="r", store=store_dir)
    inputs = StepInputs(params={"n": 1}, upstream={"load": load.to_payload()})
    with pytest.raises(GraflowRuntimeError) as caught:
        run_step(ref, "explode", inputs, workflow_run_id="r", store=store_dir)
    partial = failed_output(caught.value)
    assert partial is not None
    assert partial.step_id == "explode"
    assert partial.error is not None and partial.error.startswith("GraflowRuntimeError: ")
    assert partial.value("load.__result__") == 2  # the ancestors' state, writer positions kept
    assert partial.state["load.__result__"][0] == load.index
    assert partial.value("exploded") is True  # written before the task raised
    assert isinstance(partial.value("explode.__result__"), CatalogError)
    assert set(partial.own) == {"exploded", "explode.__result__"}
    # the payload form is JSON-ready, travels with the pickled exception and reads back
    again = pickle.loads(pickle.dumps(caught.value))
    assert getattr(again, FAILED_OUTPUT_ATTR) == partial.to_payload()
    assert StepOutput.from_payload(partial.to_payload()).error == partial.error


def test_a_failed_partial_output_is_never_an_upstream_output(store_dir):
    ref = f"{CATALOG}:build_failing"
    load = run_step(ref, "load", StepInputs(params={"n": 1}), workflow_run_id="r", store=store_dir)
    with pytest.raises(GraflowRuntimeError) as caught:
        run_step(
            ref,
            "explode",
            StepInputs(params={"n": 1}, upstream={"load": load.to_payload()}),
            workflow_run_id="r",
            store=store_dir,
        )
    payload = getattr(caught.value, FAILED_OUTPUT_ATTR)
    with pytest.raises(UpstreamFailed, match="explode"):
        run_step(ref, "never_runs", StepInputs(upstream={"explode": payload}), workflow_run_id="r")


def test_steps_that_did_not_run_carry_no_partial_output():
    with pytest.raises(UpstreamFailed) as caught:
        run_step(
            f"{CATALOG}:build_failing",
            "never_runs",
            StepInputs(failed=["explode"]),
            workflow_run_id="r",
        )
    assert failed_output(caught.value) is None


def test_a_failing_group_join_carries_its_exception_result_without_the_failed_member():
    run = run_plan(f"{CATALOG}:build_group_failure", {}, processes=False, raise_on_failure=False)
    partial = run.failed_outputs["all_or_nothing"]
    assert isinstance(partial.value("all_or_nothing.__result__"), ParallelGroupError)
    assert partial.dropped == ("f2",)
    assert "out.f2" not in run.channel and "f2.__result__" not in run.channel


def test_a_hosted_cancelled_workflow_keeps_what_ran_before_the_cancel(store_dir):
    with pytest.raises(GraflowWorkflowCanceledError) as caught:
        run_step(
            f"{CATALOG}:build_cancel",
            "graflow_workflow",
            StepInputs(params={"n": 1}),
            workflow_run_id="r",
            store=store_dir,
        )
    partial = failed_output(caught.value)
    assert partial is not None
    assert partial.value("load.__result__") == 2
    assert partial.value("cancelled_at") == 2
    assert partial.value("cancel_here.__result__") == "cancelling"


@pytest.mark.parametrize("name", ["failing", "group_failure", "cancel"])
@pytest.mark.parametrize("processes", [False, True], ids=["in_process", "processes"])
def test_run_plan_reports_the_engines_channel_for_failed_runs(name, processes, store_dir):
    example = get_example(name)
    native = run_native(example.build, example.run_params())
    run = run_plan(
        example.reference,
        example.run_params(),
        processes=processes,
        store=store_dir,
        raise_on_failure=False,
    )
    assert type(run.error) is type(native.error)
    assert _comparable(run.channel) == _comparable(native.channel)


def test_without_a_signing_key_the_partial_output_keeps_what_it_can_encode(monkeypatch):
    monkeypatch.delenv("GRAFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS", raising=False)
    ref = f"{CATALOG}:build_failing"
    load = run_step(ref, "load", StepInputs(params={"n": 1}), workflow_run_id="r")
    with pytest.raises(GraflowRuntimeError) as caught:
        run_step(
            ref,
            "explode",
            StepInputs(params={"n": 1}, upstream={"load": load.to_payload()}),
            workflow_run_id="r",
        )
    partial = failed_output(caught.value)
    assert partial is not None  # the exception result needs a signed pickle: left out
    assert partial.value("exploded") is True
    assert "explode.__result__" not in partial.state
