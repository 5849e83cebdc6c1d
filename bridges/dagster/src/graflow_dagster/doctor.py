"""``graflow doctor`` checks for Dagster: :func:`diagnose` (the ``dagster`` target's diagnose).

What it looks at, in order (each a :class:`~graflow_core.diagnostics.Check` of area
``"dagster"``):

* **installed** — Dagster imports (its version against graflow's floor is the core's
  integration row of ``graflow doctor``);
* **DAGSTER_HOME** — unset (info: runs use an ephemeral in-memory instance, nothing is kept),
  or an absolute, existing, writable directory (a file is created and removed to find out);
* **dagster.yaml** — absent (info: Dagster's defaults, and a warning from Dagster) or YAML
  that Dagster's own instance schema accepts;
* **storage** — SQLite storage (the default, or ``storage: sqlite``): its directories writable
  and its existing database files readable; Postgres/MySQL: a TCP connection to the configured
  host with a 1 s timeout; custom storage classes are not checked;
* **telemetry** — whether Dagster's telemetry is on (info).

Nothing here starts a server, daemon or run, and nothing is created in ``DAGSTER_HOME`` (the
probe file is removed at once).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graflow_core.diagnostics import (
    Check,
    check_maker,
    connect_problem,
    install_fix,
    sqlite_problem,
    writable_problem,
)

AREA = "dagster"
#: Seconds to wait for a configured database server (Postgres/MySQL) to accept a connection.
CONNECT_TIMEOUT = 1.0
_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


_check = check_maker(AREA)


def diagnose() -> list[Check]:
    """Whether Dagster is installed and whether graflow can run workflows on it here."""
    checks: list[Check] = []
    if not _installed(checks):
        return checks
    home = _home(checks)
    config: Mapping[str, Any] | None = {}
    if home is not None:
        config = _config(checks, home)
        if config is not None:
            _storage(checks, home, config)
    _telemetry(checks, config or {})
    return checks


# -- the parts -----------------------------------------------------------------------------------


def _installed(checks: list[Check]) -> bool:
    """Whether Dagster imports (its version against graflow's floor is the core's
    ``integration_checks`` row, not repeated here)."""
    try:
        import dagster  # noqa: F401
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "dagster":
            detail = "Dagster is not installed"
        else:
            detail = f"Dagster does not import: {type(exc).__name__}: {exc}"
        checks.append(_check("installed", "fail", detail, install_fix(AREA)))
        return False
    except Exception as exc:
        checks.append(
            _check(
                "installed",
                "fail",
                f"Dagster does not import: {type(exc).__name__}: {exc}",
                "reinstall it: pip install --force-reinstall 'dagster>=1.13'",
            )
        )
        return False
    checks.append(_check("installed", "ok", "dagster imports"))
    return True


def _home(checks: list[Check]) -> Path | None:
    """The usable ``DAGSTER_HOME`` directory, or None (unset or broken: reported)."""
    raw = os.environ.get("DAGSTER_HOME")
    name = "DAGSTER_HOME"
    if not raw:
        checks.append(
            _check(
                name,
                "info",
                "not set: graflow runs on Dagster use an ephemeral in-memory instance (runs and "
                "their events are not kept)",
                "export DAGSTER_HOME=/an/absolute/dir to keep runs and see them in Dagster's UI",
            )
        )
        return None
    home = Path(os.path.expanduser(raw))
    problem, fix = "", ""
    if not home.is_absolute():
        problem, fix = "is not an absolute path", f"export DAGSTER_HOME={home.absolute()}"
    elif not home.exists():
        problem, fix = "does not exist", f"mkdir -p {home}"
    elif not home.is_dir():
        problem, fix = "is not a directory", "point DAGSTER_HOME to a directory"
    else:
        denied = writable_problem(home)
        if denied:
            checks.append(
                _check(
                    name,
                    "fail",
                    f"{denied}; Dagster keeps its runs in DAGSTER_HOME",
                    f"make {home} writable for this user, or point DAGSTER_HOME to a writable "
                    "directory",
                )
            )
            return home  # dagster.yaml may still be read
        checks.append(_check(name, "ok", f"{home} (writable)"))
        return home
    checks.append(
        _check(
            name,
            "fail",
            f"{home} {problem}: Dagster refuses to open the instance",
            f"{fix}, or unset DAGSTER_HOME to run on an ephemeral instance",
        )
    )
    return None


def _config(checks: list[Check], home: Path) -> Mapping[str, Any] | None:
    """The validated ``dagster.yaml`` (``{}`` when absent), or None when it is broken."""
    path = home / "dagster.yaml"
    if not path.exists():
        checks.append(
            _check(
                "dagster.yaml",
                "info",
                f"none in {home}: Dagster's defaults (SQLite storage in DAGSTER_HOME); Dagster "
                "logs a warning about the missing file each time it opens the instance",
                f"create an empty {path} to keep the defaults without the warning",
            )
        )
        return {}
    from graflow_dagster._compat import config_problems, instance_config

    try:
        config = instance_config(str(home))
    except Exception as exc:
        if type(exc).__module__.startswith("yaml"):  # PyYAML's parser and scanner errors
            detail = f"{path} is not valid YAML: " + " ".join(str(exc).split())
        else:
            detail = f"Dagster rejects {path}: " + "; ".join(config_problems(exc))
        checks.append(
            _check(
                "dagster.yaml",
                "fail",
                detail,
                f"fix {path} (see https://docs.dagster.io/deployment/oss/dagster-yaml) or "
                "remove it to use Dagster's defaults",
            )
        )
        return None
    checks.append(_check("dagster.yaml", "ok", f"{path} is valid"))
    return config


def _storage(checks: list[Check], home: Path, config: Mapping[str, Any]) -> None:
    kind, settings = _storage_kind(config)
    if kind == "sqlite":
        base = Path(_value(settings.get("base_dir")) or home)
        checks.append(_sqlite_check(base))
    elif kind in ("postgres", "mysql"):
        checks.append(_server_check(kind, settings))
    else:
        checks.append(
            _check(
                "storage",
                "info",
                f"custom storage ({kind}) is not checked",
                "check it with `dagster instance info`",
            )
        )


def _telemetry(checks: list[Check], config: Mapping[str, Any]) -> None:
    enabled = (config.get("telemetry") or {}).get("enabled", True)
    env_off = os.environ.get("DAGSTER_DISABLE_TELEMETRY") is not None
    ephemeral = not os.environ.get("DAGSTER_HOME")
    if ephemeral:
        detail = "off for ephemeral instances (no DAGSTER_HOME)"
    elif not enabled:
        detail = "off (telemetry: enabled: false in dagster.yaml)"
    elif env_off:
        detail = "on in dagster.yaml, but DAGSTER_DISABLE_TELEMETRY is set: nothing is uploaded"
    else:
        detail = (
            "on (Dagster's default): Dagster's CLI and UI log usage in DAGSTER_HOME/logs and "
            "upload it"
        )
    fix = "set `telemetry: {enabled: false}` in dagster.yaml"
    if ephemeral or not enabled or env_off:
        fix = ""
    checks.append(_check("telemetry", "info", detail, fix))


# -- helpers -------------------------------------------------------------------------------------


def _value(raw: Any) -> Any:
    """A dagster.yaml value with ``{env: NAME}`` resolved."""
    if isinstance(raw, Mapping) and set(raw) == {"env"}:
        return os.environ.get(str(raw["env"]))
    return raw


def _storage_kind(config: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """``("sqlite"|"postgres"|"mysql"|<class>, settings)`` of the run storage."""
    storage = config.get("storage")
    if isinstance(storage, Mapping) and storage:
        kind, settings = next(iter(storage.items()))
        return str(kind), settings or {}
    legacy = config.get("run_storage")
    if isinstance(legacy, Mapping):
        cls = str(legacy.get("class", ""))
        settings = legacy.get("config") or {}
        for kind in ("sqlite", "postgres", "mysql"):
            if cls.lower().startswith(kind):
                return kind, settings
        return f"{legacy.get('module')}.{cls}", settings
    return "sqlite", {}


def _sqlite_files(base: Path) -> Iterator[Path]:
    for rel in ("history/runs.db", "schedules/schedules.db"):
        if (base / rel).is_file():
            yield base / rel


def _sqlite_check(base: Path) -> Check:
    found = (writable_problem(base / sub) for sub in ("history", "schedules", "storage"))
    problems = list(dict.fromkeys(p for p in found if p))
    files = list(_sqlite_files(base))
    for db in files:
        problem = sqlite_problem(db, timeout=CONNECT_TIMEOUT)
        if problem and problem not in problems:
            problems.append(problem)
    if problems:
        return _check(
            "storage",
            "fail",
            "SQLite storage in " + str(base) + ": " + "; ".join(problems),
            "make the storage directories writable (or remove broken database files), or "
            "configure another storage in dagster.yaml",
        )
    state = f"{len(files)} database file(s) readable" if files else "created on the first run"
    return _check("storage", "ok", f"SQLite storage in {base}: writable, {state}")


def _server_check(kind: str, settings: Mapping[str, Any]) -> Check:
    url = _value(settings.get(f"{kind}_url"))
    if url:
        parts = urlsplit(str(url))
        host, port = parts.hostname or "localhost", parts.port
    else:
        db = settings.get(f"{kind}_db") or {}
        host = str(_value(db.get("hostname")) or "localhost")
        port = _value(db.get("port"))
    port = int(port or _DEFAULT_PORTS[kind])
    problem = connect_problem(host, port, timeout=CONNECT_TIMEOUT)
    if problem is not None:
        return _check(
            "storage",
            "fail",
            f"{kind} storage at {problem}",
            f"start the {kind} server, or fix the storage settings in dagster.yaml",
        )
    return _check("storage", "ok", f"{kind} storage at {host}:{port} accepts connections")


__all__ = ["diagnose"]
