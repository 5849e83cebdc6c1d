"""The ``graflow`` entry point of graflow-prefect: registers the prefect bridge with graflow."""

from __future__ import annotations


class PrefectPlugin:
    """pluggy plugin object for graflow-prefect (hook implementations are added as the bridge
    grows).
    """


plugin = PrefectPlugin()
