"""docs/wandb.md's runnable example works as documented (offline by default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[3] / "examples" / "tracking" / "wandb_example.py"


@pytest.mark.slow
def test_wandb_example_runs_offline(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "GRAFLOW_"))}
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
    assert lines[1].startswith("offline run gf-") and lines[1].endswith("exit code 0")
    assert lines[2:] == [
        "  task prepare: success",
        "  task mean_feature: success",
        "  task max_feature: success",
        "  task train: success",
        "  task publish: success",
        "  final_loss: 0.3628",
    ]
    assert list((tmp_path / "wandb").glob("offline-run-*"))
