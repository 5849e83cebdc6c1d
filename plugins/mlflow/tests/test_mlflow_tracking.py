"""MLflow tracking of native runs: parent/child structure, params, status, metrics, retries."""

from __future__ import annotations

from graflow_core import task, workflow


def _chain(name: str):
    with workflow(name) as wf:

        @task
        def extract() -> list[int]:
            return [1, 2, 3]

        @task
        def transform(extract: list[int], factor: int = 2) -> list[int]:
            return [x * factor for x in extract]

        @task
        def load(transform: list[int]) -> int:
            return sum(transform)

        extract >> transform >> load
    return wf


def test_mlflow_parent_and_children(mlflow_tracking):
    wf = _chain("etl")
    assert wf.execute(plugins=[mlflow_tracking.tracking()]) == 12

    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FINISHED"
    assert parent.info.run_name == "etl"
    assert parent.data.tags["graflow.workflow_name"] == "etl"
    assert parent.data.tags["graflow.run_scope"] == "workflow"
    assert parent.data.metrics["duration_seconds"] > 0
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    assert sorted(children) == ["extract", "load", "transform"]
    for child in children.values():
        assert child.info.status == "FINISHED"
        assert child.data.tags["graflow.status"] == "success"
        assert child.data.tags["graflow.attempts"] == "1"
        assert child.data.metrics["duration_seconds"] >= 0
        assert (
            child.data.tags["graflow.workflow_run_id"]
            == parent.data.tags["graflow.workflow_run_id"]
        )
    assert children["transform"].data.params == {"extract": "[1, 2, 3]"}
    assert children["load"].data.params == {"transform": "[2, 4, 6]"}
