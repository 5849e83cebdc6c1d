"""Preflight: what a target cannot express in a workflow, and what its bridge does instead.

``preflight(spec, "airflow")`` lists every feature the workflow uses (:func:`feature_uses`)
that the target does not support natively, as machine-readable :class:`Finding` objects in a
:class:`PreflightReport` — before anything is exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graflow_core.core.graph import strongly_connected_components
from graflow_core.spec.capabilities import (
    EMULATED,
    ERROR,
    FEATURES,
    HOSTED,
    IGNORED,
    SEVERITY,
    Capabilities,
)
from graflow_core.spec.errors import PreflightError
from graflow_core.spec.model import GroupDef, RetryDef, TaskDef, WorkflowSpec
from graflow_core.spec.targets import Bridge, get_target


@dataclass(frozen=True)
class FeatureUse:
    """One use of ``feature`` by ``subject`` (of ``kind`` task, group, node or workflow)."""

    feature: str
    kind: str
    subject: str | None
    detail: str = ""


@dataclass(frozen=True)
class Finding:
    """A feature the target does not support natively, where it is used, and what happens.

    ``level`` is the target's support level (``emulated``, ``hosted``, ``ignored``, ``error``:
    what happens instead), ``severity`` is ``info``/``warning``/``error``.
    """

    feature: str
    kind: str
    subject: str | None
    severity: str
    level: str
    message: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "feature": self.feature,
            "kind": self.kind,
            "subject": self.subject,
            "severity": self.severity,
            "level": self.level,
            "message": self.message,
            "note": self.note,
        }


@dataclass
class PreflightReport:
    """The findings of :func:`preflight` for one workflow and one target."""

    target: str
    workflow: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing prevents the export (no finding of severity ``error``)."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        """Findings of severity ``error``."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings of severity ``warning``."""
        return [f for f in self.findings if f.severity == "warning"]

    def for_subject(self, subject: str) -> list[Finding]:
        """Findings about task or group ``subject``."""
        return [f for f in self.findings if f.subject == subject]

    def to_dict(self) -> dict[str, Any]:
        """``{"target", "workflow", "ok", "findings": [...]}``."""
        return {
            "target": self.target,
            "workflow": self.workflow,
            "ok": self.ok,
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The report as JSON."""
        return json.dumps(self.to_dict(), indent=indent)

    def raise_for_errors(self) -> None:
        """Raise :class:`PreflightError` listing the ``error`` findings, if any."""
        if not self.ok:
            raise PreflightError(self)

    def __str__(self) -> str:
        head = f"Preflight of workflow '{self.workflow}' for target '{self.target}': "
        if not self.findings:
            return head + "everything is supported natively."
        lines = [f"  [{f.severity}] {f.message}" for f in self.findings]
        return head + f"{len(self.findings)} finding(s)\n" + "\n".join(lines)


def _retry_uses(retry: RetryDef | None, max_retries: int | None) -> Iterator[tuple[str, str]]:
    if retry is not None:
        n = retry.max_retries
        if n <= 0:
            return
        yield "retries", f"max_retries={n}"
        if retry.initial_interval > 0:
            yield "retry_delay", f"initial_interval={retry.initial_interval}"
        if retry.backoff_factor != 1 and n > 1:
            yield "retry_backoff", f"backoff_factor={retry.backoff_factor}"
        if retry.jitter:
            yield "retry_jitter", "jitter=True"
    elif max_retries:
        yield "retries", f"max_retries={max_retries}"


def _task_uses(t: TaskDef) -> Iterator[tuple[str, str]]:
    yield from _retry_uses(t.retry_policy, t.max_retries)
    if t.timeout is not None:
        yield "timeouts", f"timeout={t.timeout}s"
    if t.circuit_breaker is not None:
        yield "circuit_breakers", f"circuit_breaker={t.circuit_breaker!r}"
    if t.max_cycles is not None:
        yield "max_cycles", f"max_cycles={t.max_cycles}"
    if t.task_type is not None:
        yield f"task_type.{t.task_type}", f"type={t.task_type!r}"
    if t.handler_type != "direct":
        yield "custom_handlers", f"handler={t.handler_type!r}"
    if t.bound_kwargs:
        yield "bound_kwargs", ", ".join(sorted(t.bound_kwargs))
    if t.inject_context:
        yield "inject_context", ""
    if t.inject_llm_client:
        yield "llm_client", ""
    if t.inject_llm_agent:
        yield "llm_agent", repr(t.inject_llm_agent)
    for feature in t.features:
        yield feature, "found in the task's code"


def _group_uses(g: GroupDef, group_ids: set[str]) -> Iterator[tuple[str, str]]:
    yield "parallel_groups", f"members {', '.join(g.members)}"
    nested = [m for m in g.members if m in group_ids]
    if nested:
        yield "nested_groups", f"member group(s) {', '.join(nested)}"
    yield f"group_policy.{g.policy.kind}", json.dumps(g.policy.params) if g.policy.params else ""
    if g.backend is not None:
        yield f"group_backend.{g.backend}", ""


def _cycles(spec: WorkflowSpec) -> list[list[str]]:
    """Strongly connected components with a cycle, in completion order, each in node order."""
    succ: dict[str, list[str]] = {n: [] for n in spec.nodes}
    for u, v in spec.edges:
        succ.setdefault(u, []).append(v)
        succ.setdefault(v, [])
    component = strongly_connected_components(succ, succ)
    members: dict[int, list[str]] = {}
    for node in succ:
        members.setdefault(component[node], []).append(node)
    return [m for _, m in sorted(members.items()) if len(m) > 1 or m[0] in succ[m[0]]]


def feature_uses(spec: WorkflowSpec) -> list[FeatureUse]:
    """Every use of a feature in ``spec`` (what preflight checks against a target)."""
    uses: list[FeatureUse] = []
    if spec.edges:
        uses.append(FeatureUse("static_edges", "workflow", None, f"{len(spec.edges)} edge(s)"))
    for component in _cycles(spec):
        uses.append(FeatureUse("cycles", "node", component[0], " -> ".join(component)))
    for feature, detail in _retry_uses(spec.retry_policy, None):
        uses.append(FeatureUse(feature, "workflow", None, f"workflow default {detail}"))
    group_ids = {g.id for g in spec.groups}
    for g in spec.groups:
        uses.extend(FeatureUse(f, "group", g.id, d) for f, d in _group_uses(g, group_ids))
    for t in spec.tasks:
        uses.extend(FeatureUse(f, "task", t.id, d) for f, d in _task_uses(t))
    return uses


_WHAT_HAPPENS = {
    EMULATED: "{target} emulates it",
    HOSTED: "{target} runs it inside one native task that hosts the graflow engine",
    IGNORED: "{target} ignores it",
    ERROR: "{target} cannot express it",
}


def _capabilities(target: str | Capabilities | Bridge) -> Capabilities:
    if isinstance(target, Capabilities):
        return target
    if isinstance(target, Bridge):
        return target.capabilities
    return get_target(target).capabilities


def _as_spec(spec: Any) -> WorkflowSpec:
    if isinstance(spec, WorkflowSpec):
        return spec
    if isinstance(spec, (str, bytes)):
        return WorkflowSpec.from_json(spec)
    if isinstance(spec, Mapping):
        return WorkflowSpec.from_dict(spec)
    from graflow_core.spec.build import build_spec

    return build_spec(spec)


def preflight(spec: Any, target: str | Capabilities | Bridge) -> PreflightReport:
    """Check ``spec`` against ``target``; returns a :class:`PreflightReport`.

    Args:
        spec: a :class:`WorkflowSpec` (or its dict / JSON), or a workflow to build one from.
        target: a target name (``"graflow"``, ``"airflow"`` ...), a :class:`Bridge` or
            :class:`Capabilities`.

    Raises:
        UnknownTargetError: no installed bridge provides ``target`` (the message says which
            distribution to install).
    """
    caps = _capabilities(target)
    spec = _as_spec(spec)
    findings: list[Finding] = []
    if not spec.tasks:  # nothing to run: every engine and bridge refuses it
        findings.append(
            Finding(
                feature="tasks",
                kind="workflow",
                subject=None,
                severity="error",
                level="error",
                message=f"workflow '{spec.name}' has no tasks -> nothing can run on "
                f"{caps.target}; define tasks inside `with workflow(...)`",
            )
        )
    for use in feature_uses(spec):
        support = caps.support(use.feature)
        severity = SEVERITY[support.level]
        if severity is None:
            continue
        family = use.feature.split(".", 1)[0]
        description = FEATURES.get(use.feature) or FEATURES.get(family, use.feature)
        where = "workflow" if use.subject is None else f"{use.kind} '{use.subject}'"
        detail = f" [{use.detail}]" if use.detail else ""
        message = (
            f"{where} uses {use.feature}: {description}{detail} -> "
            + _WHAT_HAPPENS[support.level].format(target=caps.target)
            + (f" ({support.note})" if support.note else "")
        )
        findings.append(
            Finding(
                feature=use.feature,
                kind=use.kind,
                subject=use.subject,
                severity=severity,
                level=support.level,
                message=message,
                note=support.note,
            )
        )
    return PreflightReport(caps.target, spec.name, findings)
