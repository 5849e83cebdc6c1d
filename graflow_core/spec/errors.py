"""Errors of the workflow spec: what cannot be described, loaded or exported, and how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graflow_core.exceptions import ConfigError, GraphCompilationError, WorkflowDefinitionError

if TYPE_CHECKING:
    from graflow_core.spec.preflight_check import PreflightReport


class SpecProblem:
    """One reason a workflow cannot be turned into a spec (or a spec into a workflow).

    ``subject`` is the id concerned (``None`` for the whole workflow), ``kind`` says what it is
    (``"task"``, ``"group"``, ``"node"``), ``reason`` what is wrong and ``fix`` what to do.
    """

    __slots__ = ("fix", "kind", "reason", "subject")

    def __init__(self, subject: str | None, reason: str, fix: str, kind: str = "task") -> None:
        self.subject = subject
        self.reason = reason
        self.fix = fix
        self.kind = kind if subject is not None else "workflow"

    def __str__(self) -> str:
        where = "workflow" if self.subject is None else f"{self.kind} '{self.subject}'"
        return f"{where}: {self.reason}. Fix: {self.fix}"

    def __repr__(self) -> str:
        return f"SpecProblem({self.subject!r}, {self.reason!r}, {self.fix!r}, {self.kind!r})"

    def _key(self) -> tuple[str | None, str, str, str]:
        return (self.subject, self.reason, self.fix, self.kind)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpecProblem):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def to_dict(self) -> dict[str, str | None]:
        """``{"subject": ..., "kind": ..., "reason": ..., "fix": ...}``."""
        return {"subject": self.subject, "kind": self.kind, "reason": self.reason, "fix": self.fix}


class SpecError(WorkflowDefinitionError):
    """A workflow cannot be described as a spec, or a spec cannot be loaded.

    ``problems`` lists *every* offending task or group (a :class:`SpecProblem` each: id,
    reason, fix), so one run reports all of them.
    """

    def __init__(self, problems: list[SpecProblem], what: str = "workflow") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(f"Cannot describe {what} as a spec: {count} problem(s):\n{lines}")


class SpecLoadError(SpecError):
    """A spec is malformed or names callables that cannot be imported here."""

    def __init__(self, problems: list[SpecProblem], what: str = "spec") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        WorkflowDefinitionError.__init__(
            self, f"Cannot load {what}: {len(self.problems)} problem(s):\n{lines}"
        )


class UnknownTargetError(ConfigError, LookupError):
    """``preflight()`` / ``get_target()`` was given a target name no installed bridge provides."""


class PreflightError(GraphCompilationError):
    """A workflow uses features its target cannot express (``report`` has the findings)."""

    def __init__(self, report: PreflightReport) -> None:
        self.report = report
        lines = "\n".join(f"  - {f.message}" for f in report.errors)
        super().__init__(
            f"Workflow '{report.workflow}' cannot be exported to '{report.target}': "
            f"{len(report.errors)} unsupported feature(s):\n{lines}"
        )
