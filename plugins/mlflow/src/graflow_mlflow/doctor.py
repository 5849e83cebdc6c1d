"""``graflow doctor`` checks of graflow-mlflow: is tracking on, can the tracking store be used.

A local store (``sqlite:///…``, ``file:…`` or a path) must be writable; a tracking server
(``http(s)://…``) must answer within :data:`TIMEOUT` seconds. Nothing here imports MLflow.
"""

from __future__ import annotations

import os
from pathlib import Path

from graflow_core.diagnostics import Check, url_problem, writable_check, writable_problem
from graflow_core.plugins import env_flag
from graflow_mlflow import config

AREA = "mlflow"
#: Seconds to wait for a tracking server.
TIMEOUT = 2.0

_SET_URI = (
    f"set {config.TRACKING_URI_ENV} to a store you can write, e.g. "
    "sqlite:////absolute/path/mlflow.db, or to a running tracking server"
)


def diagnose() -> list[Check]:
    """The checks: tracking switched on or not, the tracking store, the artifact location."""
    checks = [_enabled_check(), _store_check(config.default_tracking_uri())]
    artifacts = os.environ.get(config.ARTIFACT_LOCATION_ENV, "").strip()
    if artifacts and "://" not in artifacts.removeprefix("file://"):
        checks.append(
            writable_check(
                AREA,
                "artifact location",
                artifacts.removeprefix("file://"),
                f"point {config.ARTIFACT_LOCATION_ENV} at a writable directory",
            )
        )
    return checks


def _enabled_check() -> Check:
    if env_flag(config.ENABLE_ENV):
        return Check(
            AREA, "tracking", "ok", f"{config.ENABLE_ENV}=1: every workflow run is tracked"
        )
    return Check(
        AREA,
        "tracking",
        "info",
        "off for plain runs (the mlflow task type and MlflowTracking still work)",
        f"set {config.ENABLE_ENV}=1 to track every workflow run of a process",
    )


def _store_check(uri: str) -> Check:
    name = "tracking store"
    if uri.startswith(("http://", "https://")):
        problem = url_problem(uri.rstrip("/") + "/health", TIMEOUT)
        if problem is None:
            return Check(AREA, name, "ok", f"{uri} answers")
        return Check(
            AREA, name, "fail", problem, f"start the tracking server (mlflow server) or {_SET_URI}"
        )
    path = config.local_store_path(uri)
    if path is None:
        return Check(AREA, name, "info", f"{uri}: not checked (not a local store or HTTP server)")
    if uri.startswith("sqlite:"):
        problem = _file_problem(path)
    else:
        problem = writable_problem(path)
        if problem is None and not env_flag("MLFLOW_ALLOW_FILE_STORE"):
            return Check(
                AREA,
                name,
                "warn",
                f"{uri} is a file store, which MLflow 3 refuses unless "
                "MLFLOW_ALLOW_FILE_STORE=true",
                f"use sqlite:///{Path(path).absolute()}.db, or set MLFLOW_ALLOW_FILE_STORE=true",
            )
    if problem is None:
        return Check(AREA, name, "ok", f"{uri} writable")
    return Check(AREA, name, "fail", f"{uri}: {problem}", _SET_URI)


def _file_problem(path: Path) -> str | None:
    """Why the SQLite file ``path`` cannot be written (or created), else ``None``."""
    if not path.exists():
        return writable_problem(path.parent)
    if not path.is_file():
        return f"{path} is not a file"
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    return None


__all__ = ["TIMEOUT", "diagnose"]
