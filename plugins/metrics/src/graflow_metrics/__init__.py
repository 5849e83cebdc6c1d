"""Prometheus metrics, health checks and structured JSON logging for graflow workflows.

Nothing is recorded merely because this package is installed. Switch it on with one of:

* ``graflow_metrics.enable(port=9464)`` — every run of the process, ``/metrics`` + ``/health``
  served on 127.0.0.1:9464;
* ``wf.execute(plugins=[MetricsPlugin(registry=...)])`` — one run;
* ``GRAFLOW_METRICS=1`` (and ``GRAFLOW_METRICS_PORT``) in the environment.

JSON logs: ``configure_json_logging()``. Health: ``register_health_check(name, fn, critical=...)``.
See docs/metrics.md.

``import graflow_metrics`` is cheap: prometheus_client is imported when metrics are enabled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graflow_core._lazy import lazy_exports

if TYPE_CHECKING:
    from graflow_metrics._api import active_plugin, disable, enable
    from graflow_metrics.exporter import DEFAULT_BUCKETS, MetricSet, MetricsPlugin, metric_set
    from graflow_metrics.health import (
        HealthStatus,
        checkpoint_dir_check,
        failure_rate_check,
        health_report,
        register_health_check,
        registered_health_checks,
        unregister_health_check,
    )
    from graflow_metrics.json_logging import JsonFormatter, configure_json_logging
    from graflow_metrics.logcontext import LogContextPlugin
    from graflow_metrics.server import MetricsServer

_EXPORTS = {
    "enable": "graflow_metrics._api",
    "disable": "graflow_metrics._api",
    "active_plugin": "graflow_metrics._api",
    "MetricsPlugin": "graflow_metrics.exporter",
    "MetricSet": "graflow_metrics.exporter",
    "metric_set": "graflow_metrics.exporter",
    "DEFAULT_BUCKETS": "graflow_metrics.exporter",
    "MetricsServer": "graflow_metrics.server",
    "HealthStatus": "graflow_metrics.health",
    "register_health_check": "graflow_metrics.health",
    "unregister_health_check": "graflow_metrics.health",
    "registered_health_checks": "graflow_metrics.health",
    "health_report": "graflow_metrics.health",
    "checkpoint_dir_check": "graflow_metrics.health",
    "failure_rate_check": "graflow_metrics.health",
    "JsonFormatter": "graflow_metrics.json_logging",
    "configure_json_logging": "graflow_metrics.json_logging",
    "LogContextPlugin": "graflow_metrics.logcontext",
}

__all__ = [
    "DEFAULT_BUCKETS",
    "HealthStatus",
    "JsonFormatter",
    "LogContextPlugin",
    "MetricSet",
    "MetricsPlugin",
    "MetricsServer",
    "active_plugin",
    "checkpoint_dir_check",
    "configure_json_logging",
    "disable",
    "enable",
    "failure_rate_check",
    "health_report",
    "metric_set",
    "register_health_check",
    "registered_health_checks",
    "unregister_health_check",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), __all__)
