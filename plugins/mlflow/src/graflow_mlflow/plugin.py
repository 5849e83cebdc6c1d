"""The ``graflow`` entry point of graflow-mlflow."""

from __future__ import annotations


class MlflowPlugin:
    """pluggy plugin object for graflow-mlflow (hook implementations are added as the plugin
    grows).
    """


plugin = MlflowPlugin()
