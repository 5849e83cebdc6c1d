"""run_step and plan_steps: contexts, hooks, one attempt, branches, triggers, hosting."""

from __future__ import annotations

import subprocess
import sys

import pytest
import step_test_tasks as tt

from graflow_core import workflow
from graflow_core.exceptions import GraflowRuntimeError, ParallelGroupError, RetryLimitExceededError
from graflow_core.spec import RetryDef, build_spec, preflight
from graflow_core.steps import (
    HOSTED_STEP_ID,
    STEP_CAPABILITIES,
    StepInputs,
    StepPayloadError,
    StepPlanError,
    StepSkipped,
    UpstreamFailed,
    plan_steps,
    retry_of,
    run_plan,
    run_step,
)
from graflow_core.testing.catalog import EXAMPLES, channel_dict, check_outcome, get_example
from graflow_core.testing.hooks import HookRecorder

CATALOG = "graflow_core.testing.catalog"


# -- contexts and hooks ------------------------------------------------------------------------


def test_run_step_sets_run_id_and_scope_and_fires_the_run_hooks(store_dir):
    recorder = HookRecorder()
    ref = f"{CATALOG}:build_linear"
    load = run_step(
        ref, "load", StepInputs({"n": 1}), workflow_run_id="dag/run-9", plugins=[recorder]
    )
    assert [c.label for c in recorder.calls if c.name != "execute_task"] == [
        "workflow_start:catalog_linear",
        "task_start:load",
        "task_end:load",
        "workflow_end:catalog_linear",
    ]
    for call in recorder.calls:
        ctx = call.kwargs["context"]
        assert ctx.workflow_run_id == "dag/run-9" and ctx.run_scope == "step"
    assert load.workflow_run_id == "dag/run-9"
    out = run_step(
        ref,
        "transform",
        StepInputs({"n": 1}, {"load": load.to_payload()}),
        workflow_run_id="dag/run-9",
        store=store_dir,
    )
    assert out.results == {"transform": 4} and out.own == ("transform.__result__",)


def test_run_step_needs_a_run_id():
    with pytest.raises(StepPlanError, match="workflow_run_id"):
        run_step(f"{CATALOG}:build_linear", "load", {}, workflow_run_id="")


def test_unknown_step_ids_and_references_are_named():
    with pytest.raises(StepPlanError, match=r"no step 'nope'.*render it again"):
        run_step(f"{CATALOG}:build_linear", "nope", {}, workflow_run_id="r")
    with pytest.raises(StepPlanError, match="Cannot load workflow"):
        run_step("no_such_module_xyz:wf", "a", {}, workflow_run_id="r")


# -- retries: one attempt per call -------------------------------------------------------------


def test_one_attempt_per_call_and_the_last_attempt_ends_like_natively():
    ref = "step_test_tasks:build_always_fails"
    big = run_step(ref, "make_big", StepInputs({"size": 1}), workflow_run_id="r")
    ups = {"make_big": big.to_payload()}
    with pytest.raises(GraflowRuntimeError, match="attempt 1 of always_fails") as first:
        run_step(ref, "always_fails", StepInputs({"size": 1}, ups), workflow_run_id="r")
    assert not isinstance(first.value, RetryLimitExceededError)
    with pytest.raises(RetryLimitExceededError, match="always_fails"):
        run_step(ref, "always_fails", StepInputs({"size": 1}, ups, attempt=3), workflow_run_id="r")
    with pytest.raises(StepPayloadError, match="no output of its upstream step\\(s\\) make_big"):
        run_step(ref, "always_fails", StepInputs({"size": 1}), workflow_run_id="r")
    # natively the same error ends the run
    with pytest.raises(RetryLimitExceededError):
        tt.build_always_fails().execute(initial_channel={"size": 1})


def test_steps_carry_the_effective_retry_policy():
    plan = plan_steps(tt.build_always_fails())
    assert plan.step("make_big").retry is None
    step = plan.step("always_fails")
    assert step.retry == RetryDef(max_retries=2, initial_interval=0.05)
    assert retry_of(step) == {
        "retries": 2,
        "delay": 0.05,
        "backoff": 2.0,
        "max_delay": 60.0,
        "jitter": False,
    }
    from graflow_core.core.retry import RetryPolicy

    with workflow("defaults", retry_policy=RetryPolicy(3, 0.0, 1.0)) as wf:
        tt.make_big >> tt.near
    plan = plan_steps(wf)
    assert [s.retry.max_retries for s in plan.steps if s.retry] == [3, 3]


