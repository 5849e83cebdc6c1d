"""``graflow doctor`` checks for Prefect: :func:`diagnose` (the ``prefect`` target's diagnose).

What it looks at, in order (each a :class:`~graflow_core.diagnostics.Check` of area
``"prefect"``):

* **installed** — whether Prefect imports; a warning when it is newer than graflow-prefect was
  tested with (its version against the floor is the core's integration row);
* **profile** — the active Prefect profile and where profiles are kept (info);
* **PREFECT_HOME** — an existing writable directory, or one that can be created;
* **API** — with ``PREFECT_API_URL`` set: does ``<url>/health`` answer within 2 s. Without it:
  may Prefect start its temporary local server (``PREFECT_SERVER_ALLOW_EPHEMERAL_MODE``) and
  can that server's SQLite database be written; its start-up timeout (Prefect's default of
  20 s is often too short on 2 cores; ``run_on("prefect")`` waits at least
  ``graflow_prefect.local.EPHEMERAL_STARTUP_TIMEOUT`` s);
* **telemetry** — Prefect's server analytics and SDK telemetry settings (info).

Nothing here starts a server or a flow run; the only network access is the GET of a configured
API's health endpoint; nothing is written (a probe file is created and removed at once; an
existing SQLite database is opened read-only).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from graflow_core.diagnostics import (
    Check,
    check_maker,
    install_fix,
    sqlite_problem,
    writable_problem,
)
from graflow_prefect.local import (
    CONFIGURED_API_FIX,
    EPHEMERAL_STARTUP_TIMEOUT,
    configured_api_problem,
)

AREA = "prefect"
#: Start-up timeout below which the temporary server often fails to start on small machines.
SLOW_START_SECONDS = 60

_check = check_maker(AREA)


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
    """Whether Prefect imports, and a warning when it is newer than graflow-prefect was tested
    with (its version against graflow's floor is the core's ``integration_checks`` row)."""
    try:
        from graflow_prefect._compat import PREFECT_VERSION, SUPPORTED
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "prefect":
            return _check("installed", "fail", "Prefect is not installed", install_fix(AREA))
        return _check(
            "installed",
            "fail",
            f"Prefect does not import: {type(exc).__name__}: {exc}",
            'reinstall it: pip install --force-reinstall "prefect>=3.7"',
        )
    except Exception as exc:
        return _check(
            "installed",
            "fail",
            f"Prefect does not import: {type(exc).__name__}: {exc}",
            'reinstall it: pip install --force-reinstall "prefect>=3.7"',
        )
    numbers = tuple(int(n) for n in re.findall(r"\d+", PREFECT_VERSION)[:2])
    first, last = SUPPORTED
    if numbers > last:
        return _check(
            "installed",
            "warn",
            f"prefect {PREFECT_VERSION} is newer than graflow-prefect was tested with "
            f"({first[0]}.{first[1]}-{last[0]}.{last[1]})",
            f"if bridged flows misbehave, pin prefect<{last[0]}.{last[1] + 1} and report it",
        )
    return _check("installed", "ok", "prefect imports")


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
    problem = configured_api_problem(url)
    if problem is not None:
        return _check("API", "fail", problem, CONFIGURED_API_FIX)
    return _check("API", "ok", f"PREFECT_API_URL={url} answers ({url.rstrip('/')}/health)")


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
                f"{max(timeout, EPHEMERAL_STARTUP_TIMEOUT)} s, plain flow calls {timeout} s",
                "export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="
                f"{EPHEMERAL_STARTUP_TIMEOUT}",
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
    problem = sqlite_problem(path)
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
