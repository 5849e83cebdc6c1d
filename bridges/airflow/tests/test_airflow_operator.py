"""GraflowOperator under real Airflow (dag.test() in the airflow_env session fixture)."""

from __future__ import annotations

from datetime import timedelta

import pytest

FLAKY = "airflow_operator_workflows:build_flaky_chain"


def _runs(scratch) -> list[str]:
    path = scratch / "runs.log"
    return path.read_text().split() if path.exists() else []


def _flaky_dag(dag_id: str, scratch, **options):
    """A DAG with one GraflowOperator ``flow`` running the flaky chain (step3 fails once)."""
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    options.setdefault("op_kwargs", {"n": 1, "scratch_dir": str(scratch)})
    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(task_id="flow", workflow=FLAKY, **options)
    return dag


def test_a_retry_resumes_after_the_last_completed_task(airflow_env, dag_id, tmp_path, capfd):
    from graflow_airflow.operator import RESULT_KEY_PREFIX

    dag = _flaky_dag(dag_id, tmp_path, retries=1, retry_delay=timedelta(0))
    result = airflow_env.run_dag(dag, run_id="retry-run")

    assert result.state == "success", result.task_states
    assert result.try_numbers["flow"] == 2
    # step3 failed once; the retry ran step3 again and step4, but not step1/step2
    assert _runs(tmp_path) == ["step1", "step2", "step3", "step3", "step4"]
    assert result.xcoms["flow"] == f"done 104 ({dag_id}/retry-run)"
    assert result.xcom("flow", RESULT_KEY_PREFIX + "step1") == 2
    assert result.xcom("flow", RESULT_KEY_PREFIX + "step3") == 104
    assert result.xcom("flow", "graflow.channel") == {"n": 1, "scratch_dir": str(tmp_path)}
    location = airflow_env.checkpoints / dag_id / "retry-run" / "flow" / "-1"
    assert (location / "result").exists()
    # the graflow task life cycle goes through the task's logger and the tasks' print output to
    # the task's stdout (in dag.test() both reach the console; in a worker, the supervisor
    # writes both into the task log)
    out = capfd.readouterr()
    log = out.out + out.err
    for line in (
        "graflow task step1 started",
        "graflow task step3 failed: RuntimeError: step3 fails on its first attempt",
        "resuming graflow workflow 'flaky_chain' from checkpoint",
        "graflow task step4 succeeded",
        "graflow-print-line from step4: 104",
    ):
        assert line in log


def test_without_a_retry_the_task_fails_and_keeps_its_checkpoint(airflow_env, dag_id, tmp_path):
    result = airflow_env.run_dag(_flaky_dag(dag_id, tmp_path), run_id="no-retry")
    assert result.task_states["flow"] == "failed"
    assert _runs(tmp_path) == ["step1", "step2", "step3"]
    location = airflow_env.checkpoints / dag_id / "no-retry" / "flow" / "-1"
    assert (location / "latest").exists() and not (location / "result").exists()


def test_params_op_kwargs_and_conf_make_the_initial_channel(airflow_env, dag_id):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None, params={"factor": 2, "x": 1}) as dag:
        GraflowOperator(
            task_id="templated",
            workflow="airflow_operator_workflows:build_scale",
            op_kwargs={"x": "{{ params.x + 4 }}"},
        )
        GraflowOperator(
            task_id="from_conf",
            workflow="airflow_operator_workflows:build_scale",
            op_kwargs={"x": 100},
        )
    result = airflow_env.run_dag(dag, conf={"factor": 3})
    assert result.succeeded, result.task_states
    # templated op_kwargs render to strings; conf overrides params (factor 3)
    assert result.xcoms["templated"] == "555"
    assert result.xcoms["from_conf"] == 300


def test_clearing_a_succeeded_task_runs_the_workflow_again_unless_reuse_completed(
    airflow_env, dag_id, tmp_path
):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    (tmp_path / "step3.failed-once").touch()  # step3 succeeds at once
    kwargs = {"workflow": FLAKY, "op_kwargs": {"n": 1, "scratch_dir": str(tmp_path)}}
    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(task_id="again", **kwargs)
        GraflowOperator(task_id="reused", reuse_completed=True, **kwargs)
    first = airflow_env.run_dag(dag, run_id="same-run")
    assert first.succeeded and len(_runs(tmp_path)) == 8
    second = airflow_env.run_dag(dag, run_id="same-run")  # same locations: like a clear
    assert second.succeeded
    assert len(_runs(tmp_path)) == 12  # "again" ran its 4 tasks again, "reused" ran none
    assert second.xcoms == first.xcoms


def test_start_node_runs_the_sub_workflow_from_that_task(airflow_env, dag_id, tmp_path):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    (tmp_path / "step3.failed-once").touch()
    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(
            task_id="tail",
            workflow=FLAKY,
            start_node="{{ 'step' ~ 2 }}",
            op_kwargs={"step1": 10, "scratch_dir": str(tmp_path)},
        )
    result = airflow_env.run_dag(dag, run_id="tail-run")
    assert result.succeeded, result.task_states
    assert _runs(tmp_path) == ["step2", "step3", "step4"]
    assert result.xcoms["tail"] == f"done 120 ({dag_id}/tail-run)"


