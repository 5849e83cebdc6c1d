"""Random workflows (the spec tests' strategy) run as Dagster jobs like natively."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dagster import DagsterInstance
from hypothesis import HealthCheck, given, settings

# the random-workflow strategy and sample tasks of the core's spec tests
_SPEC_TESTS = str(Path(__file__).resolve().parents[3] / "tests" / "spec")
if _SPEC_TESTS not in sys.path:
    sys.path.insert(0, _SPEC_TESTS)

import test_spec_properties as props  # noqa: E402
from graflow_dagster import graflow_result, job_to_spec, to_dagster_job  # noqa: E402


def _isolated_groups(wf: Any) -> Any:
    """The workflow with 'direct'-backend groups on the default backend, as a spec.

    The 'direct' backend shares one channel between members (a failed member's writes stay),
    which isolated ops do not reproduce.
    """
    from graflow_core.spec import build_spec

    spec = build_spec(wf)
    for group in spec.groups:
        if group.backend == "direct":
            group.backend = None
    return spec


def _native(spec: Any) -> tuple[Any, ...]:
    from graflow_core.spec import load_workflow

    try:
        result, ctx = load_workflow(spec).execute(start_node=spec.start_node, ret_context=True)
    except Exception:
        return ("error",)
    return ("ok", repr(result), {k: repr(v) for k, v in ctx.channel.data.items()})


def _dagster(spec: Any, instance: DagsterInstance) -> tuple[Any, ...]:
    try:
        job = to_dagster_job(spec)
    except Exception:
        return ("error",)  # e.g. no start node: natively a graph error too
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    if not result.success:
        return ("error",)
    ran = graflow_result(result, job, {})
    return ("ok", repr(ran.result), {k: repr(v) for k, v in ran.channel.items()})


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=props.workflow_plans())
def test_random_workflows_as_jobs_like_natively(
    plan: dict[str, Any], dagster_memory_instance: DagsterInstance
) -> None:
    spec = _isolated_groups(props._Builder().build(plan))
    expected = _native(spec)
    got = _dagster(spec, dagster_memory_instance)
    assert got == expected


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(plan=props.workflow_plans())
def test_random_workflows_round_trip_through_a_job(plan: dict[str, Any]) -> None:
    from hypothesis import assume

    from graflow_core.spec import build_spec
    from graflow_core.steps import StepPlanError

    spec = build_spec(props._Builder().build(plan))
    # every task created outside the block: preflight refuses an empty workflow on every target
    # (tests/conformance test_an_empty_workflow_is_refused_alike)
    assume(bool(spec.tasks))
    try:
        job = to_dagster_job(spec)
    except StepPlanError:  # several start candidates: not renderable without start_node
        assume(False)
        return
    assert job_to_spec(job) == spec
