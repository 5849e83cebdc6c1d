"""The spec types: a plain, JSON-serialisable description of a workflow.

A :class:`WorkflowSpec` holds the workflow's name and version, its graph nodes and static edges,
one :class:`TaskDef` per task (graph nodes and parallel-group members alike), one
:class:`GroupDef` per parallel group, and the workflow's default retry policy. Everything is
plain data: ``spec.to_dict()`` is JSON-ready, ``WorkflowSpec.from_dict(d)`` reads it back and
``from_dict(to_dict(s)) == s`` for every spec. ``docs/spec.md`` describes the format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graflow_core.spec.errors import SpecLoadError, SpecProblem
from graflow_core.spec.jsonvalues import NotJSONError, json_copy

#: Version of the spec format written by this graflow-core. Readers accept this version and
#: older ones; a newer version is refused with "upgrade graflow-core".
SCHEMA_VERSION = 1

#: ``TaskDef.kind``: a function task (``@task``/``TaskWrapper``) or a no-op ``Task``.
TASK_KINDS = ("function", "placeholder")

#: ``PolicyDef.kind`` values (``custom``: a GroupExecutionPolicy subclass by reference).
POLICY_KINDS = ("strict", "best_effort", "critical", "at_least_n", "custom")


@dataclass
class RetryDef:
    """A :class:`~graflow_core.core.retry.RetryPolicy`, field by field."""

    max_retries: int = 0
    initial_interval: float = 1.0
    backoff_factor: float = 2.0
    max_interval: float = 60.0
    jitter: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "max_retries": self.max_retries,
            "initial_interval": self.initial_interval,
            "backoff_factor": self.backoff_factor,
            "max_interval": self.max_interval,
            "jitter": self.jitter,
        }


@dataclass
class PolicyDef:
    """A parallel group's execution policy.

    ``kind`` is one of :data:`POLICY_KINDS`; ``params`` holds the kind's parameters:
    ``{"critical_task_ids": [...]}`` for ``critical``, ``{"min_success": n}`` for
    ``at_least_n``, ``{"ref": "module:qualname", "state": {...} | None}`` for ``custom``
    (``ref`` names a module-level policy instance when ``state`` is ``None``, else the policy
    class, restored like pickle does: ``__dict__`` set to ``state`` without calling
    ``__init__``).
    """

    kind: str = "strict"
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"kind": ..., **params}``."""
        return {"kind": self.kind, **self.params}


@dataclass
class TaskDef:
    """One task: how to import its callable and every option it was created with."""

    id: str
    kind: str = "function"
    #: ``"module:qualname"`` of the function, or of the module-level ``TaskWrapper`` wrapping it
    #: (``None`` for placeholders).
    ref: str | None = None
    #: The function's parameter names, in order (an injected context parameter included).
    parameters: list[str] = field(default_factory=list)
    #: Keyword arguments bound at instance creation (``fetch(task_id="x", city="Tokyo")``).
    bound_kwargs: dict[str, Any] = field(default_factory=dict)
    inject_context: bool = False
    inject_llm_client: bool = False
    inject_llm_agent: str | None = None
    resolve_keyword_args: bool = True
    max_cycles: int | None = None
    max_retries: int | None = None
    retry_policy: RetryDef | None = None
    #: Seconds, or ``None`` for no timeout.
    timeout: float | None = None
    handler_type: str = "direct"
    task_type: str | None = None
    type_options: dict[str, Any] = field(default_factory=dict)
    #: Name of a registered circuit breaker, or ``None``.
    circuit_breaker: str | None = None
    #: Dynamic features the function may use (see :mod:`graflow_core.spec.features`), sorted.
    features: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (every field, always present)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "ref": self.ref,
            "parameters": list(self.parameters),
            "bound_kwargs": json_copy(self.bound_kwargs),
            "inject_context": self.inject_context,
            "inject_llm_client": self.inject_llm_client,
            "inject_llm_agent": self.inject_llm_agent,
            "resolve_keyword_args": self.resolve_keyword_args,
            "max_cycles": self.max_cycles,
            "max_retries": self.max_retries,
            "retry_policy": None if self.retry_policy is None else self.retry_policy.to_dict(),
            "timeout": self.timeout,
            "handler_type": self.handler_type,
            "task_type": self.task_type,
            "type_options": json_copy(self.type_options),
            "circuit_breaker": self.circuit_breaker,
            "features": list(self.features),
        }


