"""to_dagster_job: every catalogue workflow runs as a Dagster job like natively; round trips."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import dagster_test_flows as flows
import pytest
from dagster import Backoff, DagsterEventType, DagsterInstance, Jitter
from graflow_dagster import (
    DagsterConversionError,
    graflow_result,
    job_to_spec,
    to_dagster_definitions,
    to_dagster_job,
)

from graflow_core.spec import build_spec
from graflow_core.testing.catalog import EXAMPLES, check_outcome, get_example, run_native


def run_config(params: dict[str, Any]) -> dict[str, Any]:
    return {"resources": {"graflow": {"config": {"params": params}}}}


def execute(job: Any, instance: DagsterInstance, params: dict[str, Any]) -> Any:
    return job.execute_in_process(
        run_config=run_config(params), instance=instance, raise_on_error=False
    )


def events(instance: DagsterInstance, run_id: str, kind: DagsterEventType) -> list[str]:
    return [
        e.dagster_event.step_key  # type: ignore[union-attr]
        for e in instance.all_logs(run_id, of_type=kind)
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_catalogue_same_as_native(
    example: Any, dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    dagster_instance = dagster_memory_instance
    native_dir = tmp_path / "native"
    job_dir = tmp_path / "job"
    native_dir.mkdir()
    job_dir.mkdir()
    job = to_dagster_job(example.build())
    result = execute(job, dagster_instance, example.run_params(str(job_dir)))
    if example.error is not None:
        with pytest.raises(example.error):
            run_native(example, scratch_dir=str(native_dir))
        assert not result.success
        failures = events(dagster_instance, result.run_id, DagsterEventType.STEP_FAILURE)
        assert failures == FAILED_OPS[example.name]
        ran = graflow_result(result, job)
        # the failed op yields its partial output before failing (a cancelled workflow's
        # hosting op too): the results of the tasks that ran before the failure are kept
        assert ran.results.items() >= example.expected_results.items()
        assert set(FAILED_OPS[example.name]) <= set(ran.failed)
        assert "never_runs" in ran.skipped or "never_runs" not in ran.results
        return
    assert result.success, example.name
    native_result, native_channel = run_native(example, scratch_dir=str(native_dir))
    ran = graflow_result(result, job)
    assert ran.result == native_result
    assert _without_scratch(ran.channel) == _without_scratch(native_channel)
    check_outcome(example, ran.result, ran.channel)


_ITERATION = re.compile(r"(_cycle_\d+)_[0-9a-f]{8}")

#: The op that fails in each failing example: the failing task's op; a strict group's join op
#: (its failed member emits a failure payload); the op hosting a cancelled workflow.
FAILED_OPS = {
    "failing": ["explode"],
    "group_failure": ["all_or_nothing"],
    "cancel": ["graflow_workflow"],
}


def _without_scratch(channel: dict[str, Any]) -> dict[str, Any]:
    """The channel without the scratch dir, iteration ids without their random suffix."""
    return {_ITERATION.sub(r"\1", k): v for k, v in channel.items() if k != "scratch_dir"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_round_trip_spec_job_spec(example: Any) -> None:
    spec = build_spec(example.build())
    job = to_dagster_job(spec)
    again = job_to_spec(job)
    assert again == spec
    assert again.to_json() == spec.to_json()


def test_ops_named_by_task_id_with_ids_in_tags() -> None:
    spec = build_spec(flows.build_odd_ids())
    job = to_dagster_job(spec)
    assert job.name == "odd_ids_v2"
    by_task = {n.definition.tags["graflow/task_id"]: n.name for n in job.nodes_in_topological_order}
    assert by_task == {"fetch-data.v2": "fetch_data_v2", "input": "input_", "shout!": "shout_"}
    assert job.tags["graflow/workflow"] == "odd ids.v2"
    tasks = json.loads(job.graph.node_named("input_").definition.tags["graflow/tasks"])
    assert tasks == [spec.task("input").to_dict()]
    assert job_to_spec(job) == spec


def test_workflow_run_id_is_the_dagster_run_id(dagster_memory_instance: DagsterInstance) -> None:
    job = to_dagster_job(flows.build_odd_ids())
    result = execute(job, dagster_memory_instance, {"value": 21})
    assert result.success
    ran = graflow_result(result, job)
    assert ran.results["fetch-data.v2"] == result.run_id
    assert ran.channel["seen_run_id"] == result.run_id
    assert ran.result == "42!"


def test_retries_are_dagster_retries(dagster_instance: DagsterInstance, tmp_path: Path) -> None:
    example = get_example("retry")
    job = to_dagster_job(example.build())
    policy = job.graph.node_named("flaky_fetch").definition.retry_policy
    assert policy is not None and policy.max_retries == 2
    result = execute(job, dagster_instance, example.run_params(str(tmp_path)))
    assert result.success
    assert events(dagster_instance, result.run_id, DagsterEventType.STEP_UP_FOR_RETRY) == [
        "flaky_fetch"
    ]
    assert events(dagster_instance, result.run_id, DagsterEventType.STEP_RESTARTED) == [
        "flaky_fetch"
    ]
    assert graflow_result(result, job).results["flaky_fetch"] == 2


def test_retries_exhausted_fail_the_run(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    job = to_dagster_job(flows.build_always_fails())
    result = execute(job, dagster_memory_instance, {"scratch_dir": str(tmp_path)})
    assert not result.success
    assert (tmp_path / "always_fails.attempts").read_text() == "4"  # 1 + 3 Dagster retries
    assert (
        len(events(dagster_memory_instance, result.run_id, DagsterEventType.STEP_UP_FOR_RETRY)) == 3
    )
    assert events(dagster_memory_instance, result.run_id, DagsterEventType.STEP_FAILURE) == [
        "always_fails"
    ]
    assert "double" in graflow_result(result, job, {}).skipped


def test_retry_policy_mapping_and_timeout_tag() -> None:
    job = to_dagster_job(flows.build_timeout_retry())
    op = job.graph.node_named("slow_ok").definition
    policy = op.retry_policy
    assert (policy.max_retries, policy.delay, policy.backoff, policy.jitter) == (
        2,
        0.5,
        Backoff.EXPONENTIAL,
        Jitter.PLUS_MINUS,
    )
    assert op.tags["graflow/timeout"] == "5.0"
    assert json.loads(op.tags["graflow/retry"])["backoff_factor"] == 2.0
    assert job.graph.node_named("double").definition.retry_policy is None


def test_untaken_branch_is_skipped(dagster_memory_instance: DagsterInstance) -> None:
    example = get_example("goto_branch_other_way")
    job = to_dagster_job(example.build())
    decide = job.graph.node_named("decide").definition
    assert sorted(o.name for o in decide.output_defs) == ["result", "to_approve", "to_reject"]
    assert all(not o.is_required for o in decide.output_defs)
    result = execute(job, dagster_memory_instance, example.run_params())
    assert result.success
    skipped = set(events(dagster_memory_instance, result.run_id, DagsterEventType.STEP_SKIPPED))
    assert skipped == {"approve", "notify"}


def test_best_effort_member_failure_reaches_the_join(
    dagster_memory_instance: DagsterInstance,
) -> None:
    example = get_example("best_effort")
    job = to_dagster_job(example.build())
    join = job.graph.node_named("tolerant")
    assert [i.name for i in join.definition.input_defs] == ["upstream"]
    result = execute(job, dagster_memory_instance, {})
    assert result.success
    ran = graflow_result(result, job)
    assert ran.failed == ["bad"]
    assert "out.bad" not in ran.channel
    logs = [e.message for e in dagster_memory_instance.all_logs(result.run_id)]
    assert any("step 'bad' of group 'tolerant' failed for good" in m for m in logs)


def test_strict_group_member_failure_fails_at_the_join(
    dagster_instance: DagsterInstance,
) -> None:
    spec = build_spec(get_example("best_effort").build())
    spec.group("tolerant").policy.kind = "strict"
    job = to_dagster_job(spec)
    result = execute(job, dagster_instance, {})
    assert not result.success
    assert events(dagster_instance, result.run_id, DagsterEventType.STEP_FAILURE) == ["tolerant"]
    assert "collect" in graflow_result(result, job, {}).skipped


def test_hosted_parts_are_one_op(dagster_instance: DagsterInstance) -> None:
    job = to_dagster_job(get_example("terminate").build())
    assert [n.name for n in job.nodes_in_topological_order] == ["graflow_workflow"]
    op = job.graph.node_named("graflow_workflow").definition
    assert "terminate" in op.tags["graflow/hosts"]
    spawn = to_dagster_job(get_example("next_task").build()).graph.node_named("spawn")
    assert spawn.definition.tags["graflow/kind"] == "hosted"
    assert spawn.definition.tags["graflow/hosts"] == "next_task"


def test_default_params_and_run_config(dagster_memory_instance: DagsterInstance) -> None:
    job = to_dagster_job(get_example("linear").build(), params={"n": 1, "unit": "pcs"})
    result = job.execute_in_process(instance=dagster_memory_instance)
    assert graflow_result(result, job).result == "4 pcs"
    result = execute(job, dagster_memory_instance, {"n": 20})  # overrides n, keeps unit
    ran = graflow_result(result, job)
    assert ran.result == "42 pcs"
    assert ran.channel == {
        "n": 20,
        "unit": "pcs",
        **{f"{k}.__result__": v for k, v in ran.results.items()},
    }


def test_large_values_travel_by_reference(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    job = to_dagster_job(flows.build_big_values(), store=str(tmp_path), inline_max=1024)
    result = execute(job, dagster_memory_instance, {"n": 5000})
    assert result.success
    payload = result.output_for_node("big_value")
    assert payload["state"]["big_value.__result__"][1] == "r"  # a reference, not the list
    assert list(tmp_path.rglob("*"))  # written to the store
    assert graflow_result(result, job).result == 5000


def test_definitions_hold_one_job_per_workflow() -> None:
    defs = to_dagster_definitions(get_example("linear").build(), flows.build_data_flow())
    names = sorted(j.name for j in defs.resolve_all_job_defs())
    assert names == ["catalog_linear", "data_flow"]
    from graflow_core.exceptions import ConfigError

    with pytest.raises(ConfigError, match="catalog_linear"):
        to_dagster_definitions(get_example("linear").build(), get_example("linear").build())


def test_changed_job_is_reported() -> None:
    from dagster import GraphDefinition

    job = to_dagster_job(get_example("linear").build())
    # the same ops without the dependency transform -> report
    graph = job.graph
    deps = {"transform": graph.dependencies[next(iter(graph.dependencies))]} if False else {}
    broken = GraphDefinition(
        name=job.name, node_defs=list(graph.node_defs), dependencies=deps
    ).to_job(resource_defs=job.resource_defs, metadata=job.metadata)
    with pytest.raises(DagsterConversionError, match="depends on"):
        job_to_spec(broken)


def test_assets_for_named_data(dagster_memory_instance: DagsterInstance) -> None:
    from dagster import materialize
    from graflow_dagster import to_dagster_assets

    assets = to_dagster_assets(flows.build_data_flow(), params={"n": 5})
    result = materialize(assets, instance=dagster_memory_instance)
    assert result.success
    assert result.output_for_node("summary") == "10 points"
    assert result.output_for_node("numbers") == [0, 1, 2, 3, 4]
    from graflow_core.exceptions import GraflowError

    with pytest.raises(GraflowError, match="to_dagster_job"):
        to_dagster_assets(get_example("channels").build())


def test_timeout_is_enforced_inside_the_op(dagster_memory_instance: DagsterInstance) -> None:
    job = to_dagster_job(flows.build_too_slow())
    assert job.graph.node_named("too_slow").definition.tags["graflow/timeout"] == "0.3"
    result = execute(job, dagster_memory_instance, {"value": 1})
    assert not result.success
    failure = [
        e
        for e in dagster_memory_instance.all_logs(
            result.run_id, of_type=DagsterEventType.STEP_FAILURE
        )
    ]
    assert [e.dagster_event.step_key for e in failure] == ["too_slow"]  # type: ignore[union-attr]
    assert "TaskTimeoutError" in str(failure[0].dagster_event.step_failure_data.error)  # type: ignore[union-attr]


def test_bridge_object_renders_parses_and_loads_back() -> None:
    from graflow_core.spec import get_target

    bridge = get_target("dagster")
    spec = build_spec(get_example("diamond").build())
    job = bridge.render(spec)  # type: ignore[misc]
    assert bridge.parse(job) == spec  # type: ignore[misc]
    from graflow_dagster import from_dagster_job

    wf = from_dagster_job(job)
    result = wf.execute(initial_channel={"n": 3})
    assert result == [13, 30]


def test_goto_to_a_new_task_skips_static_successors(
    dagster_memory_instance: DagsterInstance,
) -> None:
    wf = flows.build_jump_away()
    native = flows.build_jump_away().execute()
    job = to_dagster_job(wf)
    result = execute(job, dagster_memory_instance, {})
    assert result.success
    ran = graflow_result(result, job, {})
    assert ran.result == native == 7
    assert ran.results == {"jump_away": "jumped", "side_work": 7}
    assert ran.channel["side"] == 7
    assert ran.skipped == ["after_jump"]
    skipped = events(dagster_memory_instance, result.run_id, DagsterEventType.STEP_SKIPPED)
    assert skipped == ["after_jump"]


def test_plugins_see_every_op_as_a_step_run(dagster_memory_instance: DagsterInstance) -> None:
    from graflow_core.plugins import hookimpl

    seen: list[tuple[str, str, str]] = []

    class Recorder:
        @hookimpl
        def task_end(self, task: Any, task_id: str, context: Any, result: Any) -> None:
            seen.append((task_id, context.workflow_run_id, context.run_scope))

    job = to_dagster_job(get_example("linear").build(), plugins=[Recorder()])
    result = execute(job, dagster_memory_instance, {"n": 1})
    assert result.success
    assert seen == [(t, result.run_id, "step") for t in ("load", "transform", "report")]


def test_inputs_a_job_is_made_from() -> None:
    from graflow_core.exceptions import ConfigError

    spec = build_spec(flows.build_data_flow())
    by_ref = to_dagster_job("dagster_test_flows:build_data_flow")
    assert job_to_spec(by_ref) == spec
    assert job_to_spec(to_dagster_job(spec.to_json())) == spec
    assert job_to_spec(to_dagster_job(spec.to_dict())) == spec
    with pytest.raises(ConfigError, match="'module:attr' reference, got int"):
        to_dagster_job(42)
