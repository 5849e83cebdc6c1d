"""Per-task rendering: every catalogue workflow runs natively and as an Airflow DAG (dag.test())
with the same results and channel; branches show skipped tasks; Airflow retries; round trip."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from graflow_core import RetryPolicy, task
from graflow_core.testing.catalog import (
    EXAMPLES,
    RESULT_SUFFIX,
    check_outcome,
    get_example,
    run_native,
    task_results,
)


@task(
    retry_policy=RetryPolicy(
        max_retries=3, initial_interval=2.0, backoff_factor=3.0, max_interval=30.0
    )
)
def policy_task() -> int:
    return 1


@task(timeout=7.5)
def timed_task() -> int:
    return 2


@dataclass(frozen=True)
class Point:
    x: int
    y: int


@task
def big_text() -> str:
    return "graflow " * 20_000  # 160 KB: stored by reference, not in XCom


@task
def text_size(big_text: str) -> int:
    return len(big_text)


@task
def make_point() -> Point:
    return Point(3, 4)


@task
def norm(make_point: Point) -> float:
    return (make_point.x**2 + make_point.y**2) ** 0.5


STATIC = [e for e in EXAMPLES if e.static and e.error is None]
HOSTED = [e for e in EXAMPLES if not e.static and e.error is None]


def dag_outcome(run: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """(result, final channel) of a rendered DAG's run, from its step payloads in XCom."""
    from graflow_airflow.render import PAYLOAD_KEY

    from graflow_core.steps import StepOutput, final_channel, final_result

    outputs = [
        StepOutput.from_payload(value)
        for (_, key, _), value in run.all_xcoms.items()
        if key == PAYLOAD_KEY
    ]
    return final_result(outputs), final_channel(params, outputs)


def hosted_outcome(run: Any, task_id: str) -> tuple[Any, dict[str, Any]]:
    """(result, final channel) of a GraflowOperator run (its XComs)."""
    from graflow_airflow.operator import CHANNEL_KEY, RESULT_KEY_PREFIX

    channel = dict(run.xcom(task_id, CHANNEL_KEY))
    for (tid, key, _), value in run.all_xcoms.items():
        if tid == task_id and key.startswith(RESULT_KEY_PREFIX):
            channel[key[len(RESULT_KEY_PREFIX) :] + RESULT_SUFFIX] = value
    return run.xcoms.get(task_id), channel


@pytest.mark.parametrize("example", STATIC, ids=lambda e: e.name)
def test_static_example_same_as_native(example, airflow_env, tmp_path):
    from graflow_airflow import to_airflow_dag

    params = example.run_params(str(tmp_path / "native"))
    (tmp_path / "native").mkdir()
    (tmp_path / "dag").mkdir()
    native_result, native_channel = run_native(example, scratch_dir=str(tmp_path / "native"))
    check_outcome(example, native_result, native_channel)

    dag = to_airflow_dag(example.build(), dag_id=f"render_{example.name}")
    params = example.run_params(str(tmp_path / "dag"))
    run = airflow_env.run_dag(dag, conf=params)
    assert run.succeeded, run.task_states
    result, channel = dag_outcome(run, params)
    check_outcome(example, result, channel)
    assert result == native_result
    assert task_results(channel) == task_results(native_channel)
    # the readable XCom of every task is its graflow result
    for task_id, value in task_results(native_channel).items():
        if task_id in run.xcoms:
            assert run.xcoms[task_id] == value, task_id


@pytest.mark.parametrize("example", HOSTED, ids=lambda e: e.name)
def test_hosted_example_same_as_native(example, airflow_env, tmp_path):
    from graflow_airflow import to_airflow_dag

    from graflow_core.spec import build_spec
    from graflow_core.steps import plan_steps

    native_result, _ = run_native(example)
    wf = example.build()
    plan = plan_steps(build_spec(wf))
    dag = to_airflow_dag(wf, dag_id=f"render_{example.name}")
    params = example.run_params()
    run = airflow_env.run_dag(dag, conf=params)
    assert run.succeeded, run.task_states
    assert "Hosted inside one Airflow task" in dag.doc_md  # the UI says what runs hosted
    if plan.whole:  # one GraflowOperator hosting the whole workflow
        (task_id,) = dag.task_ids
        assert type(dag.get_task(task_id)).__name__ == "GraflowOperator"
        result, channel = hosted_outcome(run, task_id)
    else:  # the dynamic task runs inline in its own Airflow task
        assert len(dag.task_ids) == len(plan.steps) > 1
        result, channel = dag_outcome(run, params)
    check_outcome(example, result, channel)
    assert result == native_result