# -- branches ----------------------------------------------------------------------------------


def test_a_jump_to_a_static_successor_is_a_branch():
    plan = plan_steps(get_example("goto_branch").build())
    decide = plan.step("decide")
    assert decide.branch_targets == ("approve", "reject")
    out = run_step(
        f"{CATALOG}:build_goto_branch", "decide", {"params": {"amount": 5}}, workflow_run_id="r"
    )
    assert out.follow == ("reject",)
    assert out.results == {"decide": "reject"}
    assert out.task_ids == ("decide",)  # reject did not run here


def test_a_jump_to_a_group_follows_its_members_and_its_join(store_dir):
    plan = plan_steps(tt.build_branch_to_group())
    assert plan.step("choose_group").branch_targets == ("l1", "l2", "fan", "other")
    out = run_step("step_test_tasks:build_branch_to_group", "choose_group", {}, workflow_run_id="r")
    assert out.follow == ("l1", "l2", "fan")
    run = run_plan("step_test_tasks:build_branch_to_group", {}, processes=False, store=store_dir)
    assert run.steps_in("skipped") == ["other"]
    result, ctx = tt.build_branch_to_group().execute(ret_context=True)
    assert run.result == result == "after"
    assert run.channel == channel_dict(ctx)


def test_a_jump_to_a_non_successor_is_refused_with_the_fix():
    with pytest.raises(StepPlanError, match=r"jumped to 'far'.*direct successor \(near\)"):
        run_step("step_test_tasks:build_jump_far", "jump_far", {}, workflow_run_id="r")


# -- triggers ----------------------------------------------------------------------------------


def test_task_steps_refuse_failed_or_skipped_upstream():
    ref = f"{CATALOG}:build_linear"
    with pytest.raises(UpstreamFailed, match="load failed"):
        run_step(ref, "transform", StepInputs(failed=["load"]), workflow_run_id="r")
    with pytest.raises(StepSkipped):
        run_step(ref, "transform", StepInputs(skipped=["load"]), workflow_run_id="r")


def test_group_steps_apply_the_policy_to_failed_members():
    ref = f"{CATALOG}:build_parallel_strict"
    prepare = run_step(ref, "prepare", {}, workflow_run_id="r")
    ups = {"prepare": prepare.to_payload()}
    for m in ("p1", "p2"):
        ups[m] = run_step(
            ref, m, StepInputs(upstream={"prepare": ups["prepare"]}), workflow_run_id="r"
        ).to_payload()
    with pytest.raises(ParallelGroupError, match="1 task\\(s\\) failed"):
        run_step(ref, "fan", StepInputs(upstream=ups, failed={"p3": "boom"}), workflow_run_id="r")
    with pytest.raises(StepSkipped):
        run_step(ref, "fan", StepInputs(skipped=["prepare", "p1", "p2", "p3"]), workflow_run_id="r")
    with pytest.raises(StepSkipped, match="produced no output"):  # outputs only (Dagster)
        run_step(ref, "fan", StepInputs(), workflow_run_id="r")
    ok = run_step(ref, "fan", StepInputs(upstream=ups, skipped=["p3"]), workflow_run_id="r")
    assert ok.own == ("fan.__result__",)
    assert ok.value("out.p1") == 1 and ok.value("out.p2") == 2 and "out.p3" not in ok.state


def test_best_effort_drops_the_failed_members_writes(store_dir):
    run = run_plan(f"{CATALOG}:build_best_effort", {}, processes=False, store=store_dir)
    assert run.states["bad"] == "failed" and run.ok
    assert run.outputs["tolerant"].dropped == ("bad",)
    assert "out.bad" not in run.channel


# -- planning ----------------------------------------------------------------------------------


