"""MLflow tracking for graflow: one run per workflow run, a child run per task, on any
orchestrator.

Switch it on explicitly — for one run, for the process, or by environment on workers::

    from graflow_mlflow import MlflowTracking, enable

    wf.execute(plugins=[MlflowTracking(experiment="etl")])  # this run
    enable(tracking_uri="http://127.0.0.1:5000")             # every run of this process
    # GRAFLOW_MLFLOW=1 MLFLOW_TRACKING_URI=...               # every run, no code (workers)

and log what a task returns with ``@task(type="mlflow")``. See docs/mlflow.md.
Importing this package does not import MLflow.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

__all__ = [
    "MlflowTaskType",
    "MlflowTracking",
    "TrackingWarning",
    "active_task_run",
    "default_tracking_uri",
    "disable",
    "enable",
    "is_enabled",
]

_EXPORTS = {
    "MlflowTracking": "graflow_mlflow.tracking",
    "TrackingWarning": "graflow_mlflow.tracking",
    "active_task_run": "graflow_mlflow.tracking",
    "enable": "graflow_mlflow.tracking",
    "disable": "graflow_mlflow.tracking",
    "is_enabled": "graflow_mlflow.tracking",
    "MlflowTaskType": "graflow_mlflow.task_type",
    "default_tracking_uri": "graflow_mlflow.config",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
