"""``graflow doctor`` checks for Prefect: :func:`diagnose` (the ``prefect`` target's diagnose).

What it looks at, in order (each a :class:`~graflow_core.diagnostics.Check` of area
``"prefect"``):

* **installed** — Prefect's version, and whether graflow-prefect supports it (3.7-3.9);
* **profile** — the active Prefect profile and where profiles are kept (info);
* **PREFECT_HOME** — an existing writable directory, or one that can be created;
* **API** — with ``PREFECT_API_URL`` set: does ``<url>/health`` answer within 2 s. Without it:
  may Prefect start its temporary local server (``PREFECT_SERVER_ALLOW_EPHEMERAL_MODE``) and
  can that server's SQLite database be written; its start-up timeout (Prefect's default of
  20 s is often too short on 2 cores; ``run_on("prefect")`` uses 120 s);
* **telemetry** — Prefect's server analytics and SDK telemetry settings (info).

Nothing here starts a server or a flow run; the only network access is the GET of a configured
API's health endpoint; nothing is written (a probe file is created and removed at once).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from graflow_core.diagnostics import Check, url_problem, version_of, writable_problem

AREA = "prefect"
#: Prefect versions graflow-prefect is tested with: [first, last] minor versions.
SUPPORTED = ((3, 7), (3, 9))
#: Seconds to wait for a configured API's health endpoint.
HEALTH_TIMEOUT = 2.0
#: Start-up timeout below which the temporary server often fails to start on small machines.
SLOW_START_SECONDS = 60


def _check(name: str, status: str, detail: str, fix: str = "") -> Check:
    return Check(AREA, name, status, detail, fix)


def diagnose() -> list[Check]:
    """Whether Prefect is installed and whether graflow can run workflows on it here."""
    installed = _installed()
    checks = [installed]
    if installed.failed:
        return checks
    try:
        from prefect.context import get_settings_context

        settings_context = get_settings_context()
    except Exception as exc:  # invalid settings (a bad value in the environment or profile)
        message = " ".join(str(exc).split())
        checks.append(
            _check(
                "settings",
                "fail",
                f"Prefect's settings cannot be loaded: {type(exc).__name__}: {message}",
                "fix the PREFECT_* environment variable or profile value it names "
                "(`prefect config view --show-sources`)",
            )
        )
        return checks
    settings = settings_context.settings
    profile = settings_context.profile
    checks.append(
        _check("profile", "info", f"{profile.name} (profiles in {settings.profiles_path})")
    )
    checks.append(_home(settings.home))
    url = settings.api.url
    if url:
        checks.append(_configured_api(str(url)))
    else:
        checks.extend(_ephemeral_server(settings))
    checks.append(_telemetry(settings))
    return checks


# -- the parts -----------------------------------------------------------------------------------


def _installed() -> Check:
    version = version_of("prefect")
    if version is None:
        return _check(
            "installed",
            "fail",
            "Prefect is not installed",
            'pip install "graflow-core[prefect]" (it brings prefect>=3.7)',
        )
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    first, last = SUPPORTED
    supported = f"{first[0]}.{first[1]}-{last[0]}.{last[1]}"
    if numbers < first:
        return _check(
            "installed",
            "fail",
            f"prefect {version} is older than graflow-prefect supports ({supported})",
            'pip install --upgrade "prefect>=3.7"',
        )
    if numbers > last:
        return _check(
            "installed",
            "warn",
            f"prefect {version} is newer than graflow-prefect was tested with ({supported})",
            "if bridged flows misbehave, pin prefect<3.10 and report it",
        )
    return _check("installed", "ok", f"prefect {version} (graflow-prefect supports {supported})")


def _home(home: Path) -> Check:
    problem = writable_problem(home)
    if problem is not None:
        return _check(
            "PREFECT_HOME",
            "fail",
            problem,
            "set PREFECT_HOME to a directory you can write (Prefect keeps its profiles, its "
            "local database and results there)",
        )
    state = "writable" if home.is_dir() else "does not exist yet; Prefect will create it"
    return _check("PREFECT_HOME", "ok", f"{home} ({state})")


def _configured_api(url: str) -> Check:
    health = url.rstrip("/") + "/health"
    problem = url_problem(health, timeout=HEALTH_TIMEOUT)
    if problem is not None:
        return _check(
            "API",
            "fail",
            f"PREFECT_API_URL={url}: {problem}",
            "start the server (`prefect server start`), correct PREFECT_API_URL (`prefect "
            "config view`), or unset it to run against a temporary local server",
        )
    return _check("API", "ok", f"PREFECT_API_URL={url} answers ({health})")


def _ephemeral_server(settings: Any) -> list[Check]:
    ephemeral = settings.server.ephemeral
    if not ephemeral.enabled:
        return [
            _check(
                "API",
                "fail",
                "PREFECT_API_URL is not set and Prefect's temporary local server is disabled "
                "(PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=false): flows cannot run",
                "set PREFECT_API_URL to a running server (`prefect server start`) or "
                "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=true",
            )
        ]
    checks = [
        _check(
            "API",
            "info",
            "PREFECT_API_URL is not set: runs start Prefect's temporary local server on "
            "127.0.0.1 (once per process, 10-30 s)",
            "for a lasting server with a UI: `prefect server start` and set PREFECT_API_URL",
        ),
        _database(settings.server.database.connection_url.get_secret_value()),
    ]
    timeout = ephemeral.startup_timeout_seconds
    if timeout < SLOW_START_SECONDS:
        checks.append(
            _check(
                "server start-up timeout",
                "info",
                f"{timeout} s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS): the temporary "
                f"server may need longer on a small machine; run_on('prefect') waits "
                f"{max(timeout, 120)} s, plain flow calls {timeout} s",
                "export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=120",
            )
        )
    return checks


def _database(connection_url: str) -> Check:
    name = "server database"
    if not connection_url.startswith("sqlite"):
        scheme = connection_url.split(":", 1)[0]
        return _check(name, "info", f"{scheme} database (not checked here)")
    from sqlalchemy.engine import make_url

    database = make_url(connection_url).database or ""
    if database in ("", ":memory:"):
        return _check(name, "info", "in-memory SQLite: nothing is kept between processes")
    path = Path(database).expanduser()
    problem = writable_problem(path.parent)
    if problem is None and path.exists() and not os.access(path, os.R_OK | os.W_OK):
        problem = f"{path} exists but cannot be read and written"
    if problem is not None:
        return _check(
            name,
            "fail",
            f"the temporary server's SQLite database {path}: {problem}",
            "make its directory writable, or point PREFECT_HOME (or "
            "PREFECT_SERVER_DATABASE_CONNECTION_URL) somewhere writable",
        )
    state = "exists" if path.exists() else "will be created"
    return _check(name, "ok", f"SQLite {path} ({state}, writable)")


def _telemetry(settings: Any) -> Check:
    server = "on" if settings.server.analytics_enabled else "off"
    do_not_track = os.environ.get("DO_NOT_TRACK", "").lower() in ("1", "true", "yes")
    sdk = "off (DO_NOT_TRACK)" if do_not_track else "on unless in CI"
    fix = ""
    if server == "on" or not do_not_track:
        fix = "to keep Prefect offline: PREFECT_SERVER_ANALYTICS_ENABLED=false and DO_NOT_TRACK=1"
    return _check("telemetry", "info", f"server analytics {server}; SDK telemetry {sdk}", fix)


__all__ = ["diagnose"]
