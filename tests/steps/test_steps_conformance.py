"""Every catalogue workflow gives the same result and final channel via run_plan as natively.

In process for all of them; in separate (spawned) processes for a few, passing only payloads.
Plus random workflows drawn with the spec tests' strategies: the same outcome as natively.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graflow_core import workflow
from graflow_core.spec import build_spec
from graflow_core.steps import run_plan
from graflow_core.testing.catalog import EXAMPLES, check_outcome, get_example, run_native

_PASSING = [e for e in EXAMPLES if e.error is None]
_ITERATION = re.compile(r"_cycle_(\d+)_[0-9a-f]{8}")


def _normal(channel: dict[str, Any]) -> dict[str, Any]:
    """Iteration ids end in random hex: keep only the iteration number."""
    return {_ITERATION.sub(r"_cycle_\1", k): v for k, v in channel.items()}


@pytest.mark.parametrize("example", _PASSING, ids=lambda e: e.name)
def test_catalogue_runs_step_by_step_like_natively(example, tmp_path, store_dir):
    params = example.run_params(str(tmp_path))
    native_result, native_channel = run_native(example, scratch_dir=str(tmp_path))
    run = run_plan(example.reference, params, processes=False, store=store_dir)
    check_outcome(example, run.result, run.channel)
    assert run.result == native_result
    assert _normal(run.channel) == _normal(native_channel)


def test_failing_example_raises_what_the_engine_raises(store_dir):
    example = get_example("failing")
    with pytest.raises(example.error) as info:
        run_plan(example.reference, example.run_params(), processes=False, store=store_dir)
    assert isinstance(info.value.__cause__, example.error_cause)
    run = run_plan(
        example.reference,
        example.run_params(),
        processes=False,
        store=store_dir,
        raise_on_failure=False,
    )
    assert not run.ok
    assert run.states == {"load": "success", "explode": "failed", "never_runs": "upstream_failed"}


@pytest.mark.parametrize("name", ["retry", "best_effort", "goto_branch_other_way"])
def test_examples_in_separate_processes(name, tmp_path, store_dir):
    example = get_example(name)
    run = run_plan(
        example.reference, example.run_params(str(tmp_path)), processes=True, store=store_dir
    )
    check_outcome(example, run.result, run.channel)
    if name == "retry":  # the first attempt failed in its own process; the retry succeeded
        assert run.attempts["flaky_fetch"] == 2
    if name == "goto_branch_other_way":
        assert run.steps_in("skipped") == ["approve", "notify"]


def test_a_spec_json_runs_like_the_reference(tmp_path, store_dir):
    example = get_example("nested_groups")
    text = build_spec(example.build()).to_json()
    run = run_plan(text, {}, processes=False, store=store_dir)
    check_outcome(example, run.result, run.channel)


# -- random workflows --------------------------------------------------------------------------

import test_spec_properties as props  # noqa: E402  (tests/spec, see conftest)


def _native(wf: Any) -> tuple[Any, ...]:
    try:
        result, ctx = wf.execute(ret_context=True)
    except Exception as exc:
        return ("error", type(exc))
    return ("ok", repr(result), {k: repr(v) for k, v in ctx.channel.data.items()})


def _steps(wf: Any, store: str) -> tuple[Any, ...]:
    try:
        run = run_plan(wf, {}, processes=False, store=store)
    except Exception as exc:
        return ("error", type(exc))
    return ("ok", repr(run.result), {k: repr(v) for k, v in run.channel.items()})


def _threaded(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with every group on threads: the 'direct' backend shares one channel between
    members (a failed member's writes stay), which isolated native tasks do not reproduce."""

    def fix(group: dict[str, Any]) -> None:
        if group["backend"] == "direct":
            group["backend"] = None
        for m in group["members"]:
            if m["kind"] == "group":
                fix(m["group"])

    for kind, node in plan["nodes"]:
        if kind == "group":
            fix(node)
    return plan


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=props.workflow_plans())
def test_random_workflows_run_step_by_step_like_natively(plan, store_dir):
    plan = _threaded(plan)
    wf = props._Builder().build(plan)
    expected = _native(wf)
    got = _steps(props._Builder().build(plan), store_dir)
    if expected[0] == "error":  # the same kind of error (a planning error is a graph error)
        assert got[0] == "error" and issubclass(got[1], expected[1]), (got, expected)
    else:
        assert got == expected


@st.composite
def branch_plans(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(2, 7))
    return {
        "picks": [draw(st.one_of(st.none(), st.integers(-1, 3))) for _ in range(n)],
        "preds": [
            sorted(set(draw(st.lists(st.integers(0, j - 1), min_size=1, max_size=2))))
            for j in range(1, n)
        ],
    }


def _branch_workflow(plan: dict[str, Any]) -> Any:
    import spec_sample_tasks as s
    import step_test_tasks as tt

    with workflow("random_branches") as wf:
        objs = [
            s.step(task_id=f"n{i}", k=i) if pick is None else tt.jumper(task_id=f"n{i}", pick=pick)
            for i, pick in enumerate(plan["picks"])
        ]
        for j, preds in enumerate(plan["preds"], start=1):
            for i in preds:
                objs[i] >> objs[j]
    return wf


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=branch_plans())
def test_random_branching_workflows_skip_what_the_engine_skips(plan, store_dir):
    expected = _native(_branch_workflow(plan))
    assert _steps(_branch_workflow(plan), store_dir) == expected
