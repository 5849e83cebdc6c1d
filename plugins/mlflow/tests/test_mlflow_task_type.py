"""The ``mlflow`` task type: returned metrics / params / tags / artifacts are logged."""

from __future__ import annotations

import pytest

from graflow_core import task, workflow
from graflow_core.exceptions import ConfigError


def test_mlflow_task_type_logs_into_the_child_run(mlflow_tracking, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("rmse 0.71")

    with workflow("train") as wf:

        @task(type="mlflow")
        def train() -> dict:
            return {
                "metrics": {"rmse": 0.71, "loss": [0.9, 0.5, 0.3]},
                "params": {"depth": 6},
                "tags": {"stage": "dev"},
                "artifacts": {"reports": str(report)},
                "model": "not logged",
            }

        @task(type="mlflow", type_options={"metric": "accuracy", "prefix": "eval."})
        def evaluate(train: dict) -> float:
            return 0.93

        @task(type="mlflow")
        def summary() -> dict:
            return {"rows": 10, "name": "ignored", "ratio": [1, 2]}

        train >> evaluate >> summary

    assert wf.execute(plugins=[mlflow_tracking.tracking(log_inputs=False)]) == {
        "rows": 10,
        "name": "ignored",
        "ratio": [1, 2],
    }
    (parent,) = mlflow_tracking.parent_runs()
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    client = mlflow_tracking.client
    train_run = children["train"]
    assert train_run.data.metrics["rmse"] == pytest.approx(0.71)
    assert [m.value for m in client.get_metric_history(train_run.info.run_id, "loss")] == [
        0.9,
        0.5,
        0.3,
    ]
    assert train_run.data.params == {"depth": "6"}
    assert train_run.data.tags["stage"] == "dev"
    assert train_run.data.tags["graflow.task_type"] == "mlflow"
    (artifact,) = client.list_artifacts(train_run.info.run_id, "reports")
    assert artifact.path == "reports/report.txt"
    assert children["evaluate"].data.metrics["eval.accuracy"] == pytest.approx(0.93)
    assert children["summary"].data.metrics == pytest.approx(
        {
            "rows": 10.0,
            "ratio": 2.0,
            "duration_seconds": children["summary"].data.metrics["duration_seconds"],
        }
    )


def test_mlflow_task_type_without_tracking_starts_its_own_run(mlflow_tracking):
    """Without the tracking plugin the type logs through MLflow's fluent API and defaults."""
    with workflow("standalone") as wf:

        @task(type="mlflow")
        def score() -> float:
            return 0.5

    assert wf.execute() == 0.5
    (run,) = mlflow_tracking.runs()
    assert run.info.run_name == "score"
    assert run.data.metrics == {"score": 0.5}


def test_mlflow_task_type_rejects_malformed_returns(mlflow_tracking):
    with workflow("bad") as wf:

        @task(type="mlflow")
        def bad() -> dict:
            return {"metrics": {"rmse": "low"}}

    with pytest.raises(Exception, match="metric 'rmse' is 'low'") as info:
        wf.execute(plugins=[mlflow_tracking.tracking()])
    assert isinstance(info.value.__cause__ or info.value, ConfigError)
    with workflow("missing") as wf2:

        @task(type="mlflow")
        def gone() -> dict:
            return {"artifacts": ["/nonexistent/file.bin"]}

    with pytest.raises(Exception, match=r"'/nonexistent/file\.bin', which does not exist"):
        wf2.execute(plugins=[mlflow_tracking.tracking()])


def test_mlflow_task_type_rejects_unknown_options():
    with pytest.raises(ConfigError, match="unknown type_options"):

        @task(type="mlflow", type_options={"colour": "red"})
        def nope() -> int:
            return 1


def test_mlflow_task_type_keeps_params_immutable(mlflow_tracking):
    """A returned param that contradicts an input logged as a param warns instead of failing."""
    with workflow("conflict") as wf:

        @task(type="mlflow")
        def fit(lr: float) -> dict:
            return {"params": {"lr": lr * 2, "depth": 3}, "metrics": {"score": 1.0}}

    with pytest.warns(RuntimeWarning, match=r"already has the parameter\(s\) \['lr'\]"):
        wf.execute(initial_channel={"lr": 0.1}, plugins=[mlflow_tracking.tracking()])
    (parent,) = mlflow_tracking.parent_runs()
    (child,) = mlflow_tracking.child_runs(parent.info.run_id)
    assert child.info.status == "FINISHED"
    assert child.data.params == {"lr": "0.1", "depth": "3"}
    assert child.data.metrics["score"] == 1.0
