"""W&B tracking in offline mode: assert on the run files W&B writes."""

from __future__ import annotations

import pytest
from graflow_wandb import WandbTracking, find_offline_runs, wandb_run_id

from graflow_core import task, workflow


def _pipeline(name: str = "etl"):
    with workflow(name) as wf:

        @task
        def extract() -> list[int]:
            return [1, 2, 3]

        @task
        def left(extract: list[int]) -> int:
            return sum(extract)

        @task
        def right(extract: list[int]) -> int:
            return max(extract)

        @task
        def report() -> str:
            return "done"

        extract >> (left | right) >> report
    return wf


def _task_rows(run) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for row in run.history:
        if "graflow/task" in row:
            rows.setdefault(row["graflow/task"], []).append(row)
    return rows


def test_wandb_one_run_per_workflow_run_with_task_steps(wandb_offline):
    wf = _pipeline()
    assert (
        wf.execute(plugins=[WandbTracking(dir=wandb_offline)], workflow_run_id="etl/run-1")
        == "done"
    )
    (run,) = find_offline_runs(wandb_offline)
    assert run.run_id == wandb_run_id("etl/run-1")
    assert run.project == "etl"
    assert run.config["graflow"]["workflow_run_id"] == "etl/run-1"
    assert run.config["graflow"]["run_scope"] == "workflow"
    rows = _task_rows(run)
    assert sorted(rows) == ["extract", "left", "report", "right"]
    for task_id, (row,) in rows.items():
        assert row["graflow/status"] == "success"
        assert row["graflow/attempt"] == 1
        assert row[f"task/{task_id}/duration_seconds"] >= 0
    assert run.summary["graflow/status"] == "succeeded"
    assert run.summary["task/report/status"] == "success"
    assert run.exit_code == 0


def test_wandb_retries_and_failures(wandb_offline):
    calls = []
    with workflow("flaky") as wf:

        @task(max_retries=1)
        def flaky() -> int:
            calls.append(1)
            if len(calls) == 1:
                raise ValueError("transient")
            return 1

        @task
        def broken(flaky: int) -> int:
            raise RuntimeError("permanent")

        flaky >> broken

    with pytest.raises(Exception, match="permanent"):
        wf.execute(plugins=[WandbTracking(project="tests", dir=wandb_offline)])
    (run,) = find_offline_runs(wandb_offline)
    rows = _task_rows(run)
    assert [r["graflow/status"] for r in rows["flaky"]] == ["retrying", "success"]
    assert [r["graflow/attempt"] for r in rows["flaky"]] == [1, 2]
    assert [r["graflow/status"] for r in rows["broken"]] == ["failed"]
    assert run.summary["graflow/status"] == "failed"
    assert run.summary["task/broken/error"] == "RuntimeError: permanent"
    assert "permanent" in run.summary["graflow/error"]
    assert run.exit_code == 1


def test_wandb_task_type_logs_returned_metrics(wandb_offline):
    with workflow("train") as wf:

        @task(type="wandb")
        def train() -> dict:
            return {"metrics": {"loss": [0.9, 0.4], "acc": 0.8}, "summary": {"best": 0.4}}

        @task(type="wandb", type_options={"prefix": "eval/"})
        def evaluate(train: dict) -> dict:
            return {"f1": 0.75, "label": "not a metric"}

        train >> evaluate

    wf.execute(plugins=[WandbTracking(project="tests", dir=wandb_offline)])
    (run,) = find_offline_runs(wandb_offline)
    metric_rows = [r for r in run.history if "loss" in r or "eval/f1" in r]
    assert [(r.get("loss"), r.get("acc"), r.get("eval/f1")) for r in metric_rows] == [
        (0.9, 0.8, None),
        (0.4, None, None),
        (None, None, 0.75),
    ]
    assert run.summary["best"] == 0.4


def test_wandb_per_task_runs_are_grouped(wandb_offline):
    wf = _pipeline("grouped")
    wf.execute(
        plugins=[WandbTracking(per_task_runs=True, dir=wandb_offline)], workflow_run_id="g/1"
    )
    runs = find_offline_runs(wandb_offline)
    assert sorted(r.job_type for r in runs) == ["extract", "left", "report", "right"]
    assert {r.group for r in runs} == {wandb_run_id("g/1")}
    assert {r.run_id for r in runs} == {
        wandb_run_id("g/1", t) for t in ("extract", "left", "report", "right")
    }
    assert all(r.exit_code == 0 for r in runs)


def test_wandb_tracking_errors_never_break_the_workflow(wandb_offline):
    from graflow_wandb import TrackingWarning

    broken = WandbTracking(project="tests", dir=wandb_offline, settings={"no_such_setting": 1})
    with pytest.warns(TrackingWarning, match="graflow-wandb could not log"):
        assert _pipeline("x").execute(plugins=[broken]) == "done"
