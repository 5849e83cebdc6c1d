"""Workflow → spec: describe a ``WorkflowContext`` (or a ``TaskGraph``) as a :class:`WorkflowSpec`.

:func:`build_spec` raises one :class:`SpecError` listing every task that cannot be described
(no import reference, non-JSON bound kwargs, ...); :func:`check_referencable` returns the same
problems without raising. Nodes added while the workflow ran (``next_task``, iterations) are
not part of the spec: it describes the workflow as defined.
"""

from __future__ import annotations

import sys
from typing import Any

from graflow_core.core.graph import TaskGraph
from graflow_core.core.handlers.group_policy import GroupExecutionPolicy
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import (
    Executable,
    ParallelGroup,
    SequentialTask,
    Task,
    TaskWrapper,
    _parameter_names,
)
from graflow_core.core.workflow import WorkflowContext
from graflow_core.spec.errors import SpecError, SpecProblem
from graflow_core.spec.features import detect_features
from graflow_core.spec.jsonvalues import NotJSONError, json_copy
from graflow_core.spec.model import GroupDef, PolicyDef, RetryDef, TaskDef, WorkflowSpec
from graflow_core.spec.references import RefProblem, reference

_JSON_FIX = (
    "bind only JSON values (str, int, float, bool, None, lists, dicts with str keys): pass "
    "e.g. an ISO date string or a list instead of a tuple and convert inside the task, or let "
    "an upstream task produce the value through the channel"
)


def retry_def(policy: RetryPolicy | None) -> RetryDef | None:
    """The :class:`RetryDef` of a :class:`RetryPolicy` (``None`` stays ``None``)."""
    if policy is None:
        return None
    return RetryDef(
        max_retries=policy.max_retries,
        initial_interval=float(policy.initial_interval),
        backoff_factor=float(policy.backoff_factor),
        max_interval=float(policy.max_interval),
        jitter=bool(policy.jitter),
    )


def task_target(task: TaskWrapper) -> Any:
    """What a task's reference must name: the object given to ``@task(type=...)``, else ``func``."""
    if task.task_type is not None:
        target = getattr(task, "type_target", None)
        if target is not None:
            return target
    return task.func


