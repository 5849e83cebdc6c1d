"""End to end: a real ``mlflow server`` on 127.0.0.1 receives workflows' runs — natively, from a
Prefect flow run (graflow-prefect), and from separate worker processes of one workflow run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[3] / "examples" / "tracking"
WORKER = EXAMPLES / "worker_step.py"

pytestmark = pytest.mark.slow


@pytest.fixture
def pipeline(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import tracked_pipeline

    return tracked_pipeline


def _assert_pipeline_runs(exp, parent) -> dict:
    children = exp.children_by_task(parent.info.run_id)
    assert {"prepare", "mean_feature", "max_feature", "train", "publish"} <= set(children)
    assert {c.info.status for c in children.values()} == {"FINISHED"}
    train = children["train"]
    loss = exp.client.get_metric_history(train.info.run_id, "loss")
    assert [m.step for m in loss] == [0, 1, 2]
    assert train.data.params["lr"] == "0.1"
    assert children["prepare"].data.params == {"rows": "10"}
    return children


def test_mlflow_server_receives_a_native_run(mlflow_server, pipeline):
    from graflow_mlflow import MlflowTracking

    exp = mlflow_server.experiment("e2e-native")
    tracking = MlflowTracking(mlflow_server.url, exp.experiment, strict=True)
    result = pipeline.build_mlflow().execute(
        initial_channel={"rows": 10}, plugins=[tracking], workflow_run_id="native/1"
    )
    assert result.startswith("final loss")
    (parent,) = exp.parent_runs()
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["graflow.workflow_run_id"] == "native/1"
    children = _assert_pipeline_runs(exp, parent)
    assert sorted(children) == ["max_feature", "mean_feature", "prepare", "publish", "train"]


def test_mlflow_server_receives_a_prefect_flow_run(mlflow_server, prefect_server, pipeline):
    from graflow_mlflow import MlflowTracking
    from graflow_prefect import to_prefect_flow

    exp = mlflow_server.experiment("e2e-prefect")
    tracking = MlflowTracking(mlflow_server.url, exp.experiment, strict=True)
    flow = to_prefect_flow(pipeline.build_mlflow, plugins=[tracking])
    outcome = prefect_server.run(flow, rows=10)
    assert outcome.result.startswith("final loss")
    (parent,) = exp.parent_runs()
    # The parent run is keyed on the Prefect flow run: one MLflow run per Prefect flow run.
    assert parent.data.tags["graflow.workflow_run_id"] == outcome.flow_run_id
    assert parent.info.status == "FINISHED"
    _assert_pipeline_runs(exp, parent)
    task_runs = {t.name for t in prefect_server.task_runs(outcome.flow_run_id)}
    assert {"prepare", "train", "publish"} <= task_runs


def test_mlflow_server_concurrent_workers_share_one_parent(mlflow_server):
    """Two worker processes of one workflow run start at once against the server: the
    create-then-search rule leaves one parent with both children."""
    exp = mlflow_server.experiment("e2e-workers")
    env = dict(os.environ)
    env.update(
        GRAFLOW_MLFLOW="1",
        MLFLOW_TRACKING_URI=mlflow_server.url,
        MLFLOW_EXPERIMENT_NAME=exp.experiment,
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), name, "dag/run-7"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
    (parent,) = exp.parent_runs()
    assert sorted(exp.children_by_task(parent.info.run_id)) == ["left", "right"]
    assert parent.info.status == "FINISHED"


def test_mlflow_server_receives_an_airflow_dag_run(mlflow_server, airflow_env, pipeline):
    """A workflow inside one Airflow task (GraflowOperator): the parent run is keyed on
    "<dag_id>/<run_id>", the orchestrator's run identity."""
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator
    from graflow_mlflow import MlflowTracking

    exp = mlflow_server.experiment("e2e-airflow")
    tracking = MlflowTracking(mlflow_server.url, exp.experiment, strict=True)
    with DAG("mlflow_e2e_pipeline", schedule=None) as dag:
        GraflowOperator(
            task_id="pipeline",
            workflow="tracked_pipeline:build_mlflow",
            op_kwargs={"rows": 10},
            plugins=[tracking],
        )
    result = airflow_env.run_dag(dag, run_id="nightly-1")
    assert result.state == "success", result.task_states
    (parent,) = exp.parent_runs()
    assert parent.data.tags["graflow.workflow_run_id"] == "mlflow_e2e_pipeline/nightly-1"
    assert parent.info.status == "FINISHED"
    _assert_pipeline_runs(exp, parent)
