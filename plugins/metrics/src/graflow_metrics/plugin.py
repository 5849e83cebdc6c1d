"""The ``graflow`` entry point of graflow-metrics.

Installed is not enabled: the entry-point object implements no run hook (only ``graflow
doctor``'s ``diagnose``) unless ``GRAFLOW_METRICS=1`` is set when plugins are discovered (the
first workflow run of the process); then it is a
:class:`~graflow_metrics.exporter.MetricsPlugin` serving ``/metrics`` and ``/health`` on
``GRAFLOW_METRICS_PORT`` (default 9464). Without the variable, use
``graflow_metrics.enable()`` or ``wf.execute(plugins=[MetricsPlugin(...)])``.

``plugin`` is computed on first access (PEP 562), so importing this module does not import
prometheus_client.
"""

from __future__ import annotations

from typing import Any

from graflow_core.plugins.diagnosis import LazyDiagnosis


class InactiveMetricsPlugin(LazyDiagnosis):
    """What the entry point registers when metrics are not enabled: no run hooks, no cost (only
    ``graflow doctor``'s ``diagnose``)."""

    diagnosis = "graflow_metrics.doctor:diagnose"

    def __repr__(self) -> str:
        return (
            "<graflow-metrics: inactive (set GRAFLOW_METRICS=1 or call graflow_metrics.enable())>"
        )


def __getattr__(name: str) -> Any:
    if name != "plugin":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from graflow_core.plugins import env_flag

    if env_flag("GRAFLOW_METRICS"):  # _api.ENV_ENABLE, read without importing _api
        from graflow_metrics._api import plugin_from_env

        value: Any = plugin_from_env()
    else:
        value = InactiveMetricsPlugin()
    globals()["plugin"] = value
    return value
