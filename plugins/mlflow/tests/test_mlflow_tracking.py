"""MLflow tracking of native runs: parent/child structure, params, status, metrics, retries."""

from __future__ import annotations

import pytest

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


@pytest.mark.parametrize("asynchronous", [True, False], ids=["writer-thread", "synchronous"])
def test_mlflow_parent_and_children(mlflow_tracking, asynchronous):
    wf = _chain("etl")
    assert wf.execute(plugins=[mlflow_tracking.tracking(asynchronous=asynchronous)]) == 12

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


def _artifact_text(client, run_id: str, path: str) -> str:
    import mlflow.artifacts

    return mlflow.artifacts.load_text(f"{client.get_run(run_id).info.artifact_uri}/{path}")


@pytest.mark.parametrize("asynchronous", [True, False], ids=["writer-thread", "synchronous"])
def test_mlflow_retries_are_visible_in_one_child(mlflow_tracking, asynchronous):
    calls = []
    with workflow("flaky") as wf:

        @task(max_retries=2)
        def flaky() -> str:
            calls.append(1)
            if len(calls) < 2:
                raise ValueError("first attempt fails")
            return "ok"

    assert wf.execute(plugins=[mlflow_tracking.tracking(asynchronous=asynchronous)]) == "ok"
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FINISHED"
    (child,) = mlflow_tracking.child_runs(parent.info.run_id)
    assert child.info.status == "FINISHED"
    assert child.data.tags["graflow.attempts"] == "2"
    assert child.data.tags["graflow.error"] == "ValueError: first attempt fails"
    history = mlflow_tracking.client.get_metric_history(child.info.run_id, "duration_seconds")
    assert sorted(m.step for m in history) == [1, 2]
    text = _artifact_text(mlflow_tracking.client, child.info.run_id, "errors/attempt_1.txt")
    assert "ValueError: first attempt fails" in text and "Traceback" in text


def test_mlflow_final_failure_fails_child_and_parent(mlflow_tracking):
    with workflow("broken") as wf:

        @task
        def ok() -> int:
            return 1

        @task
        def boom(ok: int) -> int:
            raise KeyError("missing column")

        ok >> boom

    with pytest.raises(Exception, match="missing column"):
        wf.execute(plugins=[mlflow_tracking.tracking()])
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FAILED"
    assert parent.data.tags["graflow.status"] == "failed"
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    assert children["ok"].info.status == "FINISHED"
    assert children["boom"].info.status == "FAILED"
    assert children["boom"].data.tags["graflow.status"] == "failed"
    assert "missing column" in children["boom"].data.tags["graflow.error"]


def test_mlflow_parallel_group_members_are_children(mlflow_tracking):
    with workflow("fan") as wf:

        @task
        def start() -> int:
            return 2

        @task
        def left(start: int) -> int:
            return start + 1

        @task
        def right(start: int) -> int:
            return start * 10

        @task
        def join() -> str:
            return "done"

        start >> (left | right) >> join

    wf.execute(plugins=[mlflow_tracking.tracking()])
    (parent,) = mlflow_tracking.parent_runs()
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    assert sorted(children) == ["join", "left", "right", "start"]
    assert children["left"].data.params == {"start": "2"}
    assert {c.info.status for c in children.values()} == {"FINISHED"}


def test_mlflow_log_groups_adds_the_group_node(mlflow_tracking):
    with workflow("groups") as wf:

        @task
        def a() -> int:
            return 1

        @task
        def b() -> int:
            return 2

        a | b

    wf.execute(plugins=[mlflow_tracking.tracking(log_groups=True, log_inputs=False)])
    (parent,) = mlflow_tracking.parent_runs()
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    assert sorted(children) == ["ParallelGroup_1", "a", "b"]


def test_mlflow_same_workflow_run_id_reuses_the_parent(mlflow_tracking):
    """A resumed run (same workflow_run_id, e.g. an orchestrator retry) logs into its parent."""
    attempts = []
    with workflow("resumable") as wf:

        @task
        def once() -> int:
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("worker lost")
            return 7

    with pytest.raises(Exception, match="worker lost"):
        wf.execute(plugins=[mlflow_tracking.tracking()], workflow_run_id="dag/run-1")
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FAILED"
    assert wf.execute(plugins=[mlflow_tracking.tracking()], workflow_run_id="dag/run-1") == 7
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["graflow.workflow_run_id"] == "dag/run-1"
    (child,) = mlflow_tracking.child_runs(parent.info.run_id)
    assert child.info.status == "FINISHED"
    assert child.data.tags["graflow.attempts"] == "2"


def test_mlflow_enable_tracks_every_run_once(mlflow_tracking):
    from graflow_mlflow import disable, enable, is_enabled

    tracking = enable(mlflow_tracking.uri, mlflow_tracking.experiment)
    try:
        assert is_enabled()
        _chain("first").execute()
        # A run plugin on top of enable(): still one parent for the run.
        _chain("second").execute(plugins=[mlflow_tracking.tracking()])
    finally:
        disable()
    assert not is_enabled()
    _chain("untracked").execute()
    parents = mlflow_tracking.parent_runs()
    assert [p.info.run_name for p in parents] == ["first", "second"]
    assert repr(tracking).startswith("MlflowTracking(")


def test_mlflow_tracking_errors_never_break_the_workflow(mlflow_tracking):
    from graflow_mlflow import MlflowTracking, TrackingWarning

    broken = MlflowTracking("bogus-scheme://nowhere", "x")
    with pytest.warns(TrackingWarning, match="bogus-scheme://nowhere"):
        assert _chain("still-runs").execute(plugins=[broken]) == 12
    with pytest.raises(Exception, match="bogus-scheme"):
        _chain("strict").execute(plugins=[MlflowTracking("bogus-scheme://nowhere", strict=True)])
