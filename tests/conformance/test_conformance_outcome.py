"""The partial comparison of failed runs (conformance_support.Outcome.differences) accepts an
extra only from a task the failure could not stop."""

from __future__ import annotations

from conformance_support import Outcome, downstream_of

from graflow_core.spec import build_spec
from graflow_core.spec.target_run import TargetRun
from graflow_core.testing.catalog import EXAMPLES

FAILING = next(e for e in EXAMPLES if e.name == "failing")  # load >> explode >> never_runs
NESTED = next(e for e in EXAMPLES if e.name == "nested_groups")


def _run(states: dict[str, str], channel: dict[str, object]) -> TargetRun:
    return TargetRun("airflow", channel=channel, error=RuntimeError("x"), states=states)


def test_an_extra_of_a_task_downstream_of_the_failure_is_refused() -> None:
    spec = build_spec(FAILING.build())
    reference = Outcome.of(_run({}, {"load.__result__": 2}))
    ran = {"load": "success", "explode": "failed", "never_runs": "success"}
    target = Outcome.of(_run(ran, {"load.__result__": 2, "never_runs.__result__": 1}))
    problems = target.differences(reference, partial=True, spec=spec)
    assert any("never_runs" in p and "extra" in p for p in problems), problems
    assert any("downstream of a failure" in p for p in problems), problems


def test_an_extra_of_an_independent_or_stopped_task_is_accepted() -> None:
    spec = build_spec(FAILING.build())
    reference = Outcome.of(_run({}, {"load.__result__": 2}))
    stopped = {"load": "success", "explode": "failed", "never_runs": "upstream_failed"}
    target = Outcome.of(_run(stopped, {"load.__result__": 2, "side": 1}))
    assert target.differences(reference, partial=True, spec=spec) == []
    assert target.differences(reference, partial=False, spec=spec) != []


def test_downstream_of_a_group_includes_its_members() -> None:
    spec = build_spec(NESTED.build())
    assert {"outer", "inner", "n_in1", "n_a", "collect"} <= downstream_of(spec, {"prepare"})
    assert downstream_of(spec, {"n_in1"}) == set()
