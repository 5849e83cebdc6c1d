"""The ``graflow`` entry point of graflow-wandb.

Loaded in every workflow run where graflow-wandb is installed, so by default it only registers
the ``wandb`` task type (no per-task hooks: installing the package tracks nothing). With
``GRAFLOW_WANDB=1`` the entry point is an :class:`~graflow_wandb.tracking.EnvWandbTracking`
that tracks every run of the process (orchestrator workers). Does not import wandb.
"""

from __future__ import annotations

from typing import Any

from graflow_core.plugins import hookimpl
from graflow_wandb.tracking import EnvWandbTracking, env_enabled


class WandbPlugin:
    """The entry-point plugin when tracking is not switched on: the ``wandb`` task type only."""

    @hookimpl
    def register_task_types(self) -> list[Any]:
        from graflow_wandb.task_type import WandbTaskType

        return [WandbTaskType()]


plugin: object = EnvWandbTracking() if env_enabled() else WandbPlugin()
