"""Continuity across processes: every step of one workflow run logs into the same parent run.

Each step runs in its own Python process with tracking switched on by environment only
(GRAFLOW_MLFLOW=1 + MLFLOW_TRACKING_URI), as an Airflow/Dagster worker would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).parents[3] / "examples" / "tracking" / "worker_step.py"


def _env(mlflow_tracking) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GRAFLOW_MLFLOW="1",
        MLFLOW_TRACKING_URI=mlflow_tracking.uri,
        MLFLOW_EXPERIMENT_NAME=mlflow_tracking.experiment,
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    return env


def _start(mlflow_tracking, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        env=_env(mlflow_tracking),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _step(mlflow_tracking, *args: str, expect: int = 0) -> None:
    proc = _start(mlflow_tracking, *args)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == expect, err[-3000:]


@pytest.mark.slow
def test_mlflow_steps_in_separate_processes_share_one_parent(mlflow_tracking):
    run_id = "etl_dag/scheduled__2026-11-28T00:00:00+00:00"
    # Two first steps start together: concurrent find-or-create of the parent (store lock).
    procs = [_start(mlflow_tracking, name, run_id) for name in ("extract", "enrich")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.data.tags["graflow.workflow_run_id"] == run_id
    assert parent.data.tags["graflow.run_scope"] == "step"
    assert parent.info.status == "FINISHED"
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    assert sorted(children) == ["enrich", "extract"]
    assert children["extract"].data.params == {"size": "3"}

    # A failing step fails the parent; the orchestrator's successful retry finishes it again.
    _step(mlflow_tracking, "load", run_id, "fail", expect=3)
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FAILED"
    assert mlflow_tracking.children_by_task(parent.info.run_id)["load"].info.status == "FAILED"
    _step(mlflow_tracking, "load", run_id)
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.info.status == "FINISHED"
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    assert sorted(children) == ["enrich", "extract", "load"]
    assert children["load"].info.status == "FINISHED"
    assert children["load"].data.tags["graflow.attempts"] == "2"


EXAMPLES = Path(__file__).parents[3] / "examples" / "tracking"


@pytest.mark.slow
def test_mlflow_run_plan_in_processes_logs_one_parent(mlflow_tracking, monkeypatch):
    """graflow's reference static orchestrator: one spawned process per step."""
    from graflow_core.plugins import get_plugin_manager
    from graflow_core.steps.local import run_plan

    # The spawned step processes inherit the environment. Load this process's plugins first,
    # so that the variable does not switch tracking on here for the rest of the session.
    get_plugin_manager()
    monkeypatch.setenv("GRAFLOW_MLFLOW", "1")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    run = run_plan(
        "tracked_pipeline:build_mlflow",
        {"rows": 10},
        processes=True,
        workflow_run_id="plan/run-1",
    )
    assert run.ok and run.result.startswith("final loss")
    (parent,) = mlflow_tracking.parent_runs()
    assert parent.data.tags["graflow.workflow_run_id"] == "plan/run-1"
    assert parent.data.tags["graflow.run_scope"] == "step"
    assert parent.info.status == "FINISHED"
    children = mlflow_tracking.children_by_task(parent.info.run_id)
    # On a static orchestrator the group's join (its policy check) is a step of its own.
    assert sorted(children) == [
        "ParallelGroup_1",
        "max_feature",
        "mean_feature",
        "prepare",
        "publish",
        "train",
    ]
    assert {c.info.status for c in children.values()} == {"FINISHED"}
    train = children["train"]
    assert train.data.params["lr"] == "0.1" and train.data.params["epochs"] == "3"
    history = mlflow_tracking.client.get_metric_history(train.info.run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert children["prepare"].data.params == {"rows": "10"}