def test_whole_hosted_workflow_from_spec_json(airflow_env):
    """A spec given as JSON (no workflow object, no reference) still runs hosted: the
    GraflowOperator loads the spec when the task runs."""
    from graflow_airflow import to_airflow_dag

    from graflow_core.spec import build_spec

    example = get_example("terminate")
    text = build_spec(example.build()).to_json()
    dag = to_airflow_dag(text, dag_id="render_hosted_json")
    run = airflow_env.run_dag(dag, conf=dict(example.params))
    assert run.succeeded, run.task_states
    assert list(run.xcoms.values()) == [example.expected_result]


def test_failing_example_fails_the_run(airflow_env):
    from graflow_airflow import to_airflow_dag

    example = get_example("failing")
    run = airflow_env.run_dag(
        to_airflow_dag(example.build(), dag_id="render_failing"), conf={"n": 1}
    )
    assert run.state == "failed"
    assert run.task_states == {
        "load": "success",
        "explode": "failed",
        "never_runs": "upstream_failed",
    }
    assert run.xcoms["load"] == 2


@pytest.mark.parametrize(
    ("amount", "taken", "skipped"),
    [(250, {"approve", "notify"}, {"reject"}), (10, {"reject"}, {"approve", "notify"})],
)
def test_goto_branch_skips_the_successors_not_taken(airflow_env, amount, taken, skipped):
    from graflow_airflow import GraflowBranchTaskOperator, to_airflow_dag

    dag = to_airflow_dag(get_example("goto_branch").build(), dag_id=f"render_goto_{amount}")
    assert isinstance(dag.get_task("decide"), GraflowBranchTaskOperator)
    run = airflow_env.run_dag(dag, conf={"amount": amount})
    assert run.succeeded
    assert {t for t, s in run.task_states.items() if s == "success"} == {"decide", *taken}
    assert {t for t, s in run.task_states.items() if s == "skipped"} == skipped


def test_large_and_non_json_values_travel_by_reference(airflow_env, tmp_path, monkeypatch):
    from graflow_airflow import to_airflow_dag
    from graflow_airflow.render import PAYLOAD_KEY

    from graflow_core import workflow

    monkeypatch.setenv("GRAFLOW_STEP_STORE", str(tmp_path / "values"))
    with workflow("render_values") as wf:
        big_text >> text_size >> make_point >> norm
    run = airflow_env.run_dag(to_airflow_dag(wf, dag_id="render_values"))
    assert run.succeeded, run.task_states
    assert run.xcoms["text_size"] == 160_000
    assert run.xcoms["norm"] == 5.0
    big_entry = run.xcom("big_text", PAYLOAD_KEY)["state"]["big_text.__result__"]
    assert big_entry[1] == "r"  # a reference into the signed value store
    assert len(json.dumps(run.xcom("big_text", PAYLOAD_KEY))) < 2_000
    assert any((tmp_path / "values").rglob("*"))
    point_entry = run.xcom("make_point", PAYLOAD_KEY)["state"]["make_point.__result__"]
    assert point_entry[1] == "p"  # a signed pickle: XCom's serialiser never sees the object


def test_compat_backoff_both_ways():
    from graflow_airflow._compat import backoff_factor_from, exponential_backoff_argument

    assert exponential_backoff_argument(1.0) == 0
    assert exponential_backoff_argument(3.0) == 3.0
    assert backoff_factor_from(0) == 1.0
    assert backoff_factor_from(2.5) == 2.5
    assert backoff_factor_from(True) == 2.0  # the bool form of older Task SDKs
    assert backoff_factor_from(False) == 1.0


def test_dag_params_are_defaults_of_the_run_parameters(airflow_env):
    from airflow.sdk import Param
    from graflow_airflow import to_airflow_dag

    example = get_example("linear")
    dag = to_airflow_dag(
        example.build(),
        dag_id="render_params",
        params={"n": Param(1, type="integer"), "unit": "boxes"},
    )
    # (the default run first: in-process dag.test() keeps a run's conf in the task's params)
    default = airflow_env.run_dag(dag)
    assert default.succeeded, default.task_states
    assert default.xcoms["report"] == "4 boxes"
    run = airflow_env.run_dag(dag, conf={"n": 20})
    assert run.xcoms["report"] == "42 boxes"