@dataclass
class GroupDef:
    """A parallel group: its ordered members, backend and policy."""

    id: str
    #: Member ids in order; a member is a task (``TaskDef.id``) or a nested group.
    members: list[str] = field(default_factory=list)
    #: ``"threading"``, ``"direct"`` or ``None`` (the default backend).
    backend: str | None = None
    backend_config: dict[str, Any] = field(default_factory=dict)
    policy: PolicyDef = field(default_factory=PolicyDef)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "members": list(self.members),
            "backend": self.backend,
            "backend_config": json_copy(self.backend_config),
            "policy": self.policy.to_dict(),
        }


@dataclass
class WorkflowSpec:
    """A whole workflow as plain data (see ``docs/spec.md``)."""

    name: str
    version: str | None = None
    #: The node a run starts from; ``None`` when the graph has several candidates.
    start_node: str | None = None
    #: The workflow's default retry policy (``workflow(..., retry_policy=...)``).
    retry_policy: RetryDef | None = None
    #: Ids of the graph's nodes in graph order (tasks and groups; group members that are not
    #: graph nodes themselves are only listed in their group).
    nodes: list[str] = field(default_factory=list)
    #: Static edges ``(from, to)`` in insertion order per source node.
    edges: list[tuple[str, str]] = field(default_factory=list)
    tasks: list[TaskDef] = field(default_factory=list)
    groups: list[GroupDef] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    # -- lookups -------------------------------------------------------------------------------

    def task(self, task_id: str) -> TaskDef:
        """The :class:`TaskDef` with id ``task_id`` (``KeyError`` if none)."""
        for t in self.tasks:
            if t.id == task_id:
                return t
        raise KeyError(f"No task '{task_id}' in spec '{self.name}'")

    def group(self, group_id: str) -> GroupDef:
        """The :class:`GroupDef` with id ``group_id`` (``KeyError`` if none)."""
        for g in self.groups:
            if g.id == group_id:
                return g
        raise KeyError(f"No group '{group_id}' in spec '{self.name}'")

    # -- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (``json.dumps`` works on it directly)."""
        return {
            "schema_version": self.schema_version,
            "name": self.name,
            "version": self.version,
            "start_node": self.start_node,
            "retry_policy": None if self.retry_policy is None else self.retry_policy.to_dict(),
            "nodes": list(self.nodes),
            "edges": [[u, v] for u, v in self.edges],
            "tasks": [t.to_dict() for t in self.tasks],
            "groups": [g.to_dict() for g in self.groups],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The spec as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkflowSpec:
        """Read a spec written by :meth:`to_dict` (or by hand); validates it.

        Raises :class:`~graflow_core.spec.errors.SpecLoadError` listing every malformed field.
        """
        reader = _Reader()
        spec = reader.workflow(data)
        if reader.problems:
            raise SpecLoadError(reader.problems)
        assert spec is not None
        problems = spec.validate()
        if problems:
            raise SpecLoadError(problems)
        return spec

    @classmethod
    def from_json(cls, text: str | bytes) -> WorkflowSpec:
        """Read a spec from a JSON document."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SpecLoadError(
                [SpecProblem(None, f"the spec is not valid JSON ({exc})", "pass a spec JSON")]
            ) from exc
        if not isinstance(data, dict):
            raise SpecLoadError(
                [SpecProblem(None, "the spec JSON is not an object", "pass a spec JSON object")]
            )
        return cls.from_dict(data)

    # -- consistency ---------------------------------------------------------------------------

    def validate(self) -> list[SpecProblem]:
        """Structural problems: duplicate ids, edges/members/start node naming unknown ids."""
        problems: list[SpecProblem] = []
        fix = "regenerate the spec with build_spec() or correct the id"
        defined: dict[str, str] = {}
        for t in self.tasks:
            if t.id in defined:
                problems.append(SpecProblem(t.id, "is defined twice in 'tasks'", fix))
            defined[t.id] = "task"
            if t.kind == "function" and not t.ref:
                problems.append(SpecProblem(t.id, "is a function task without a 'ref'", fix))
        for g in self.groups:
            if g.id in defined:
                problems.append(SpecProblem(g.id, "is defined twice (tasks/groups)", fix))
            defined[g.id] = "group"
        for g in self.groups:
            for m in g.members:
                if m not in defined:
                    problems.append(
                        SpecProblem(g.id, f"has member '{m}', which is not defined", fix)
                    )
                elif m == g.id:
                    problems.append(SpecProblem(g.id, "is a member of itself", fix))
        node_set = set()
        for n in self.nodes:
            if n in node_set:
                problems.append(SpecProblem(n, "is listed twice in 'nodes'", fix))
            node_set.add(n)
            if n not in defined:
                problems.append(SpecProblem(n, "is a node without a task or group", fix))
        for u, v in self.edges:
            for end in (u, v):
                if end not in node_set:
                    problems.append(
                        SpecProblem(end, f"is an endpoint of edge {u} -> {v} but not a node", fix)
                    )
        if self.start_node is not None and self.start_node not in defined:
            problems.append(SpecProblem(self.start_node, "is the start node but not defined", fix))
        return problems


# -- reading ---------------------------------------------------------------------------------

_FIX = "write the field as documented in docs/spec.md (or regenerate the spec)"


class _Reader:
    """Reads the JSON form, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def bad(self, subject: str | None, reason: str) -> None:
        self.problems.append(SpecProblem(subject, reason, _FIX))

    def keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], subject: str | None) -> None:
        for key in data:
            if key not in allowed:
                self.bad(subject, f"has unknown field {key!r} (known: {', '.join(allowed)})")

    def get(
        self,
        data: Mapping[str, Any],
        key: str,
        types: tuple[type, ...],
        default: Any,
        subject: str | None,
    ) -> Any:
        value = data.get(key, default)
        if value is default:
            return default
        if (type(value) is bool and bool not in types) or not isinstance(value, types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            self.bad(subject, f"field {key!r} must be {names}, got {value!r}")
            return default
        return value

    def json_dict(self, data: Mapping[str, Any], key: str, subject: str | None) -> dict[str, Any]:
        value = self.get(data, key, (dict,), None, subject)
        if value is None:
            return {}
        try:
            return dict(json_copy(value))
        except NotJSONError as exc:
            self.bad(subject, f"field {key!r}: {exc}")
            return {}

    def str_list(self, data: Mapping[str, Any], key: str, subject: str | None) -> list[str]:
        value = self.get(data, key, (list,), None, subject)
        if value is None:
            return []
        if not all(isinstance(v, str) for v in value):
            self.bad(subject, f"field {key!r} must be a list of strings, got {value!r}")
            return []
        return list(value)

    def retry(self, data: Any, subject: str | None) -> RetryDef | None:
        if data is None:
            return None
        if not isinstance(data, dict):
            self.bad(subject, f"field 'retry_policy' must be an object or null, got {data!r}")
            return None
        self.keys(data, _RETRY_FIELDS, subject)
        number = (int, float)
        return RetryDef(
            max_retries=self.get(data, "max_retries", (int,), 0, subject),
            initial_interval=float(self.get(data, "initial_interval", number, 1.0, subject)),
            backoff_factor=float(self.get(data, "backoff_factor", number, 2.0, subject)),
            max_interval=float(self.get(data, "max_interval", number, 60.0, subject)),
            jitter=self.get(data, "jitter", (bool,), False, subject),
        )

    def task(self, data: Any) -> TaskDef | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            self.bad(None, f"every entry of 'tasks' must be an object with a string 'id': {data!r}")
            return None
        tid = data["id"]
        self.keys(data, _TASK_FIELDS, tid)
        kind = self.get(data, "kind", (str,), "function", tid)
        if kind not in TASK_KINDS:
            self.bad(tid, f"field 'kind' must be one of {TASK_KINDS}, got {kind!r}")
        timeout = self.get(data, "timeout", (int, float, type(None)), None, tid)
        return TaskDef(
            id=tid,
            kind=kind,
            ref=self.get(data, "ref", (str, type(None)), None, tid),
            parameters=self.str_list(data, "parameters", tid),
            bound_kwargs=self.json_dict(data, "bound_kwargs", tid),
            inject_context=self.get(data, "inject_context", (bool,), False, tid),
            inject_llm_client=self.get(data, "inject_llm_client", (bool,), False, tid),
            inject_llm_agent=self.get(data, "inject_llm_agent", (str, type(None)), None, tid),
            resolve_keyword_args=self.get(data, "resolve_keyword_args", (bool,), True, tid),
            max_cycles=self.get(data, "max_cycles", (int, type(None)), None, tid),
            max_retries=self.get(data, "max_retries", (int, type(None)), None, tid),
            retry_policy=self.retry(data.get("retry_policy"), tid),
            timeout=None if timeout is None else float(timeout),
            handler_type=self.get(data, "handler_type", (str,), "direct", tid),
            task_type=self.get(data, "task_type", (str, type(None)), None, tid),
            type_options=self.json_dict(data, "type_options", tid),
            circuit_breaker=self.get(data, "circuit_breaker", (str, type(None)), None, tid),
            features=self.str_list(data, "features", tid),
        )

    def policy(self, data: Any, gid: str) -> PolicyDef:
        if isinstance(data, str):  # shorthand: "strict" / "best_effort"
            data = {"kind": data}
        if not isinstance(data, dict):
            self.bad(gid, f"field 'policy' must be an object, got {data!r}")
            return PolicyDef()
        kind = data.get("kind")
        if kind not in POLICY_KINDS:
            self.bad(gid, f"policy 'kind' must be one of {POLICY_KINDS}, got {kind!r}")
            return PolicyDef()
        params = {k: v for k, v in data.items() if k != "kind"}
        if kind == "critical":
            self.keys(params, ("critical_task_ids",), gid)
            ids = params.get("critical_task_ids")
            if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
                self.bad(gid, f"a critical policy needs 'critical_task_ids' (strings): {ids!r}")
        elif kind == "at_least_n":
            self.keys(params, ("min_success",), gid)
            n = params.get("min_success")
            if type(n) is not int or n < 0:
                self.bad(gid, f"an at_least_n policy needs 'min_success' (an int >= 0): {n!r}")
        elif kind == "custom":
            self.keys(params, ("ref", "state"), gid)
            if not isinstance(params.get("ref"), str):
                self.bad(gid, f"a custom policy needs 'ref' (module:qualname): {params!r}")
            state = params.get("state")
            if state is not None and not isinstance(state, dict):
                self.bad(gid, f"a custom policy's 'state' must be an object or null: {state!r}")
        else:
            self.keys(params, (), gid)
        try:
            params = json_copy(params)
        except NotJSONError as exc:
            self.bad(gid, f"policy: {exc}")
            params = {}
        return PolicyDef(kind=kind, params=params)

    def group(self, data: Any) -> GroupDef | None:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            self.bad(
                None, f"every entry of 'groups' must be an object with a string 'id': {data!r}"
            )
            return None
        gid = data["id"]
        self.keys(data, _GROUP_FIELDS, gid)
        return GroupDef(
            id=gid,
            members=self.str_list(data, "members", gid),
            backend=self.get(data, "backend", (str, type(None)), None, gid),
            backend_config=self.json_dict(data, "backend_config", gid),
            policy=self.policy(data.get("policy", {"kind": "strict"}), gid),
        )

    def workflow(self, data: Mapping[str, Any]) -> WorkflowSpec | None:
        if not isinstance(data, Mapping):
            self.bad(None, f"a spec must be an object, got {type(data).__name__}")
            return None
        version = data.get("schema_version")
        if type(version) is not int:
            self.bad(None, f"field 'schema_version' must be an int, got {version!r}")
            return None
        if version > SCHEMA_VERSION:
            self.problems.append(
                SpecProblem(
                    None,
                    f"the spec has schema_version {version}; this graflow-core reads versions "
                    f"up to {SCHEMA_VERSION}",
                    "upgrade graflow-core to the version that wrote the spec",
                )
            )
            return None
        self.keys(data, _WORKFLOW_FIELDS, None)
        name = self.get(data, "name", (str,), None, None)
        if name is None:
            self.bad(None, "field 'name' (a string) is required")
            name = ""
        edges: list[tuple[str, str]] = []
        for edge in self.get(data, "edges", (list,), [], None):
            if (
                isinstance(edge, (list, tuple))
                and len(edge) == 2
                and all(isinstance(e, str) for e in edge)
            ):
                edges.append((edge[0], edge[1]))
            else:
                self.bad(None, f"every edge must be a [from, to] pair of ids, got {edge!r}")
        tasks = [self.task(t) for t in self.get(data, "tasks", (list,), [], None)]
        groups = [self.group(g) for g in self.get(data, "groups", (list,), [], None)]
        return WorkflowSpec(
            name=name,
            version=self.get(data, "version", (str, type(None)), None, None),
            start_node=self.get(data, "start_node", (str, type(None)), None, None),
            retry_policy=self.retry(data.get("retry_policy"), None),
            nodes=self.str_list(data, "nodes", None),
            edges=edges,
            tasks=[t for t in tasks if t is not None],
            groups=[g for g in groups if g is not None],
            schema_version=version,
        )


_RETRY_FIELDS = ("max_retries", "initial_interval", "backoff_factor", "max_interval", "jitter")
_TASK_FIELDS = tuple(TaskDef.__dataclass_fields__)
_GROUP_FIELDS = tuple(GroupDef.__dataclass_fields__)
_WORKFLOW_FIELDS = tuple(WorkflowSpec.__dataclass_fields__)
