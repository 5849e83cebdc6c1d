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

from typing import Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'graflow_wandb' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
