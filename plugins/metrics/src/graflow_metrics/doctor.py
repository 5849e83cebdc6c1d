"""``graflow doctor`` checks of graflow-metrics: on or off, the configured port (a valid number,
free to listen on — or served by this process), the Pushgateway and the checkpoint directory
health check. Imports prometheus_client only when metrics are switched on (already imported).
"""

from __future__ import annotations

import os

from graflow_core.diagnostics import Check, port_problem, url_problem, writable_check
from graflow_core.plugins import env_flag

AREA = "metrics"
# The names of graflow_metrics._api (not imported: it imports the health module).
ENV_ENABLE = "GRAFLOW_METRICS"
ENV_PORT = "GRAFLOW_METRICS_PORT"
ENV_HOST = "GRAFLOW_METRICS_HOST"
ENV_CHECKPOINT_DIR = "GRAFLOW_METRICS_CHECKPOINT_DIR"
ENV_PUSHGATEWAY = "GRAFLOW_METRICS_PUSHGATEWAY"
DEFAULT_PORT = 9464
#: Seconds to wait for the Pushgateway.
TIMEOUT = 2.0


def diagnose() -> list[Check]:
    """The checks: switched on or not, the port, the Pushgateway, the checkpoint directory."""
    enabled = env_flag(ENV_ENABLE)
    checks = [
        Check(AREA, "enabled", "ok", f"{ENV_ENABLE}=1: every run is recorded")
        if enabled
        else Check(
            AREA,
            "enabled",
            "info",
            "off (installed is not enabled)",
            f"set {ENV_ENABLE}=1 or call graflow_metrics.enable()",
        ),
        _port_check(enabled),
    ]
    gateway = os.environ.get(ENV_PUSHGATEWAY, "").strip()
    if gateway:
        url = gateway if "://" in gateway else f"http://{gateway}"
        problem = url_problem(url, TIMEOUT)
        checks.append(
            Check(AREA, "pushgateway", "ok", f"{url} answers")
            if problem is None
            else Check(
                AREA,
                "pushgateway",
                "warn",
                problem + " (pushes will warn, runs still succeed)",
                f"start the Pushgateway or fix {ENV_PUSHGATEWAY}",
            )
        )
    directory = os.environ.get(ENV_CHECKPOINT_DIR, "").strip()
    if directory:
        checks.append(
            writable_check(
                AREA,
                "checkpoint dir",
                directory,
                f"point {ENV_CHECKPOINT_DIR} at a writable directory",
                consequence="/health reports unhealthy",
            )
        )
    return checks


def _port_check(enabled: bool) -> Check:
    raw = os.environ.get(ENV_PORT, "").strip()
    host = os.environ.get(ENV_HOST, "").strip() or "127.0.0.1"
    try:
        port = int(raw) if raw else DEFAULT_PORT
    except ValueError:
        return Check(
            AREA, "port", "fail", f"{ENV_PORT}={raw!r} is not a port number", f"set {ENV_PORT}=9464"
        )
    if enabled:
        serving = _serving()
        if serving:
            return Check(AREA, "port", "ok", f"serving {serving}/metrics and /health")
    problem = port_problem(port, host)
    if problem is None:
        return Check(AREA, "port", "ok", f"{host}:{port} free")
    return Check(
        AREA,
        "port",
        "fail" if enabled or not 0 <= port <= 65535 else "warn",
        f"{problem}: with {ENV_ENABLE}=1 runs are recorded but nothing is served",
        f"set {ENV_PORT} to a free port (0: any free port), or stop what listens there",
    )


def _serving() -> str | None:
    """The URL the process-wide metrics plugin serves, if it does."""
    from graflow_metrics._api import active_plugin

    plugin = active_plugin()
    server = None if plugin is None else plugin.server
    return server.url if server is not None and server.running else None


__all__ = ["diagnose"]
