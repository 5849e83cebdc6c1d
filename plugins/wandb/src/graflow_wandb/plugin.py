"""The ``graflow`` entry point of graflow-wandb."""

from __future__ import annotations


class WandbPlugin:
    """pluggy plugin object for graflow-wandb (hook implementations are added as the plugin grows)."""


plugin = WandbPlugin()
