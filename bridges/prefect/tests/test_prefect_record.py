"""from_prefect_flow: a real run of a Prefect flow, recorded into a graflow workflow."""

from __future__ import annotations

import warnings

import prefect_record_flows as flows
import pytest
from graflow_prefect import from_prefect_flow, record_prefect_flow
from graflow_prefect.record import RecordError

from graflow_core.spec import WorkflowSpec


def _edges(spec: WorkflowSpec) -> set[tuple[str, str]]:
    return {tuple(e) for e in spec.edges}


def test_record_etl_chain_with_options(prefect_server) -> None:
    recorded = record_prefect_flow(flows.etl, n=4)
    spec = recorded.spec
    assert recorded.result == {"table": "facts", "count": 4, "total": 18}
    assert [t.id for t in spec.tasks] == ["extract", "transform", "load-facts"]
    assert _edges(spec) == {("extract", "transform"), ("transform", "load-facts")}
    extract, transform, load = spec.tasks
    assert extract.retry_policy is not None
    assert (extract.retry_policy.max_retries, extract.retry_policy.initial_interval) == (3, 1.0)
    assert extract.retry_policy.backoff_factor == 2.0 and extract.retry_policy.max_interval == 4.0
    assert transform.timeout == 30.0
    assert extract.bound_kwargs == {
        "fn": "prefect_record_flows:extract.fn",
        "args": [],
        "kwargs": {"n": {"param": "n", "default": 4}},
    }
    assert transform.bound_kwargs["kwargs"] == {
        "rows": {"result": "extract"},
        "factor": {"value": 3},
    }
    assert load.bound_kwargs["kwargs"]["table"] == {"param": "table", "default": "facts"}
    # the spec survives JSON, and the workflow gives the flow's result, for other params too
    wf = recorded.workflow
    assert WorkflowSpec.from_json(spec.to_json()) == spec
    assert wf.execute(initial_channel=recorded.params) == recorded.result
    assert recorded.workflow.execute(initial_channel={"n": 2, "table": "t"}) == {
        "table": "t",
        "count": 2,
        "total": 3,
    }
    assert recorded.notes == []


def test_record_map_becomes_a_parallel_group(prefect_server) -> None:
    recorded = record_prefect_flow(flows.fan_out, n=3)
    spec = recorded.spec
    assert recorded.result == {"n": 3, "sum": 6021}
    (group,) = spec.groups
    assert group.id == "scale_map" and group.members == ["scale_0", "scale_1", "scale_2"]
    assert _edges(spec) == {("numbers", "scale_map"), ("scale_map", "summarize")}
    member = next(t for t in spec.tasks if t.id == "scale_1")
    assert member.bound_kwargs["kwargs"]["offset"] == {"value": 7}
    summarize = next(t for t in spec.tasks if t.id == "summarize")
    assert summarize.bound_kwargs["kwargs"] == {
        "values": {"list": [{"result": "scale_0"}, {"result": "scale_1"}, {"result": "scale_2"}]}
    }
    assert recorded.workflow.execute(initial_channel=recorded.params) == recorded.result


def test_record_submit_wait_for_and_call_order(prefect_server) -> None:
    recorded = record_prefect_flow(flows.ordered)
    spec = recorded.spec
    assert recorded.result == "inserted 4; audited"
    # wait_for is an edge; submitted work and the blocking call have no order between them,
    # so the workflow gets a start placeholder; report waits for both
    assert _edges(spec) == {
        ("start", "create_table"),
        ("start", "audit"),
        ("create_table", "insert_rows"),
        ("insert_rows", "report"),
        ("audit", "report"),
    }
    assert any(".submit()" in note for note in recorded.notes)
    assert recorded.workflow.execute(initial_channel=recorded.params) == recorded.result


def test_record_subflow_is_flattened_and_branches_follow_the_run(prefect_server) -> None:
    recorded = record_prefect_flow(flows.parent, n=4)
    assert [t.id for t in recorded.spec.tasks] == ["numbers", "summarize"]
    assert any("subflow 'child'" in note for note in recorded.notes)
    assert recorded.workflow.execute(initial_channel=recorded.params) == {"n": 4, "sum": 10}

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to report: no warning
        small = from_prefect_flow(flows.branching, x=3)
    assert small.execute(initial_channel={"x": 3}) == "small 3"
    big = record_prefect_flow(flows.branching, x=30)
    assert [t.id for t in big.spec.tasks] == ["big"]  # one recorded path through the body

    nested = record_prefect_flow(flows.nesting)
    assert [t.id for t in nested.spec.tasks] == ["outer"]
    assert nested.notes == ["task 'inner' was called inside a task: left to Prefect"]


def test_record_refuses_what_a_workflow_cannot_rebuild(prefect_server) -> None:
    with pytest.raises(RecordError, match="computed in the flow body"):
        record_prefect_flow(flows.computed_in_body)
    with pytest.raises(RecordError, match="needs a prefect Flow"):
        record_prefect_flow(lambda: None)
    with pytest.raises(RecordError, match="unexpected keyword"):
        record_prefect_flow(flows.etl, nope=1)


def test_recorded_flow_runs_on_prefect_again(prefect_server) -> None:
    """Prefect -> graflow -> Prefect: the recorded workflow bridged back gives the same result,
    with one task run per recorded task (named by the recorded ids)."""
    from graflow_prefect import to_prefect_flow

    recorded = record_prefect_flow(flows.fan_out, n=3)
    again = to_prefect_flow(recorded.spec, parameters=recorded.params)
    assert list(again.parameters.properties) == ["n"]
    run = prefect_server.run(again, n=3)
    assert run.result == recorded.result
    names = {r.name for r in prefect_server.task_runs(run.flow_run_id, expected=5)}
    assert names == {"numbers", "scale_0", "scale_1", "scale_2", "summarize"}
