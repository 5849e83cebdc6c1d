"""Environment checks: what ``graflow doctor`` reports.

A :class:`Check` is one finding — an integration installed or missing, an orchestrator's
database reachable, a home directory writable. Bridges contribute theirs through
``Bridge.diagnose()``; plugins through the ``diagnose`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Check statuses, best first.
STATUSES = ("ok", "info", "warn", "fail")


@dataclass(frozen=True)
class Check:
    """One finding: ``area`` (e.g. ``"airflow"``), ``name`` (what was checked), ``status``
    (one of :data:`STATUSES`), ``detail`` (what was found) and ``fix`` (what to do, when the
    status is not ``ok``)."""

    area: str
    name: str
    status: str
    detail: str = ""
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            from graflow_core.exceptions import ConfigError

            raise ConfigError(f"Unknown check status {self.status!r}; use one of {STATUSES}")

    @property
    def failed(self) -> bool:
        """True for ``fail``."""
        return self.status == "fail"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {
            "area": self.area,
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "fix": self.fix,
        }


__all__ = ["STATUSES", "Check"]
