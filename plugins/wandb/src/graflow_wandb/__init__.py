"""Weights & Biases tracking for graflow: one run per workflow run, task steps logged, on any
orchestrator.

Switch it on explicitly::

    from graflow_wandb import WandbTracking, enable

    wf.execute(plugins=[WandbTracking(project="etl")])  # this run
    enable(project="etl")                               # every run of this process
    # GRAFLOW_WANDB=1 WANDB_PROJECT=etl                 # every run, no code (workers)

and log what a task returns with ``@task(type="wandb")``. See docs/wandb.md. Importing this
package does not import wandb.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

__all__ = [
    "OfflineRun",
    "TrackingWarning",
    "WandbTaskType",
    "WandbTracking",
    "active_task_run",
    "disable",
    "enable",
    "find_offline_runs",
    "read_offline_run",
    "wandb_run_id",
]

_EXPORTS = {
    "WandbTracking": "graflow_wandb.tracking",
    "TrackingWarning": "graflow_wandb.tracking",
    "active_task_run": "graflow_wandb.tracking",
    "enable": "graflow_wandb.tracking",
    "disable": "graflow_wandb.tracking",
    "wandb_run_id": "graflow_wandb.tracking",
    "WandbTaskType": "graflow_wandb.task_type",
    "OfflineRun": "graflow_wandb.offline",
    "read_offline_run": "graflow_wandb.offline",
    "find_offline_runs": "graflow_wandb.offline",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
