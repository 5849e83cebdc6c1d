"""Track a workflow run in Weights & Biases: one W&B run, a history row per task (docs/wandb.md).

    python examples/tracking/wandb_example.py

Runs offline unless ``WANDB_MODE`` says otherwise (no account needed); the run is written under
``./wandb/offline-run-*`` and can be uploaded later with ``wandb sync``.
"""

from __future__ import annotations

import os

from graflow_wandb import WandbTracking, find_offline_runs, wandb_run_id
from tracked_pipeline import build_wandb  # this folder is on sys.path

# Before the tracking library is imported (it is imported on first use).
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


def main() -> None:
    tracking = WandbTracking(project="tracked_pipeline")
    result = build_wandb().execute(
        initial_channel={"rows": 100}, plugins=[tracking], workflow_run_id="example/1"
    )
    print("result:", result)
    if os.environ["WANDB_MODE"] == "offline":
        wandb_dir = os.environ.get("WANDB_DIR", ".")
        for run in find_offline_runs(wandb_dir, wandb_run_id("example/1")):
            print(f"offline run {run.run_id} ({run.path.name}): exit code {run.exit_code}")
            for row in run.history:
                if "graflow/task" in row:
                    print(f"  task {row['graflow/task']}: {row['graflow/status']}")
            print("  final_loss:", run.summary.get("final_loss"))


if __name__ == "__main__":
    main()
