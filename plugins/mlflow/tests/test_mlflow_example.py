"""docs/mlflow.md's runnable example works as documented (local SQLite store in the cwd)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[3] / "examples" / "tracking" / "mlflow_example.py"


@pytest.mark.slow
def test_mlflow_example_runs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GRAFLOW_"))}
    env["GRAFLOW_MLFLOW_ARTIFACT_LOCATION"] = str(tmp_path / "artifacts")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0] == "result: final loss 0.3628"
    assert lines[1] == "parent run tracked_pipeline: FINISHED"
    tasks = [line.split(":")[0].strip() for line in lines[2:]]
    assert tasks == [
        "task prepare",
        "task mean_feature",
        "task max_feature",
        "task train",
        "task publish",
    ]
    assert "'lr': '0.1'" in lines[5] and "'loss'" in lines[5]
    assert (tmp_path / "mlflow.db").exists()