def test_retry_is_airflows_retry(airflow_env, tmp_path):
    """flaky_fetch fails on its first attempt: Airflow retries it (try 2), graflow does not."""
    from graflow_airflow import to_airflow_dag

    example = get_example("retry")
    dag = to_airflow_dag(example.build(), dag_id="render_retry_native")
    op = dag.get_task("flaky_fetch")
    assert op.retries == 2
    assert op.retry_delay == timedelta(0)
    run = airflow_env.run_dag(dag, conf={"scratch_dir": str(tmp_path)})
    assert run.succeeded, run.task_states
    assert run.try_numbers["flaky_fetch"] == 2
    assert run.try_numbers["after_flaky"] == 1
    assert run.xcoms["after_flaky"] == "succeeded on attempt 2"


def test_parallel_groups_are_task_groups_and_trigger_rules():
    from graflow_airflow import to_airflow_dag

    dag = to_airflow_dag(get_example("nested_groups").build(), dag_id="render_nested_shape")
    groups = dag.task_group_dict
    assert set(groups) == {"outer_members", "inner_members"}
    assert groups["inner_members"].parent_group.group_id == "outer_members"
    assert {t.task_id for t in groups["inner_members"].children.values()} == {"n_in1", "n_in2"}
    assert dag.get_task("inner").task_group.group_id == "outer_members"
    assert dag.get_task("outer").trigger_rule == "all_done"
    assert dag.get_task("collect").trigger_rule == "all_success"
    assert dag.get_task("collect").upstream_task_ids == {"outer"}
    for member in ("n_a", "chain_head", "n_in1", "n_in2"):
        assert dag.get_task(member).upstream_task_ids == {"prepare"}
    assert dag.get_task("chain_tail").upstream_task_ids == {"chain_head"}
    flat = to_airflow_dag(
        get_example("nested_groups").build(), dag_id="render_nested_flat", task_groups=False
    )
    assert flat.task_group_dict == {}


def test_retry_policy_and_timeout_map_to_operator_arguments():
    from graflow_airflow import to_airflow_dag

    from graflow_core import RetryPolicy, workflow

    default = RetryPolicy(max_retries=1, initial_interval=5.0, backoff_factor=1.0)
    with workflow("retry_shapes", retry_policy=default) as wf:
        policy_task >> timed_task
    spec = _spec_of(wf)
    dag = to_airflow_dag(spec, dag_id="render_retry_shapes")
    op = dag.get_task("policy_task")
    assert (op.retries, op.retry_delay, op.retry_exponential_backoff, op.max_retry_delay) == (
        3,
        timedelta(seconds=2),
        3.0,
        timedelta(seconds=30),
    )
    timed = dag.get_task("timed_task")
    assert (timed.retries, timed.retry_delay, timed.retry_exponential_backoff) == (
        1,
        timedelta(seconds=5),
        0,
    )
    assert timed.execution_timeout == timedelta(seconds=7.5)


def _spec_of(wf: Any) -> Any:
    from graflow_core.spec import build_spec

    return build_spec(wf)


# -- round trip ----------------------------------------------------------------------------------


@pytest.mark.parametrize("task_groups", [True, False], ids=["task_groups", "flat"])
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_round_trip_spec_dag_spec(example, task_groups):
    from graflow_airflow import spec_from_rendered_dag, to_airflow_dag

    from graflow_core.spec import build_spec

    spec = build_spec(example.build())
    dag = to_airflow_dag(spec, dag_id=f"rt_{example.name}", task_groups=task_groups)
    assert spec_from_rendered_dag(dag) == spec


def test_round_trip_reads_the_dag_not_a_stored_copy():
    """Edits to the DAG after rendering show in the spec read back."""
    from graflow_airflow import spec_from_rendered_dag, to_airflow_dag

    from graflow_core.spec import build_spec

    spec = build_spec(get_example("diamond").build())
    dag = to_airflow_dag(spec, dag_id="rt_edited")
    dag.get_task("left").retries = 4
    dag.get_task("right").retry_delay = timedelta(seconds=9)
    dag.get_task("right").retries = 1
    dag.get_task("right").downstream_task_ids.discard("join")
    dag.get_task("join").upstream_task_ids.discard("right")
    back = spec_from_rendered_dag(dag)
    assert back.task("left").retry_policy.max_retries == 4
    assert back.task("right").retry_policy.initial_interval == 9.0
    assert ("right", "join") not in back.edges
    assert ("root", "right") in back.edges
    assert back.task("root") == spec.task("root")


