"""Differential tests: random workflows run on the graflow engine, Airflow, Prefect and Dagster
with identical outcomes (result, task results, final channel, error type and cause type).

The workflows are the spec tests' random plans (tests/spec/test_spec_properties.py: DAG shapes,
parallel groups nested one level, every group policy, group backends, retry policies, failing
tasks, channel writes by every task) and the step tests' random branching workflows
(tests/steps/test_steps_conformance.py: ``goto`` jumps), built from module-level tasks so that
every engine can import them. Profiles: see conftest.py (``GRAFLOW_CONFORMANCE_PROFILE``).
"""

from __future__ import annotations

from typing import Any

import test_spec_properties as props
import test_steps_conformance as steps_props
from conformance_support import ENGINES, Outcome, explain, partial_channel, profile_name
from hypothesis import given, settings

from graflow_core.spec import build_spec
from graflow_core.spec.preflight_check import preflight
from graflow_core.spec.target_run import TargetRun

PROFILE = settings.get_profile(profile_name())


def _compare_everywhere(build: Any, run_on_engine: Any) -> None:
    """Run ``build()`` on every engine and compare each outcome with the graflow engine's."""
    reference: TargetRun | None = None
    spec = None
    for engine in ENGINES:
        try:
            run = run_on_engine(engine, build, {})
        except Exception as exc:  # the workflow cannot even be rendered / planned
            assert reference is not None and reference.error is not None, (engine, exc)
            expected = type(reference.error)  # the same kind of error, maybe wrapped by the bridge
            assert isinstance(exc, expected) or isinstance(exc.__cause__, expected), (
                engine,
                exc,
                reference.error,
            )
            continue
        if reference is None:
            reference = run
            try:
                spec = build_spec(build())
            except Exception:
                spec = None
            continue
        problems = Outcome.of(run).differences(
            Outcome.of(reference), partial=partial_channel(engine, run)
        )
        assert not problems, explain(engine, problems, run)
        if spec is not None and run.error is None:
            report = preflight(spec, engine)
            assert report.ok, f"ran on {engine}, yet preflight says: {report}"


@settings(PROFILE)
@given(plan=props.workflow_plans())
def test_random_workflows_run_alike_on_every_engine(
    plan: dict[str, Any], run_on_engine: Any
) -> None:
    plan = steps_props._threaded(plan)
    _compare_everywhere(lambda: props._Builder().build(plan), run_on_engine)


@settings(PROFILE)
@given(plan=steps_props.branch_plans())
def test_random_branching_workflows_run_alike_on_every_engine(
    plan: dict[str, Any], run_on_engine: Any
) -> None:
    _compare_everywhere(lambda: steps_props._branch_workflow(plan), run_on_engine)
