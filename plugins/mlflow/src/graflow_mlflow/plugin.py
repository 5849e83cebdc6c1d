"""The ``graflow`` entry point of graflow-mlflow.

Loaded in every workflow run of an environment where graflow-mlflow is installed, so by default
it only registers the ``mlflow`` task type (no per-task hooks: installing the package tracks
nothing). With ``GRAFLOW_MLFLOW=1`` in the environment the entry point is an
:class:`~graflow_mlflow.tracking.EnvMlflowTracking` instead, which tracks every run of the
process — how orchestrator workers switch tracking on without code. Importing this module does
not import MLflow.
"""

from __future__ import annotations

from typing import Any

from graflow_core.plugins import env_flag, hookimpl
from graflow_core.plugins.diagnosis import LazyDiagnosis


class MlflowPlugin(LazyDiagnosis):
    """The entry-point plugin when tracking is not switched on: the ``mlflow`` task type (and
    the ``diagnose`` hook of ``graflow doctor``) only."""

    diagnosis = "graflow_mlflow.doctor:diagnose"

    @hookimpl
    def register_task_types(self) -> list[Any]:
        from graflow_mlflow.task_type import MlflowTaskType

        return [MlflowTaskType()]


def _make_plugin() -> object:
    if env_flag("GRAFLOW_MLFLOW"):  # config.ENABLE_ENV, read without importing config
        from graflow_mlflow.tracking import EnvMlflowTracking

        return EnvMlflowTracking()
    return MlflowPlugin()


plugin = _make_plugin()