def test_not_a_rendered_dag_is_refused():
    from airflow.sdk import DAG
    from airflow.sdk import task as af_task
    from graflow_airflow import spec_from_rendered_dag
    from graflow_airflow.render import RenderError

    with DAG("hand_written", schedule=None) as dag:
        af_task(task_id="t")(lambda: 1)()
    with pytest.raises(RenderError, match="from_airflow_dag"):
        spec_from_rendered_dag(dag)


def test_bad_input_is_a_graflow_error():
    from graflow_airflow import to_airflow_dag
    from graflow_airflow.render import RenderError

    from graflow_core.exceptions import GraflowError

    with pytest.raises(RenderError, match="needs a workflow") as info:
        to_airflow_dag(42)  # type: ignore[arg-type]
    assert isinstance(info.value, GraflowError)


# -- round trip on generated workflows -----------------------------------------------------------


def plain(value: int = 0) -> int:
    """The function of the generated workflows' tasks (module level: referencable)."""
    return value


def _shapes():
    from hypothesis import strategies as st

    leaf = st.tuples(
        st.just("task"), st.integers(0, 3), st.floats(0, 5), st.sampled_from([1.0, 2.0])
    )
    member = st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.just("chain"), st.lists(leaf, min_size=2, max_size=3)),
            st.tuples(st.just("group"), st.lists(inner, min_size=2, max_size=3)),
        ),
        max_leaves=6,
    )
    block = st.one_of(leaf, st.tuples(st.just("group"), st.lists(member, min_size=2, max_size=4)))
    return st.lists(block, min_size=1, max_size=5)


def _build(blocks: list[Any]) -> Any:
    """A workflow from generated blocks chained with >> (groups, nested groups, member chains,
    per-task retry policies)."""
    from graflow_core import ParallelGroup, RetryPolicy, workflow
    from graflow_core.core.task import TaskWrapper

    counter = iter(range(10_000))

    def make(shape: Any) -> Any:
        kind = shape[0]
        if kind == "task":
            _, retries, delay, factor = shape
            n = next(counter)
            policy = (
                RetryPolicy(
                    max_retries=retries, initial_interval=round(delay, 2), backoff_factor=factor
                )
                if retries
                else None
            )
            return TaskWrapper(f"t{n}", plain, retry_policy=policy)
        if kind == "chain":
            items = [make(s) for s in shape[1]]
            head = items[0]
            for item in items[1:]:
                head = head >> item
            return head
        return ParallelGroup([make(s) for s in shape[1]], name=f"g{next(counter)}")

    with workflow("generated") as wf:
        previous = None
        for block in blocks:
            node = make(block)
            if previous is not None:
                previous >> node
            previous = node
    return wf


def test_round_trip_on_generated_workflows():
    from graflow_airflow import spec_from_rendered_dag, to_airflow_dag
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from graflow_core.core.workflow import clear_workflow_context
    from graflow_core.spec import build_spec

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_shapes(), st.booleans())
    def check(blocks: list[Any], task_groups: bool) -> None:
        clear_workflow_context()
        spec = build_spec(_build(blocks))
        dag = to_airflow_dag(spec, dag_id="generated", task_groups=task_groups)
        assert spec_from_rendered_dag(dag) == spec

    check()


def test_copies_of_the_dag_share_the_spec():
    """Airflow copies operators (DAG subsets when clearing); the spec stays one object, so a
    worker loads and plans the workflow once."""
    import copy

    from graflow_airflow import to_airflow_dag

    dag = to_airflow_dag(get_example("diamond").build(), dag_id="render_copies")
    spec = dag.get_task("root").graflow_spec
    assert all(t.graflow_spec is spec for t in dag.tasks)
    assert copy.deepcopy(dag.get_task("left")).graflow_spec is spec
    subset = dag.partial_subset(task_ids=["left"], include_downstream=True)
    assert sorted(subset.task_ids) == ["join", "left", "root"]
    assert all(t.graflow_spec is spec for t in subset.tasks)