def test_groups_fan_out_and_join_with_all_done():
    plan = plan_steps(get_example("nested_groups").build())
    assert plan.ids == [
        "prepare",
        "n_a",
        "chain_head",
        "chain_tail",
        "n_in1",
        "n_in2",
        "inner",
        "outer",
        "collect",
    ]
    outer = plan.step("outer")
    assert outer.kind == "group" and outer.trigger == "all_done"
    assert outer.upstream == ("prepare", "n_a", "chain_head", "chain_tail", "inner")
    assert dict(outer.members)["inner"] == ("inner",)
    assert dict(outer.member_steps)["inner"] == ("n_in1", "n_in2", "inner")
    assert plan.step("n_in1").group == "inner" and plan.step("n_in1").upstream == ("prepare",)
    assert plan.step("collect").upstream == ("outer",)
    assert [s.index for s in plan.steps] == list(range(len(plan.steps)))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_reasons_match_preflight_hosted_findings(example):
    spec = build_spec(example.build())
    plan = plan_steps(spec)
    hosted = {
        (f.feature, f.subject)
        for f in preflight(spec, STEP_CAPABILITIES).findings
        if f.level == "hosted"
    }
    assert {(r.feature, r.subject) for r in plan.reasons} == hosted
    assert plan.hosted == bool(hosted) == (not example.static or "goto" in example.features)


def test_terminate_and_cycles_host_the_whole_workflow(store_dir):
    example = get_example("terminate")
    plan = plan_steps(example.build())
    assert plan.whole and plan.ids == [HOSTED_STEP_ID]
    assert "terminate" in plan.steps[0].hosts
    run = run_plan(example.reference, example.run_params(), processes=False, store=store_dir)
    check_outcome(example, run.result, run.channel)
    with workflow("loop") as wf:
        tt.near >> tt.far
        tt.far >> tt.near
    plan = plan_steps(wf, start_node="near")
    assert plan.whole and any(r.feature == "cycles" for r in plan.reasons)


def test_several_roots_need_a_start_node():
    with workflow("two_roots") as wf:
        tt.near >> tt.far
        tt.leaf(task_id="lonely")
    with pytest.raises(StepPlanError, match="start_node"):
        plan_steps(wf)
    assert plan_steps(wf, start_node="near").ids == ["near", "far"]


def test_a_start_node_reaches_the_step_processes(store_dir):
    """Each spawned step process plans from the same start node as the parent."""
    for processes in (False, True):
        ref = "step_test_tasks:build_two_roots"
        run = run_plan(ref, processes=processes, start_node="near", store=store_dir)
        assert run.states == {"near": "success", "far": "success"}
        assert run.result == "far"


def test_importing_graflow_core_does_not_import_the_step_runtime():
    code = (
        "import sys, graflow_core, graflow_core.steps; "
        "print([m for m in ('graflow_core.steps.run', 'graflow_core.steps.plan', "
        "'cloudpickle', 'fsspec', 'airflow', 'dagster') if m in sys.modules]); "
        "from graflow_core.steps import plan_steps; "
        "print([m for m in ('cloudpickle', 'airflow', 'dagster', 'prefect') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]


def test_a_jump_to_a_new_task_runs_it_in_the_step_and_skips_the_successors(store_dir):
    ref = "step_test_tasks:build_goto_new"
    plan = plan_steps(tt.build_goto_new())
    assert plan.step("goto_new").kind == "hosted"
    assert plan.step("goto_new").branch_targets == ("after_goto",)
    out = run_step(ref, "goto_new", {}, workflow_run_id="r")
    assert out.follow == () and out.task_ids == ("goto_new", "fresh")
    run = run_plan(ref, {}, processes=False, store=store_dir)
    assert run.steps_in("skipped") == ["after_goto"]
    result, ctx = tt.build_goto_new().execute(ret_context=True)
    assert run.result == result == "fresh"
    assert run.channel == channel_dict(ctx)


def test_a_hosted_whole_workflow_is_a_complete_run_for_plugins():
    recorder = HookRecorder()
    out = run_step(
        f"{CATALOG}:build_terminate",
        HOSTED_STEP_ID,
        {"params": {"n": 1}},
        workflow_run_id="dag/2",
        plugins=[recorder],
    )
    assert out.terminated and out.result == "stopped at 2"
    starts = [c for c in recorder.calls if c.name == "workflow_start"]
    assert len(starts) == 1
    ctx = starts[0].kwargs["context"]
    assert ctx.run_scope == "workflow" and ctx.workflow_run_id == "dag/2"
    assert [c.kwargs["task_id"] for c in recorder.calls if c.name == "task_end"] == [
        "load",
        "check_stop",
    ]
