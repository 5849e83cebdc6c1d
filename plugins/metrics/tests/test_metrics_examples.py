"""The documented example runs as a script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# a clean environment for subprocesses: no metrics switch, plugin autoload on
_OWN_ENV = ("GRAFLOW_METRICS", "GRAFLOW_DISABLE_PLUGIN")
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "metrics" / "monitored_pipeline.py"


def test_monitored_pipeline_example_runs() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRAFLOW_METRICS", "GRAFLOW_DISABLE_PLUGIN"))
    }
    env["METRICS_PORT"] = "0"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=180, env=env
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "result: 91.77" in out
    assert 'graflow_tasks_total{status="retry",task="enrich",workflow="orders"} 1.0' in out
    assert "/health -> HTTP 200 healthy: ['checkpoint_dir', 'failure_rate', 'warehouse']" in out
    logs = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [(r["task_id"], r["message"]) for r in logs] == [
        ("extract", "extracted rows"),
        ("enrich", "currency service timed out, retrying"),
        ("total", "total computed"),
    ]
    assert len({r["workflow_run_id"] for r in logs}) == 1
