"""The ``graflow`` entry point of graflow-wandb.

Loaded in every workflow run where graflow-wandb is installed, so by default it only registers
the ``wandb`` task type (no per-task hooks: installing the package tracks nothing). With
``GRAFLOW_WANDB=1`` the entry point is an :class:`~graflow_wandb.tracking.EnvWandbTracking`
that tracks every run of the process (orchestrator workers). Does not import wandb.
"""

from __future__ import annotations

from typing import Any

from graflow_core.plugins import env_flag, hookimpl
from graflow_core.plugins.diagnosis import LazyDiagnosis


class WandbPlugin(LazyDiagnosis):
    """The entry-point plugin when tracking is not switched on: the ``wandb`` task type (and
    the ``diagnose`` hook of ``graflow doctor``) only."""

    diagnosis = "graflow_wandb.doctor:diagnose"

    @hookimpl
    def register_task_types(self) -> list[Any]:
        from graflow_wandb.task_type import WandbTaskType

        return [WandbTaskType()]


def _make_plugin() -> object:
    if env_flag("GRAFLOW_WANDB"):  # tracking.ENABLE_ENV, read without importing tracking
        from graflow_wandb.tracking import EnvWandbTracking

        return EnvWandbTracking()
    return WandbPlugin()


plugin: object = _make_plugin()