class _Builder:
    def __init__(self, main_module: str | None) -> None:
        self.main_module = main_module
        self.problems: list[SpecProblem] = []
        self.objects: dict[str, Executable] = {}
        self.order: list[str] = []

    def problem(self, subject: str | None, reason: str, fix: str, kind: str = "task") -> None:
        self.problems.append(SpecProblem(subject, reason, fix, kind))

    # -- collecting ----------------------------------------------------------------------------

    def visit(self, obj: Executable, via: str) -> None:
        if isinstance(obj, SequentialTask):
            obj = obj.leftmost
        tid = obj.task_id
        seen = self.objects.get(tid)
        if seen is not None:
            if seen is not obj:
                self.problem(
                    tid,
                    f"two different objects share this id ({seen!r} and {obj!r}, {via})",
                    "give each task a unique id: my_task(task_id='...') creates an instance",
                )
            return
        self.objects[tid] = obj
        self.order.append(tid)
        if isinstance(obj, ParallelGroup):
            for member in obj.tasks:
                self.visit(member, f"a member of group '{tid}'")

    # -- describing ----------------------------------------------------------------------------

    def json_value(self, subject: str, what: str, value: Any, kind: str = "task") -> Any:
        try:
            return json_copy(value)
        except NotJSONError as exc:
            self.problem(
                subject, f"{what}{exc.path} is a {exc.type_name}, not a JSON value", _JSON_FIX, kind
            )
            return {}

    def task_def(self, task: Executable) -> TaskDef | None:
        tid = task.task_id
        if type(task) is Task:
            return TaskDef(id=tid, kind="placeholder", handler_type=task.handler_type)
        if not isinstance(task, TaskWrapper):
            self.problem(
                tid,
                f"is a {type(task).__name__}, a custom Executable the spec cannot describe",
                "make it a function task with @task (or TaskWrapper)",
            )
            return None
        target = task_target(task)

        def accept(found: Any) -> bool:
            return found is target or (
                isinstance(found, TaskWrapper) and task_target(found) is target
            )

        ref: str | None
        try:
            ref = reference(target, accept, main_module=self.main_module)
        except RefProblem as exc:
            self.problem(tid, exc.reason, exc.fix)
            ref = None
        original = task._original_func
        breaker = task.circuit_breaker
        if breaker is not None and not isinstance(breaker, str):
            breaker = self.breaker_name(tid, breaker)
        return TaskDef(
            id=tid,
            kind="function",
            ref=ref,
            parameters=list(_parameter_names(original)),
            bound_kwargs=self.json_value(tid, "bound keyword argument ", task._bound_kwargs)
            if task._bound_kwargs
            else {},
            inject_context=bool(task.inject_context),
            inject_llm_client=bool(task.inject_llm_client),
            inject_llm_agent=task.inject_llm_agent,
            resolve_keyword_args=bool(task.resolve_keyword_args),
            max_cycles=task.max_cycles,
            max_retries=task.max_retries,
            retry_policy=retry_def(task.retry_policy),
            timeout=None if task.timeout is None else float(task.timeout),
            handler_type=task.handler_type,
            task_type=task.task_type,
            type_options=self.json_value(tid, "type_options", task.type_options)
            if task.type_options
            else {},
            circuit_breaker=breaker,
            features=detect_features(task.func, original)
            if original is not task.func
            else detect_features(original),
        )

    def breaker_name(self, tid: str, breaker: Any) -> str | None:
        from graflow_core.resilience.circuit_breaker import registered_circuit_breakers

        name = getattr(breaker, "name", None)
        if isinstance(name, str) and registered_circuit_breakers().get(name) is breaker:
            return name
        self.problem(
            tid,
            f"its circuit breaker {breaker!r} is an object that is not registered by name",
            "register it with register_circuit_breaker(CircuitBreaker('name', ...)) and pass "
            "circuit_breaker='name' to @task",
        )
        return None

    def policy_def(self, gid: str, policy: Any) -> PolicyDef:
        if isinstance(policy, str):
            return PolicyDef(kind=policy.lower())
        kind = policy.get("type")
        if kind == "critical":
            return PolicyDef("critical", {"critical_task_ids": list(policy["critical_task_ids"])})
        if kind == "at_least_n":
            return PolicyDef("at_least_n", {"min_success": policy["min_success"]})
        if kind in ("strict", "best_effort"):
            return PolicyDef(kind)
        instance = policy.get("policy")
        return self.custom_policy(gid, instance)

    def custom_policy(self, gid: str, instance: GroupExecutionPolicy) -> PolicyDef:
        cls = type(instance)
        module = getattr(cls, "__module__", "")
        # A module-level instance (POLICY = MyPolicy(...)) is referenced as is.
        mod = sys.modules.get(module)
        if mod is not None and module != "__main__":
            for name, value in vars(mod).items():
                if value is instance:
                    return PolicyDef("custom", {"ref": f"{module}:{name}", "state": None})
        try:
            ref = reference(
                cls, lambda found: found is cls, main_module=self.main_module, what="class"
            )
        except RefProblem as exc:
            self.problem(gid, f"its group policy {cls.__name__}: {exc.reason}", exc.fix, "group")
            return PolicyDef("custom", {"ref": "", "state": None})
        state = getattr(instance, "__dict__", None)
        if state is None:
            self.problem(
                gid,
                f"its group policy {cls.__name__} has no __dict__ (slots) to describe its state",
                f"assign the policy instance to a module-level name in {module}",
                "group",
            )
            return PolicyDef("custom", {"ref": ref, "state": None})
        try:
            copied = json_copy(dict(state))
        except NotJSONError as exc:
            self.problem(
                gid,
                f"the state of its group policy {cls.__name__}: attribute {exc.path} is a "
                f"{exc.type_name}, not a JSON value",
                f"keep only JSON attributes on the policy, or assign the policy instance to a "
                f"module-level name in {module}",
                "group",
            )
            copied = {}
        return PolicyDef("custom", {"ref": ref, "state": copied})

    def group_def(self, group: ParallelGroup) -> GroupDef:
        gid = group.task_id
        config = group._execution_config
        backend = config.get("backend")
        if backend is not None and not isinstance(backend, str):
            backend = getattr(backend, "value", str(backend))
        members = []
        for m in group.tasks:
            members.append((m.leftmost if isinstance(m, SequentialTask) else m).task_id)
        backend_config = config.get("backend_config") or {}
        return GroupDef(
            id=gid,
            members=members,
            backend=backend,
            backend_config=self.json_value(gid, "backend_config", backend_config, "group")
            if backend_config
            else {},
            policy=self.policy_def(gid, config.get("policy", "strict")),
        )


