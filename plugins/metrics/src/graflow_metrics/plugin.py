"""The ``graflow`` entry point of graflow-metrics."""

from __future__ import annotations


class MetricsPlugin:
    """pluggy plugin object for graflow-metrics (hook implementations are added as the plugin
    grows).
    """


plugin = MetricsPlugin()
