"""from_dagster_job on hand-written jobs: the graflow run gives Dagster's results, op by op."""

from __future__ import annotations

from typing import Any

import dagster_handwritten_jobs as jobs
import pytest
from dagster import DagsterInstance, In, Out, job, op
from dagster._core.errors import DagsterInvariantViolationError
from graflow_dagster import DagsterConversionError, from_dagster_job
from graflow_dagster.parse import handwritten_spec


def _dagster_outputs(result: Any, job_def: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for node in job_def.nodes_in_topological_order:
        outs = [o.name for o in node.definition.output_defs]
        try:
            if len(outs) == 1:
                found[node.name] = result.output_for_node(node.name)
            else:
                found[node.name] = {
                    o: result.output_for_node(node.name, o)
                    for o in outs
                    if _has_output(result, node.name, o)
                }
        except DagsterInvariantViolationError:
            continue  # skipped op: no output
    return found


def _has_output(result: Any, node: str, output: str) -> bool:
    try:
        result.output_for_node(node, output)
    except DagsterInvariantViolationError:
        return False
    return True


def _graflow_outputs(job_def: Any, **kwargs: Any) -> dict[str, Any]:
    wf = from_dagster_job(job_def, **kwargs)
    _, ctx = wf.execute(ret_context=True)
    return {
        node.name: ctx.get_result(node.name)
        for node in job_def.nodes_in_topological_order
        if ctx.get_channel().exists(f"{node.name}.__result__")
    }


@pytest.mark.parametrize(
    "job_def", [jobs.numbers_job, jobs.branching_job, jobs.greeting_job], ids=lambda j: j.name
)
def test_same_results_as_dagster(job_def: Any, dagster_memory_instance: DagsterInstance) -> None:
    result = job_def.execute_in_process(instance=dagster_memory_instance)
    assert result.success
    expected = _dagster_outputs(result, job_def)
    assert _graflow_outputs(job_def) == expected
    assert expected  # the comparison saw outputs


def test_numbers_job_values() -> None:
    found = _graflow_outputs(jobs.numbers_job)
    assert found["split"] == {"low": 2, "high": 20}
    assert found["add_offset"] == 7  # Config default offset=5
    assert found["scale"] == 60  # resource factor 3
    assert found["gather"] == {"first": 7, "second": 60, "rest": [7, 60]}
    assert found["cleanup"] == "clean"  # Nothing dependency: ordering only


def test_untaken_branch_does_not_run() -> None:
    found = _graflow_outputs(jobs.branching_job)
    assert found["route"] == {"big": 7}
    assert found["handle_big"] == "big 7"
    assert "handle_small" not in found


def test_run_config_reaches_ops_and_inputs(dagster_memory_instance: DagsterInstance) -> None:
    run_config = {
        "ops": {"add_offset": {"config": {"offset": 100}}, "greeting": {"inputs": {"name": "x"}}}
    }
    result = jobs.numbers_job.execute_in_process(
        instance=dagster_memory_instance,
        run_config={"ops": {"add_offset": {"config": {"offset": 100}}}},
    )
    found = _graflow_outputs(jobs.numbers_job, run_config=run_config)
    assert found["add_offset"] == result.output_for_node("add_offset") == 102
    greet = _graflow_outputs(jobs.greeting_job, run_config=run_config)
    assert greet["shout"] == "HELLO X"


def test_free_input_filled_by_keyword_resolution() -> None:
    wf = from_dagster_job(jobs.greeting_job)
    _, ctx = wf.execute(ret_context=True, initial_channel={"name": "graflow"})
    assert ctx.get_result("shout") == "HELLO GRAFLOW"


def test_spec_is_referencable_with_a_job_reference() -> None:
    spec = handwritten_spec(jobs.numbers_job, reference="dagster_handwritten_jobs:numbers_job")
    from graflow_core.spec import WorkflowSpec, load_workflow

    again = WorkflowSpec.from_json(spec.to_json())
    assert again == spec
    assert spec.start_node == "source"
    _, ctx = load_workflow(again).execute(ret_context=True)
    assert ctx.get_result("gather") == {"first": 7, "second": 60, "rest": [7, 60]}


def test_retry_policy_becomes_a_graflow_retry() -> None:
    spec = handwritten_spec(jobs.retry_job)
    retry = spec.task("flaky_op").retry_policy
    assert retry is not None and retry.max_retries == 2
    jobs._ATTEMPTS.clear()
    _, ctx = from_dagster_job(jobs.retry_job).execute(ret_context=True)
    assert ctx.get_result("flaky_op") == 42
    assert jobs._ATTEMPTS["flaky"] == 2


def test_dynamic_and_nested_graphs_are_reported() -> None:
    from dagster import DynamicOut, DynamicOutput, graph

    @op(out=DynamicOut())
    def fan():  # type: ignore[no-untyped-def]
        for i in range(2):
            yield DynamicOutput(i, mapping_key=str(i))

    @op
    def double(x: int) -> int:
        return x * 2

    @op(ins={"xs": In(list)})
    def total(xs: list[int]) -> int:
        return sum(xs)

    @op
    def one() -> int:
        return 1

    @graph
    def inner() -> Any:
        return double(one())

    @job
    def dynamic_job() -> None:
        total(fan().map(double).collect())
        inner()

    with pytest.raises(DagsterConversionError) as info:
        from_dagster_job(dynamic_job)
    text = str(info.value)
    assert "node 'fan'" in text and "dynamic" in text
    assert "node 'inner'" in text and "nested graph" in text
    assert {n for n, _ in info.value.problems} >= {"fan", "double", "inner"}


def test_multi_output_op_returning_wrong_shape() -> None:
    @op(out={"a": Out(), "b": Out()})
    def bad():  # type: ignore[no-untyped-def]
        return 1

    @job
    def bad_job() -> None:
        bad()

    from graflow_core.exceptions import GraflowRuntimeError

    with pytest.raises(GraflowRuntimeError, match="multiple outputs"):
        from_dagster_job(bad_job).execute()


def test_several_roots_get_a_start_placeholder(dagster_memory_instance: DagsterInstance) -> None:
    @op
    def first() -> int:
        return 1

    @op
    def second() -> int:
        return 2

    @op
    def both(first: int, second: int) -> int:
        return first + second

    @job
    def two_roots() -> None:
        both(first(), second())

    spec = handwritten_spec(two_roots)
    assert spec.start_node == "two_roots__start"
    assert spec.task("two_roots__start").kind == "placeholder"
    result = two_roots.execute_in_process(instance=dagster_memory_instance)
    assert _graflow_outputs(two_roots) == _dagster_outputs(result, two_roots)


def test_asset_job_converts_like_an_op_job() -> None:
    from dagster import Definitions, asset, define_asset_job

    @asset
    def raw() -> int:
        return 20

    @asset
    def cleaned(raw: int) -> int:
        return raw + 1

    defs = Definitions(assets=[raw, cleaned], jobs=[define_asset_job("assets_job")])
    job = defs.resolve_job_def("assets_job")
    _, ctx = from_dagster_job(job).execute(ret_context=True)
    assert ctx.get_result("cleaned") == 21


def test_compat_refuses_too_old_dagster(monkeypatch: pytest.MonkeyPatch) -> None:
    from graflow_dagster import _compat

    from graflow_core.exceptions import ConfigError

    monkeypatch.setattr(_compat, "DAGSTER_VERSION", (1, 9, 0))
    with pytest.raises(ConfigError, match=r"Dagster >= 1\.13"):
        _compat.check_version()
    monkeypatch.setattr(_compat, "DAGSTER_VERSION", (1, 13, 29))
    _compat.check_version()


@pytest.mark.parametrize("job_def", [jobs.numbers_job, jobs.branching_job], ids=lambda j: j.name)
def test_handwritten_job_through_graflow_and_back_to_dagster(
    job_def: Any, dagster_memory_instance: DagsterInstance
) -> None:
    """Dagster job -> graflow spec (by reference) -> a graflow-rendered Dagster job: same values."""
    from graflow_dagster import graflow_result, to_dagster_job

    original = job_def.execute_in_process(instance=dagster_memory_instance)
    spec = handwritten_spec(job_def, reference=f"dagster_handwritten_jobs:{job_def.name}")
    rendered = to_dagster_job(spec)
    result = rendered.execute_in_process(instance=dagster_memory_instance)
    assert result.success
    assert graflow_result(result, rendered, {}).results == _dagster_outputs(original, job_def)