def _start_node(graph: TaskGraph, nodes: list[str], dynamic: set[str]) -> str | None:
    preds = graph._pred
    candidates = [n for n in nodes if not any(p not in dynamic for p in preds.get(n, ()))]
    if len(candidates) > 1:
        members = graph.group_member_ids()
        candidates = [n for n in candidates if n not in members]
    return candidates[0] if len(candidates) == 1 else None


def _build(
    source: WorkflowContext | TaskGraph,
    start_node: str | None,
    name: str | None,
    version: str | None,
    main_module: str | None,
) -> tuple[WorkflowSpec, list[SpecProblem]]:
    if isinstance(source, WorkflowContext):
        graph = source.graph
        wf_name = source.name if name is None else name
        wf_version = getattr(source, "version", None) if version is None else version
        default_retry = getattr(source, "retry_policy", None)
    elif isinstance(source, TaskGraph):
        graph = source
        wf_name = "workflow" if name is None else name
        wf_version = version
        default_retry = None
    else:
        raise SpecError(
            [
                SpecProblem(
                    None,
                    f"build_spec() needs a WorkflowContext or a TaskGraph, got {source!r}",
                    "pass the object of `with workflow(...) as wf:` (wf)",
                )
            ]
        )
    builder = _Builder(main_module)
    dynamic = graph._dynamic
    nodes = [n for n in graph._tasks if n not in dynamic] if dynamic else list(graph._tasks)
    for node in nodes:
        obj = graph._tasks[node]
        if obj is None:
            builder.problem(
                node,
                "is a graph node without a task (an edge was added to an id that has no task)",
                "define a task with this id or remove the edge",
                "node",
            )
            continue
        if obj.task_id != node:
            builder.problem(
                node,
                f"the node holds task '{obj.task_id}' under another id",
                "add tasks under their own task_id",
                "node",
            )
        builder.visit(obj, "a graph node")
    tasks: list[TaskDef] = []
    groups: list[GroupDef] = []
    for tid in builder.order:
        obj = builder.objects[tid]
        if isinstance(obj, ParallelGroup):
            groups.append(builder.group_def(obj))
        else:
            td = builder.task_def(obj)
            if td is not None:
                tasks.append(td)
    succ = graph._succ
    if dynamic:
        edges = [(u, v) for u in nodes for v in succ.get(u, ()) if v not in dynamic]
    else:
        edges = [(u, v) for u, vs in succ.items() for v in vs]
    if start_node is None:
        start = _start_node(graph, nodes, dynamic)
    else:
        start = start_node
        if start not in builder.objects:
            builder.problem(
                start,
                "was given as start node but is not a task of the workflow",
                f"pass one of: {', '.join(nodes[:10])}",
            )
    spec = WorkflowSpec(
        name=wf_name,
        version=wf_version,
        start_node=start,
        retry_policy=retry_def(default_retry),
        nodes=nodes,
        edges=edges,
        tasks=tasks,
        groups=groups,
    )
    return spec, builder.problems


def build_spec(
    workflow: WorkflowContext | TaskGraph,
    *,
    start_node: str | None = None,
    name: str | None = None,
    version: str | None = None,
    main_module: str | None = None,
) -> WorkflowSpec:
    """Describe ``workflow`` (a ``WorkflowContext``, or a ``TaskGraph``) as a :class:`WorkflowSpec`.

    Args:
        workflow: what to describe.
        start_node: the run's start node (default: the single node without predecessors, or
            ``None`` when there are several).
        name: overrides the workflow's name (a ``TaskGraph`` defaults to ``"workflow"``).
        version: overrides the workflow's version.
        main_module: the module name under which the ``__main__`` script is importable
            (default: taken from ``__main__.__spec__`` when run with ``python -m``).

    Raises:
        SpecError: listing every task or group that cannot be described, with the fix.
    """
    spec, problems = _build(workflow, start_node, name, version, main_module)
    if problems:
        raise SpecError(problems, f"workflow '{spec.name}'")
    return spec


def check_referencable(
    workflow: WorkflowContext | TaskGraph, *, main_module: str | None = None
) -> list[SpecProblem]:
    """Every problem :func:`build_spec` would raise for ``workflow`` (``[]`` when none)."""
    return _build(workflow, None, None, None, main_module)[1]
