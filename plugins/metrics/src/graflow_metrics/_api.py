"""``enable()`` / ``disable()``: switch the metrics plugin on for every run of the process."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError
from graflow_metrics import health

if TYPE_CHECKING:
    from graflow_metrics.exporter import MetricsPlugin

#: The name :func:`enable` registers the plugin under.
PLUGIN_NAME = "graflow-metrics"
#: The entry-point name (the plugin object is active only with ``GRAFLOW_METRICS=1``).
ENTRY_POINT_NAME = "metrics"
ENV_ENABLE = "GRAFLOW_METRICS"
ENV_PORT = "GRAFLOW_METRICS_PORT"
ENV_HOST = "GRAFLOW_METRICS_HOST"
ENV_CHECKPOINT_DIR = "GRAFLOW_METRICS_CHECKPOINT_DIR"
ENV_PUSHGATEWAY = "GRAFLOW_METRICS_PUSHGATEWAY"

FAILURE_RATE_CHECK = "failure_rate"
CHECKPOINT_DIR_CHECK = "checkpoint_dir"


def _env_port() -> int | None:
    raw = os.environ.get(ENV_PORT, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"{ENV_PORT}={raw!r} is not a port number (use e.g. 9464, or 0)"
        ) from None


def active_plugin() -> MetricsPlugin | None:
    """The process-wide metrics plugin (from :func:`enable` or ``GRAFLOW_METRICS=1``), if any."""
    from graflow_core.plugins import get_plugin_manager
    from graflow_metrics.exporter import MetricsPlugin

    manager = get_plugin_manager()
    for name in (PLUGIN_NAME, ENTRY_POINT_NAME):
        plugin = manager.get_plugin(name)
        if isinstance(plugin, MetricsPlugin):
            return plugin
    return None


def enable(
    port: int | None = None,
    *,
    registry: Any = None,
    host: str = "127.0.0.1",
    log_context: bool | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    failure_rate: bool = True,
    buckets: Sequence[float] | None = None,
    push_gateway: str | None = None,
) -> MetricsPlugin:
    """Record metrics of every workflow run in this process; optionally serve them over HTTP.

    Args:
        port: serve ``/metrics`` and ``/health`` on ``host:port`` (``0``: a free port, see
            ``plugin.server.port``); ``None``: no server (scrape ``registry`` yourself).
        registry: a ``prometheus_client.CollectorRegistry`` (default: the global ``REGISTRY``).
        host: interface to bind (default ``127.0.0.1``).
        log_context: keep the workflow / run / task ids for JSON logging (``None``: once a
            ``JsonFormatter`` exists).
        checkpoint_dir: register the built-in ``checkpoint_dir`` health check (critical) on
            this directory.
        failure_rate: register the built-in ``failure_rate`` health check (degraded above 10 %,
            unhealthy above 50 % of the last 100 finished tasks failing, from 10 tasks on).
        buckets: histogram buckets in seconds.
        push_gateway: also push the metrics to this Pushgateway when each run ends (batch
            processes that exit before Prometheus scrapes them).

    Returns:
        The registered :class:`MetricsPlugin` (calling ``enable`` again returns the same one,
        starting its server if a port is given now).
    """
    from graflow_core.plugins import get_plugin_manager
    from graflow_metrics.exporter import MetricsPlugin

    plugin = active_plugin()
    if plugin is None:
        plugin = MetricsPlugin(
            registry=registry, buckets=buckets, log_context=log_context, push_gateway=push_gateway
        )
        if get_plugin_manager().register(plugin, name=PLUGIN_NAME) is None:
            raise ConfigError(
                f"graflow_metrics.enable(): the plugin name '{PLUGIN_NAME}' is disabled "
                "(GRAFLOW_DISABLE_PLUGINS or get_plugin_manager().disable()); remove it from "
                "the disabled names, or pass MetricsPlugin(...) to wf.execute(plugins=[...])."
            )
    elif registry is not None and plugin.registry is not registry:
        raise ConfigError(
            "graflow-metrics is already enabled with another registry; call "
            "graflow_metrics.disable() first."
        )
    elif push_gateway is not None:
        plugin.push_gateway = push_gateway
    if port is not None:
        plugin.serve(port, host=host)
    _register_builtin_checks(plugin, checkpoint_dir, failure_rate)
    return plugin


def _register_builtin_checks(
    plugin: MetricsPlugin, checkpoint_dir: str | os.PathLike[str] | None, failure_rate: bool
) -> None:
    if failure_rate:
        health.register_health_check(
            FAILURE_RATE_CHECK, health.failure_rate_check(plugin.metrics.window), critical=True
        )
    if checkpoint_dir is not None:
        health.register_health_check(
            CHECKPOINT_DIR_CHECK, health.checkpoint_dir_check(checkpoint_dir), critical=True
        )


def disable() -> None:
    """Undo :func:`enable`: unregister the plugin, stop its server, drop the built-in checks."""
    from graflow_core.plugins import get_plugin_manager

    plugin = active_plugin()
    if plugin is None:
        return
    plugin.close()
    manager = get_plugin_manager()
    if manager.is_registered(plugin):
        manager.unregister(plugin)
    for name in (FAILURE_RATE_CHECK, CHECKPOINT_DIR_CHECK):
        health.unregister_health_check(name)


def plugin_from_env() -> MetricsPlugin:
    """The entry-point plugin when ``GRAFLOW_METRICS=1``: serves on ``GRAFLOW_METRICS_PORT``
    (default 9464) and ``GRAFLOW_METRICS_HOST`` (default 127.0.0.1) from the first workflow
    run on (loading the plugin alone, as ``graflow doctor`` does, starts no server).

    When the port is taken (several worker processes on one host) the plugin still records,
    without a server, and a ``RuntimeWarning`` says so.
    """
    from graflow_metrics.exporter import MetricsPlugin

    port = _env_port()
    plugin = MetricsPlugin(push_gateway=os.environ.get(ENV_PUSHGATEWAY, "").strip() or None)
    plugin.serve_at_first_run(
        9464 if port is None else port,
        host=os.environ.get(ENV_HOST, "").strip() or "127.0.0.1",
    )
    checkpoint_dir = os.environ.get(ENV_CHECKPOINT_DIR, "").strip() or None
    _register_builtin_checks(plugin, checkpoint_dir, True)
    return plugin
