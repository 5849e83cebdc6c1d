"""Health checks: named functions aggregated into healthy / degraded / unhealthy.

A check is a function of no arguments returning one of:

* ``True`` / ``False`` (passed / failed);
* ``(ok, detail)`` — a bool and a short string shown in the report;
* ``"healthy"``, ``"degraded"`` or ``"unhealthy"`` (or a :class:`HealthStatus`), optionally as
  ``(status, detail)``.

A check that raises counts as failed (the error becomes its detail). A failed **critical** check
makes the whole report ``unhealthy``; a failed non-critical check (or any check reporting
``degraded``) makes it ``degraded``. ``/health`` answers HTTP 200 for healthy and degraded,
503 for unhealthy.
"""

from __future__ import annotations

import enum
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graflow_core.exceptions import ConfigError


class HealthStatus(str, enum.Enum):
    """The state of one check or of the whole report."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class HealthCheck:
    """A registered check."""

    name: str
    fn: Callable[[], Any]
    critical: bool = True


_lock = threading.Lock()
_checks: dict[str, HealthCheck] = {}


def register_health_check(
    name: str, fn: Callable[[], Any], *, critical: bool = True, replace: bool = True
) -> HealthCheck:
    """Add a check to ``/health`` (and :func:`health_report`).

    Args:
        name: shown in the report; registering the same name again replaces the check
            (``replace=False`` raises ``ConfigError`` instead).
        fn: the check (see the module docstring for what it may return).
        critical: a failure makes the service ``unhealthy`` (HTTP 503) instead of ``degraded``.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"register_health_check(): name must be a non-empty string, got {name!r}")
    if not callable(fn):
        raise ConfigError(f"register_health_check('{name}'): fn must be callable, got {fn!r}")
    check = HealthCheck(name, fn, bool(critical))
    with _lock:
        if not replace and name in _checks:
            raise ConfigError(
                f"Health check '{name}' is already registered; pass replace=True or "
                "unregister_health_check() it first."
            )
        _checks[name] = check
    return check


def unregister_health_check(name: str) -> None:
    """Remove a check (no error if absent)."""
    with _lock:
        _checks.pop(name, None)


def registered_health_checks() -> dict[str, HealthCheck]:
    """The registered checks by name."""
    with _lock:
        return dict(_checks)


def _run_check(check: HealthCheck) -> dict[str, Any]:
    started = time.perf_counter()
    detail: str | None = None
    try:
        value = check.fn()
        if isinstance(value, tuple) and len(value) == 2:
            value, detail = value[0], None if value[1] is None else str(value[1])
        if isinstance(value, HealthStatus):
            status = value
        elif isinstance(value, str):
            try:
                status = HealthStatus(value.lower())
            except ValueError:
                status = HealthStatus.UNHEALTHY
                detail = f"check returned unknown status {value!r}"
        elif value is None or value is True:
            status = HealthStatus.HEALTHY
        elif value is False:
            status = HealthStatus.UNHEALTHY
        else:
            status = HealthStatus.HEALTHY if value else HealthStatus.UNHEALTHY
    except Exception as exc:
        status = HealthStatus.UNHEALTHY
        detail = f"{type(exc).__name__}: {exc}"
    # A failing non-critical check only degrades the service.
    effect = status
    if status is HealthStatus.UNHEALTHY and not check.critical:
        effect = HealthStatus.DEGRADED
    result: dict[str, Any] = {
        "status": status.value,
        "critical": check.critical,
        "effect": effect.value,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
    }
    if detail is not None:
        result["detail"] = detail
    return result


def health_report(checks: dict[str, HealthCheck] | None = None) -> dict[str, Any]:
    """Run the checks; returns ``{"status": ..., "checks": {name: {...}}, "timestamp": ...}``.

    With no check registered the status is ``healthy``.
    """
    selected = registered_health_checks() if checks is None else checks
    results = {name: _run_check(check) for name, check in sorted(selected.items())}
    effects = {r["effect"] for r in results.values()}
    if HealthStatus.UNHEALTHY.value in effects:
        overall = HealthStatus.UNHEALTHY
    elif HealthStatus.DEGRADED.value in effects:
        overall = HealthStatus.DEGRADED
    else:
        overall = HealthStatus.HEALTHY
    return {"status": overall.value, "timestamp": time.time(), "checks": results}


# -- built-in checks ------------------------------------------------------------------------------


def checkpoint_dir_check(path: str | os.PathLike[str]) -> Callable[[], tuple[bool, str]]:
    """A check that ``path`` exists (or can be created) and a file can be written in it."""
    directory = os.fspath(path)

    def check() -> tuple[bool, str]:
        try:
            os.makedirs(directory, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".graflow-health-", dir=directory)
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            return False, f"{directory} is not writable: {exc.strerror or exc}"
        return True, f"{directory} is writable"

    return check


class FailureWindow:
    """The outcomes (True = success) of the last ``size`` tasks that finished for good.

    ``before_read`` is called before :meth:`rate` reads them (the metrics fold their pending
    observations there).
    """

    def __init__(self, size: int = 100, *, before_read: Callable[[], None] | None = None) -> None:
        from collections import deque

        if not isinstance(size, int) or size < 1:
            raise ConfigError(f"failure window size must be an int >= 1, got {size!r}")
        self.outcomes: deque[bool] = deque(maxlen=size)
        self._before_read = before_read

    def rate(self) -> tuple[float, int]:
        """(failure rate, number of outcomes) over the window."""
        if self._before_read is not None:
            self._before_read()
        snapshot = list(self.outcomes)
        if not snapshot:
            return 0.0, 0
        return snapshot.count(False) / len(snapshot), len(snapshot)


def failure_rate_check(
    window: FailureWindow,
    *,
    degraded_above: float = 0.1,
    unhealthy_above: float = 0.5,
    min_tasks: int = 10,
) -> Callable[[], tuple[HealthStatus, str]]:
    """A check on the share of recently finished tasks that failed for good.

    ``degraded`` above ``degraded_above``, ``unhealthy`` above ``unhealthy_above``; with fewer
    than ``min_tasks`` outcomes the check is ``healthy`` (not enough data).
    """
    if not 0 <= degraded_above <= unhealthy_above <= 1:
        raise ConfigError(
            "failure_rate_check(): need 0 <= degraded_above <= unhealthy_above <= 1, got "
            f"{degraded_above!r} and {unhealthy_above!r}"
        )

    def check() -> tuple[HealthStatus, str]:
        rate, count = window.rate()
        detail = f"{rate:.1%} of the last {count} tasks failed"
        if count < min_tasks:
            return HealthStatus.HEALTHY, detail + f" (fewer than {min_tasks}: not judged)"
        if rate > unhealthy_above:
            return HealthStatus.UNHEALTHY, detail
        if rate > degraded_above:
            return HealthStatus.DEGRADED, detail
        return HealthStatus.HEALTHY, detail

    return check