def test_dynamic_task_mapping_gives_each_instance_its_own_run(airflow_env, dag_id):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator.partial(
            task_id="mapped", workflow="airflow_operator_workflows:build_scale"
        ).expand(op_kwargs=[{"x": 1, "factor": 2}, {"x": 3, "factor": 4}, {"x": 5}])
    result = airflow_env.run_dag(dag, run_id="mapped-run")
    assert result.succeeded, result.task_states
    assert result.xcoms["mapped"] == [2, 12, 5]
    runs = airflow_env.checkpoints / dag_id / "mapped-run" / "mapped"
    assert sorted(p.name for p in runs.iterdir()) == ["0", "1", "2"]


def test_a_workflow_object_and_a_builder_function_work_too(airflow_env, dag_id):
    from airflow.sdk import DAG
    from airflow_operator_workflows import build_scale
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(task_id="obj", workflow=build_scale(), op_kwargs={"x": 2, "factor": 5})
        GraflowOperator(task_id="fn", workflow=build_scale, op_kwargs={"x": 3, "factor": 5})
    result = airflow_env.run_dag(dag)
    assert result.xcoms == {"obj": 10, "fn": 15}


@pytest.mark.parametrize(
    ("workflow", "message"),
    [
        ("airflow_operator_workflows:no_such_name", "has no attribute path 'no_such_name'"),
        ("no_such_module_xyz:build", "cannot import module 'no_such_module_xyz'"),
        ("airflow_operator_workflows:not_a_workflow", "is not a workflow"),
    ],
)
def test_a_bad_workflow_reference_fails_at_run_time_with_a_clear_error(workflow, message):
    from graflow_airflow.operator import GraflowOperatorError, resolve_workflow

    from graflow_core.exceptions import ConfigError, GraflowError

    with pytest.raises(GraflowOperatorError, match="GraflowOperator 'bad'") as info:
        resolve_workflow(workflow, task_id="bad")
    assert message in str(info.value)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, GraflowError)


def test_a_bad_reference_fails_the_airflow_task_without_retries(airflow_env, dag_id):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(
            task_id="bad", workflow="airflow_operator_workflows:no_such_name", retries=3
        )
        GraflowOperator(task_id="bad_start", workflow=FLAKY, start_node="nope", retries=3)
    result = airflow_env.run_dag(dag)
    assert result.task_states == {"bad": "failed", "bad_start": "failed"}
    assert result.try_numbers == {"bad": 1, "bad_start": 1}  # AirflowFailException: no retry


def test_malformed_arguments_fail_when_the_dag_is_parsed():
    from graflow_airflow import GraflowOperator
    from graflow_airflow.operator import GraflowOperatorError

    with pytest.raises(GraflowOperatorError, match="not an import path of the form"):
        GraflowOperator(task_id="x", workflow="just_a_module")
    with pytest.raises(GraflowOperatorError, match="is not a workflow"):
        GraflowOperator(task_id="x", workflow=42)
    with pytest.raises(GraflowOperatorError, match="checkpoint_every and keep"):
        GraflowOperator(task_id="x", workflow="m:wf", keep=0)


def test_checkpoints_go_to_an_fsspec_url_and_retries_resume_from_it(airflow_env, dag_id, tmp_path):
    import fsspec

    dag = _flaky_dag(
        dag_id,
        tmp_path,
        checkpoint_location="memory://graflow-ckpt/{{ dag.dag_id }}",
        retries=1,
        retry_delay=timedelta(0),
    )
    result = airflow_env.run_dag(dag, run_id="url-run")
    assert result.succeeded, result.task_states
    assert _runs(tmp_path) == ["step1", "step2", "step3", "step3", "step4"]
    fs = fsspec.filesystem("memory")
    assert fs.exists(f"/graflow-ckpt/{dag_id}/{dag_id}/url-run/flow/-1/result")


def test_the_base_location_can_come_from_an_airflow_variable(airflow_env, dag_id, monkeypatch):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator
    from graflow_airflow.operator import CHECKPOINTS_ENV

    base = airflow_env.home / "from-variable"
    monkeypatch.delenv(CHECKPOINTS_ENV)
    monkeypatch.setenv("AIRFLOW_VAR_GRAFLOW_AIRFLOW_CHECKPOINTS", str(base))
    with DAG(dag_id, schedule=None) as dag:
        GraflowOperator(
            task_id="flow",
            workflow="airflow_operator_workflows:build_scale",
            op_kwargs={"x": 2, "factor": 2},
        )
    result = airflow_env.run_dag(dag, run_id="var-run")
    assert result.xcoms["flow"] == 4
    assert (base / dag_id / "var-run" / "flow" / "-1" / "result").exists()


def test_op_kwargs_can_come_from_an_upstream_task(airflow_env, dag_id):
    from airflow.sdk import DAG, task
    from graflow_airflow import GraflowOperator

    with DAG(dag_id, schedule=None) as dag:

        @task
        def parameters() -> dict:
            return {"x": 6, "factor": 7}

        GraflowOperator(
            task_id="flow",
            workflow="airflow_operator_workflows:build_scale",
            op_kwargs=parameters(),
        )
    result = airflow_env.run_dag(dag)
    assert result.succeeded, result.task_states
    assert result.xcoms["flow"] == 42


def test_without_a_signing_key_nothing_runs_and_airflow_does_not_retry(
    airflow_env, dag_id, tmp_path, monkeypatch
):
    monkeypatch.delenv("GRAFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS", raising=False)
    result = airflow_env.run_dag(_flaky_dag(dag_id, tmp_path, retries=2))
    assert result.task_states["flow"] == "failed"
    assert result.try_numbers["flow"] == 1
    assert _runs(tmp_path) == []
