"""The migration report shared by the Prefect and the Airflow front end.

Every construct a converter could not translate exactly becomes a :class:`Finding`: where it is
(``file:line``), what it is (``construct``), why it was not converted (``reason``), what to do
(``suggestion``) and how bad it is (``severity``):

* ``"todo"``: not converted; the original code stays in place under a
  ``# TODO(graflow-migrate): <reason>`` comment and must be finished by hand.
* ``"lossy"``: converted, but the graflow code behaves slightly differently (an approximated
  retry schedule, a dropped option with run-time meaning).
* ``"info"``: converted; worth knowing (an option without a graflow counterpart that changes
  nothing about results, a structural choice the converter made).

:meth:`MigrationReport.to_text` gives the human-readable form, :meth:`MigrationReport.to_dict`
the JSON form (schema: ``docs/migration-prefect.md``, :data:`JSON_SCHEMA`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["JSON_SCHEMA", "SEVERITIES", "Finding", "MigrationReport"]

#: The severities, from the most to the least urgent.
SEVERITIES = ("todo", "lossy", "info")

#: Version of the JSON report format (bumped on incompatible changes).
REPORT_VERSION = 1

#: JSON schema of :meth:`MigrationReport.to_dict` (draft 2020-12).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "graflow-migrate report",
    "type": "object",
    "required": ["version", "tool", "source", "output", "frontend", "summary", "findings"],
    "properties": {
        "version": {"const": REPORT_VERSION},
        "tool": {"const": "graflow-migrate"},
        "frontend": {"enum": ["prefect", "airflow"]},
        "source": {"type": "string"},
        "output": {"type": ["string", "null"]},
        "summary": {
            "type": "object",
            "required": ["todo", "lossy", "info", "converted"],
            "properties": {
                "todo": {"type": "integer"},
                "lossy": {"type": "integer"},
                "info": {"type": "integer"},
                "converted": {
                    "type": "object",
                    "description": "how many constructs of each kind were converted",
                    "additionalProperties": {"type": "integer"},
                },
            },
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["file", "line", "construct", "severity", "reason", "suggestion"],
                "properties": {
                    "file": {"type": "string"},
                    "line": {"type": "integer", "minimum": 0},
                    "construct": {"type": "string"},
                    "severity": {"enum": list(SEVERITIES)},
                    "reason": {"type": "string"},
                    "suggestion": {"type": "string"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Finding:
    """One construct that was not converted exactly.

    Attributes:
        file: the source file as given on the command line.
        line: 1-based line of the construct in the source file.
        construct: short code-like name of the construct (``"@task(cache_key_fn=...)"``).
        severity: ``"todo"``, ``"lossy"`` or ``"info"`` (see the module docstring).
        reason: why it was not converted exactly (one sentence).
        suggestion: what to do about it (one sentence).
    """

    file: str
    line: int
    construct: str
    severity: str
    reason: str
    suggestion: str

    def location(self) -> str:
        """``file:line``."""
        return f"{self.file}:{self.line}"


@dataclass
class MigrationReport:
    """Everything one conversion found, plus counters of what it converted."""

    source: str
    frontend: str
    output: str | None = None
    findings: list[Finding] = field(default_factory=list)
    converted: dict[str, int] = field(default_factory=dict)

    def add(
        self, line: int, construct: str, severity: str, reason: str, suggestion: str
    ) -> Finding:
        """Record a finding at ``line`` of the source file (``severity`` in :data:`SEVERITIES`)."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        finding = Finding(self.source, line, construct, severity, reason, suggestion)
        self.findings.append(finding)
        return finding

    def count(self, kind: str, n: int = 1) -> None:
        """Count ``n`` converted constructs of ``kind`` (``"task"``, ``"flow"``, ...)."""
        self.converted[kind] = self.converted.get(kind, 0) + n

    def sorted_findings(self) -> list[Finding]:
        """The findings by line, then severity."""
        return sorted(self.findings, key=lambda f: (f.line, SEVERITIES.index(f.severity)))

    def summary(self) -> dict[str, Any]:
        """``{"todo": n, "lossy": n, "info": n, "converted": {...}}``."""
        counts: dict[str, Any] = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        counts["converted"] = dict(sorted(self.converted.items()))
        return counts

    @property
    def todo_count(self) -> int:
        """How many constructs were left for a human."""
        return sum(1 for f in self.findings if f.severity == "todo")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see :data:`JSON_SCHEMA`)."""
        return {
            "version": REPORT_VERSION,
            "tool": "graflow-migrate",
            "frontend": self.frontend,
            "source": self.source,
            "output": self.output,
            "summary": self.summary(),
            "findings": [asdict(f) for f in self.sorted_findings()],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text (ends with a newline)."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_text(self) -> str:
        """The human-readable form: one block per finding, then a summary line."""
        lines = [f"graflow-migrate {self.frontend}: {self.source} -> {self.output or '-'}"]
        for f in self.sorted_findings():
            lines.append(f"{f.location()}: {f.severity}: {f.construct}: {f.reason}")
            lines.append(f"    fix: {f.suggestion}")
        summary = self.summary()
        converted = ", ".join(f"{n} {kind}" for kind, n in summary["converted"].items())
        lines.append(
            f"summary: {summary['todo']} todo, {summary['lossy']} lossy, {summary['info']} info"
            f"; converted: {converted or 'nothing'}"
        )
        return "\n".join(lines) + "\n"
