"""The ``graflow`` entry point of graflow-dagster: registers the dagster target with graflow_core."""

from __future__ import annotations


class DagsterPlugin:
    """pluggy plugin object for graflow-dagster (hook implementations are added as the bridge
    grows).
    """


plugin = DagsterPlugin()
