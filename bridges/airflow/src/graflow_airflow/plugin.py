"""The ``graflow`` entry point of graflow-airflow: registers the airflow target with graflow_core."""

from __future__ import annotations


class AirflowPlugin:
    """pluggy plugin object for graflow-airflow (hook implementations are added as the bridge
    grows).
    """


plugin = AirflowPlugin()
