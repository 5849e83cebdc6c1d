"""Continuity across processes: steps of one workflow run write into the same W&B run id.

Each step runs in its own Python process with tracking switched on by environment only
(GRAFLOW_WANDB=1), as an orchestrator worker would; offline, every process writes its own run
directory with the same run id (``wandb sync`` uploads them into one run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from graflow_wandb import find_offline_runs, wandb_run_id

WORKER = Path(__file__).parents[3] / "examples" / "tracking" / "worker_step.py"


def _step(wandb_dir: Path, *args: str, expect: int = 0) -> None:
    env = dict(os.environ)
    env.update(
        GRAFLOW_WANDB="1",
        WANDB_MODE="offline",
        WANDB_DIR=str(wandb_dir),
        WANDB_SILENT="true",
        WANDB_PROJECT="pipelines",
    )
    proc = subprocess.run(
        [sys.executable, str(WORKER), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == expect, proc.stderr[-3000:]


@pytest.mark.slow
def test_wandb_steps_in_separate_processes_share_one_run_id(tmp_path):
    run_id = "etl_dag/manual__2026-11-28"
    _step(tmp_path, "extract", run_id)
    _step(tmp_path, "load", run_id, "fail", expect=3)
    _step(tmp_path, "other", "another-run")
    runs = find_offline_runs(tmp_path)
    assert len(runs) == 3
    same = find_offline_runs(tmp_path, wandb_run_id(run_id))
    assert len(same) == 2
    assert {r.project for r in runs} == {"pipelines"}
    assert [r.config["graflow"]["run_scope"] for r in same] == ["step", "step"]
    extract, load = same
    assert [row["graflow/task"] for row in extract.history if "graflow/task" in row] == ["extract"]
    assert extract.summary["graflow/status"] == "running"  # a step never ends the whole run
    assert extract.exit_code == 0
    assert load.summary["task/load/status"] == "failed"
    assert load.summary["graflow/status"] == "failed"
    assert load.exit_code == 1
