"""spec -> target object -> spec round trips through each bridge's ``render`` and ``parse``
(the :class:`~graflow_core.spec.targets.Bridge` callables, as every tool calls them), for the
catalogue and for random specs.

Airflow (a DAG rendered per task), Prefect (a flow hosting the engine) and Dagster (a job, one
op per step) read a rendered object back to the very spec it came from. The per-bridge tests
check the same through the bridges' own functions and options (Airflow with and without
TaskGroups, Dagster op names and tags); this suite checks the registry's bridges.
"""

from __future__ import annotations

from typing import Any

import pytest
import test_spec_properties as props
from conformance_support import profile_name
from hypothesis import assume, given, settings

from graflow_core import RetryPolicy, task, workflow
from graflow_core.spec import WorkflowSpec, build_spec, get_target
from graflow_core.testing.catalog import EXAMPLES, Example

#: The bridges whose parse reads back what their render made.
ROUND_TRIPPING = ("airflow", "prefect", "dagster")

PROFILE = settings.get_profile(profile_name())


@task
def backoff_probe(n: int) -> int:
    """A task of this module only: a catalogue task that another test ran keeps that run's
    execution context, and calling it would run it instead of making an instance."""
    return n


def round_trip(target: str, spec: WorkflowSpec) -> WorkflowSpec:
    bridge = get_target(target)
    assert bridge.render is not None and bridge.parse is not None
    back = bridge.parse(bridge.render(spec))
    assert isinstance(back, WorkflowSpec)
    return back


@pytest.mark.parametrize("target", ROUND_TRIPPING)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_catalogue_spec_round_trips(example: Example, target: str) -> None:
    spec = build_spec(example.build())
    back = round_trip(target, spec)
    assert back == spec
    assert back.to_json() == spec.to_json()


@pytest.mark.parametrize("target", ROUND_TRIPPING)
@settings(PROFILE, max_examples=PROFILE.max_examples * 5)
@given(plan=props.workflow_plans())
def test_random_specs_round_trip(plan: dict[str, Any], target: str) -> None:
    spec = build_spec(props._Builder().build(plan))
    assume(spec.tasks)  # every task created outside the block: an empty workflow, no object
    back = round_trip(target, spec)
    assert back == spec


def test_airflow_keeps_a_policy_it_cannot_express() -> None:
    """Airflow reads retry_exponential_backoff=0 as "no backoff": a factor of 0 cannot be
    rendered exactly, yet reads back as it was while the operator's arguments are unchanged."""
    with workflow("backoff_zero") as wf:
        only = backoff_probe(task_id="only")
        only.retry_policy = RetryPolicy(2, 1.0, 0.0, 5.0)
        only.max_retries = 2
    spec = build_spec(wf)
    back = round_trip("airflow", spec)
    assert back.task("only").retry_policy.backoff_factor == 0.0
    assert back == spec


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_prefect_reads_back_a_flow_rendered_from_a_workflow_or_builder(example: Any) -> None:
    spec = build_spec(example.build())
    bridge = get_target("prefect")
    assert bridge.render is not None and bridge.parse is not None
    assert bridge.parse(bridge.render(example.build())) == spec
    assert bridge.parse(bridge.render(example.build)) == spec
