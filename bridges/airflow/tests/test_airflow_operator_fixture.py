"""The ``airflow_env`` session fixture: real ``dag.test()`` runs with a temporary AIRFLOW_HOME."""

from __future__ import annotations

import os


def test_airflow_env_runs_a_taskflow_dag_and_reports_xcoms(airflow_env):
    from airflow.sdk import DAG, task

    with DAG("fixture_taskflow", schedule=None) as dag:

        @task
        def one() -> int:
            return 1

        @task
        def plus(x: int, params=None) -> int:
            return x + 1

        @task
        def conf_value(dag_run=None) -> int:
            return dag_run.conf["n"]

        plus(one())
        conf_value()

    result = airflow_env.run_dag(dag, conf={"n": 7}, run_id="fixture-run-1")
    assert result.run_id == "fixture-run-1"
    assert result.succeeded
    assert result.task_states == {"one": "success", "plus": "success", "conf_value": "success"}
    assert result.xcoms == {"one": 1, "plus": 2, "conf_value": 7}
    assert result.xcom("plus") == 2
    assert os.environ["AIRFLOW_HOME"] == str(airflow_env.home)
    assert airflow_env.dags_folder.is_dir() and not any(airflow_env.dags_folder.iterdir())


def test_airflow_env_reports_failures_and_mapped_tasks(airflow_env):
    from airflow.sdk import DAG, task

    with DAG("fixture_mapped", schedule=None) as dag:

        @task
        def double(x: int) -> int:
            return 2 * x

        @task
        def boom() -> None:
            raise ValueError("boom")

        double.expand(x=[1, 2, 3])
        boom()

    result = airflow_env.run_dag(dag)
    assert result.state == "failed"
    assert result.task_states["boom"] == "failed"
    assert result.task_states["double"] == "success"
    assert result.task_states["double[2]"] == "success"
    assert result.xcoms["double"] == [2, 4, 6]
    assert "boom" not in result.xcoms


def test_importing_the_fixture_module_does_not_import_airflow():
    import subprocess
    import sys

    code = "import sys, graflow_airflow.testing; print('airflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_xcom_values_come_back_as_xcom_pull_returns_them(airflow_env, dag_id):
    from airflow.sdk import DAG, task

    with DAG(dag_id, schedule=None) as dag:

        @task
        def texts() -> dict:
            return {"digits": "555", "tuple": (1, 2), "none": None}

        @task
        def digits() -> str:
            return "555"

        texts()
        digits()

    result = airflow_env.run_dag(dag)
    assert result.xcoms["digits"] == "555"
    assert result.xcoms["texts"] == {"digits": "555", "tuple": (1, 2), "none": None}
