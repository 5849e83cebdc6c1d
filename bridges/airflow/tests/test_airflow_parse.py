"""from_airflow_dag: hand-written DAGs give the same results under dag.test() and as graflow."""

from __future__ import annotations

import warnings

import airflow_parse_dags as dags
import pytest


def _convert(dag):
    from graflow_airflow import from_airflow_dag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_airflow_dag(dag)


def _both(airflow_env, dag, conf=None):
    """Run ``dag`` on Airflow and converted: (Airflow result, graflow results, skipped, wf)."""
    from graflow_airflow.parse import SKIPPED_KEY, airflow_results

    native = airflow_env.run_dag(dag, conf=conf)
    wf = _convert(dag)
    _, ctx = wf.execute(ret_context=True, initial_channel=dict(conf or {}))
    skipped = set(ctx.channel.get(SKIPPED_KEY, ()) or ())
    return native, airflow_results(ctx), skipped, wf


def test_taskflow_dag_gives_the_same_results(airflow_env, dag_id):
    native, results, skipped, wf = _both(airflow_env, dags.taskflow_dag(dag_id), {"note": "n1"})
    assert native.succeeded, native.task_states
    assert results == native.xcoms
    assert results["describe"] == "x:2:4:n1"
    assert not skipped
    assert wf.airflow_report.items == []
    assert wf.graph.get_node("mean").retry_policy.max_retries == 2


def test_classic_operators_and_task_groups_give_the_same_results(airflow_env, dag_id):
    native, results, _, wf = _both(airflow_env, dags.classic_dag(dag_id))
    assert native.succeeded, native.task_states
    assert results == native.xcoms
    assert results["join"] == "42+hello airflow!(AIRFLOW)+airflow-42"
    assert "work.double" in wf.graph.nodes
    (item,) = wf.airflow_report.items
    assert (item.task_id, item.severity) == ("echo", "info")


@pytest.mark.parametrize("amount", [250, 5])
def test_branch_with_a_join_skips_like_airflow(airflow_env, dag_id, amount):
    native, results, skipped, wf = _both(airflow_env, dags.branch_dag(dag_id), {"amount": amount})
    assert native.succeeded, native.task_states
    assert results == native.xcoms
    assert skipped == {t for t, s in native.task_states.items() if s == "skipped"}
    assert results["join"] == "joined"
    assert wf.airflow_report.branches == {"choose": "skip"}


def test_branch_without_joins_uses_goto(airflow_env, dag_id):
    native, results, skipped, wf = _both(
        airflow_env, dags.branch_dag(dag_id, join_rule="all_success"), {"amount": 500}
    )
    assert wf.airflow_report.branches == {"choose": "goto"}
    assert results == native.xcoms == {"big": "big order"}  # a skipping branch pushes no XCom
    assert native.task_states["join"] == "skipped" and not skipped  # never reached in graflow


@pytest.mark.parametrize("enabled", [True, False])
def test_short_circuit_skips_everything_downstream(airflow_env, dag_id, enabled):
    native, results, skipped, wf = _both(
        airflow_env, dags.short_circuit_dag(dag_id), {"enabled": enabled}
    )
    assert results == native.xcoms
    assert skipped == {t for t, s in native.task_states.items() if s == "skipped"}
    assert [i.what for i in wf.airflow_report.problems] == ["trigger_rule=all_done"]


def test_mapped_tasks_run_as_a_loop_with_the_same_results(airflow_env, dag_id):
    native, results, _, wf = _both(airflow_env, dags.mapped_dag(dag_id))
    assert native.succeeded, native.task_states
    assert results == native.xcoms
    assert results["total"] == 60 and results["classic_mapped"] == [2, 10]
    assert {i.task_id for i in wf.airflow_report.problems} == {"scale", "classic_mapped"}


# -- reports, strictness, rendered DAGs (no Airflow run needed) ----------------------------------


def _report_dag(dag_id: str):
    from airflow.providers.standard.sensors.python import PythonSensor
    from airflow.sdk import DAG, BaseOperator, task

    class Deferring(BaseOperator):
        def execute(self, context):
            return "never"

    with DAG(dag_id, schedule=None) as dag:

        @task
        def first() -> int:
            return 1

        @task(trigger_rule="one_failed")
        def alert() -> str:
            return "alert"

        sensor = PythonSensor(task_id="wait", python_callable=lambda: True, poke_interval=0.01)
        deferred = Deferring(task_id="deferred")
        deferred.deferrable = True
        f = first()
        f >> [alert(), sensor]
        sensor >> deferred
    return dag


def test_the_report_names_each_task_what_why_and_what_to_do():
    from graflow_airflow import from_airflow_dag
    from graflow_airflow.parse import ConversionWarning

    dag = _report_dag("report_dag")  # imports Airflow (which redirects warnings) before warns()
    with pytest.warns(ConversionWarning, match="conversion of DAG 'report_dag'"):
        wf = from_airflow_dag(dag)
    report = wf.airflow_report
    by_task = {i.task_id: i for i in report.items}
    assert set(by_task) == {"alert", "wait", "deferred"}
    assert by_task["alert"].severity == "unsupported" and "one_failed" in by_task["alert"].what
    assert by_task["wait"].severity == "approximation" and "poke" in by_task["wait"].why
    assert by_task["deferred"].severity == "unsupported"
    assert all(i.todo for i in report.items)
    assert "deferred" in str(report)


def test_an_unsupported_task_raises_when_reached_and_strict_refuses_up_front():
    from graflow_airflow import from_airflow_dag
    from graflow_airflow.parse import AirflowConversionError

    from graflow_core.exceptions import ConfigError, GraflowRuntimeError

    dag = _report_dag("report_dag_run")
    with pytest.warns(UserWarning):
        wf = from_airflow_dag(dag)
    with pytest.raises(GraflowRuntimeError, match="'deferred' cannot run as a graflow task"):
        wf.execute()
    with pytest.raises(AirflowConversionError, match="graflow cannot run") as info:
        from_airflow_dag(_report_dag("report_dag_strict"), strict=True, warn=False)
    assert isinstance(info.value, ConfigError)
    assert "alert" in str(info.value) and "deferred" in str(info.value)


def test_not_a_dag_is_a_clear_error():
    from graflow_airflow import from_airflow_dag
    from graflow_airflow.parse import AirflowConversionError

    with pytest.raises(AirflowConversionError, match="needs an Airflow DAG"):
        from_airflow_dag("dags/etl.py")


@pytest.mark.parametrize("name", ["diamond", "parallel_strict", "goto_branch", "next_iteration"])
def test_a_dag_rendered_by_graflow_reads_back_exactly(name):
    from graflow_airflow import from_airflow_dag, to_airflow_dag

    from graflow_core.spec import build_spec
    from graflow_core.testing.catalog import channel_dict, check_outcome, get_example, run_native

    example = get_example(name)
    original = example.build()
    wf = from_airflow_dag(to_airflow_dag(original, dag_id=f"rendered_{name}"))
    assert wf.airflow_report.rendered and not wf.airflow_report.items
    assert build_spec(wf).to_dict() == build_spec(original).to_dict()
    result, ctx = wf.execute(ret_context=True, initial_channel=example.run_params())
    check_outcome(example, result, channel_dict(ctx))
    assert result == run_native(example)[0]


def test_a_converted_dag_runs_inside_one_graflow_operator(airflow_env, dag_id):
    from functools import partial

    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator, from_airflow_dag

    legacy = dags.taskflow_dag(f"{dag_id}_legacy")
    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(
            task_id="legacy", workflow=partial(from_airflow_dag, legacy), op_kwargs={"note": "op"}
        )
    result = airflow_env.run_dag(dag)
    assert result.succeeded, result.task_states
    assert result.xcoms["legacy"] == "x:2:4:op"
    assert result.xcom("legacy", "graflow.result.stats") == {"total": 8, "count": 4}


def test_a_graflow_operator_in_a_hand_written_dag_runs_through_execute(airflow_env, dag_id):
    native, results, _, wf = _both(airflow_env, dags.mixed_dag(dag_id))
    assert native.succeeded, native.task_states
    assert results == native.xcoms == {"inner": 42, "consume": "got 42"}
    assert not wf.airflow_report.rendered
    assert [i.what for i in wf.airflow_report.items] == ["operator GraflowOperator"]


@pytest.mark.parametrize("n", [4, 7])
def test_a_classic_branch_operator_chooses_through_choose_branch(airflow_env, dag_id, n):
    native, results, _, wf = _both(airflow_env, dags.classic_branch_dag(dag_id), {"n": n})
    assert native.succeeded, native.task_states
    assert (
        results
        == native.xcoms
        == {"num_even" if n % 2 == 0 else "num_odd": ("even" if n % 2 == 0 else "odd")}
    )
    assert wf.airflow_report.branches == {"pick": "goto"}
