"""Spec → workflow: rebuild a runnable ``WorkflowContext`` from a :class:`WorkflowSpec`.

Every ``ref`` is imported first; all failures are reported together in one
:class:`SpecLoadError`. The tasks are fresh ``TaskWrapper`` objects with the spec's ids and
options (the module-level wrappers the refs point at are not modified or shared), the groups
fresh ``ParallelGroup`` objects, and the graph has the spec's nodes and edges in the spec's
order, so ``build_spec(load_workflow(spec)) == spec``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graflow_core.core.graph import TaskGraph
from graflow_core.core.handlers.group_policy import GroupExecutionPolicy
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import Executable, ParallelGroup, Task, TaskWrapper
from graflow_core.core.workflow import WorkflowContext
from graflow_core.spec.build import task_target
from graflow_core.spec.errors import SpecLoadError, SpecProblem
from graflow_core.spec.jsonvalues import json_copy
from graflow_core.spec.model import PolicyDef, RetryDef, WorkflowSpec
from graflow_core.spec.references import RefProblem, import_ref

_AUTO_GROUP_ID = re.compile(r"ParallelGroup_(\d+)")


def retry_policy(retry: RetryDef | None) -> RetryPolicy | None:
    """The :class:`RetryPolicy` of a :class:`RetryDef` (``None`` stays ``None``)."""
    if retry is None:
        return None
    return RetryPolicy(
        max_retries=retry.max_retries,
        initial_interval=retry.initial_interval,
        backoff_factor=retry.backoff_factor,
        max_interval=retry.max_interval,
        jitter=retry.jitter,
    )


def _as_spec(spec: WorkflowSpec | Mapping[str, Any] | str | bytes) -> WorkflowSpec:
    if isinstance(spec, WorkflowSpec):
        problems = spec.validate()
        if problems:
            raise SpecLoadError(problems, f"spec '{spec.name}'")
        return spec
    if isinstance(spec, (str, bytes)):
        return WorkflowSpec.from_json(spec)
    return WorkflowSpec.from_dict(spec)


def _policy(policy: PolicyDef) -> Any:
    if policy.kind != "custom":
        if policy.kind in ("strict", "best_effort"):
            return policy.kind
        return {"type": policy.kind, **policy.params}
    ref = policy.params.get("ref", "")
    obj = import_ref(ref)
    state = policy.params.get("state")
    if state is None:
        if not isinstance(obj, GroupExecutionPolicy):
            raise RefProblem(
                f"{ref!r} is {obj!r}, not a GroupExecutionPolicy instance",
                "reference a module-level policy instance, or give 'state' with a class ref",
            )
        return obj
    if not (isinstance(obj, type) and issubclass(obj, GroupExecutionPolicy)):
        raise RefProblem(
            f"{ref!r} is {obj!r}, not a GroupExecutionPolicy subclass",
            "reference the policy class (module:ClassName)",
        )
    instance = obj.__new__(obj)
    instance.__dict__.update(json_copy(state))
    return instance


def load_workflow(
    spec: WorkflowSpec | Mapping[str, Any] | str | bytes,
    *,
    handlers: Mapping[str, Any] | None = None,
    tracer: Any = None,
) -> WorkflowContext:
    """Build a runnable :class:`WorkflowContext` from ``spec`` (a spec, its dict or its JSON).

    Args:
        spec: what to load.
        handlers: custom ``TaskHandler`` objects by handler name (``@task(handler=...)``);
            they are not part of the spec.
        tracer: the workflow's tracer.

    Run it with ``wf.execute(start_node=spec.start_node)`` (``None`` picks the single node
    without predecessors, as for any workflow).

    Raises:
        SpecLoadError: the spec is malformed, or references cannot be imported here (every
            failing task/group is listed).
    """
    spec = _as_spec(spec)
    problems: list[SpecProblem] = []
    targets: dict[str, Any] = {}
    for td in spec.tasks:
        if td.kind != "function":
            continue
        try:
            found = import_ref(td.ref or "")
            target = task_target(found) if isinstance(found, TaskWrapper) else found
            if td.task_type is None and not callable(target):
                raise RefProblem(
                    f"{td.ref!r} imports to {target!r}, which is not callable",
                    "point the reference at the task's function",
                )
            targets[td.id] = target
        except RefProblem as exc:
            problems.append(SpecProblem(td.id, exc.reason, exc.fix))
    policies: dict[str, Any] = {}
    for gd in spec.groups:
        try:
            policies[gd.id] = _policy(gd.policy)
        except RefProblem as exc:
            problems.append(SpecProblem(gd.id, f"group policy: {exc.reason}", exc.fix, "group"))
    if problems:
        raise SpecLoadError(problems, f"spec '{spec.name}'")

    wf = WorkflowContext(
        spec.name, tracer=tracer, version=spec.version, retry_policy=retry_policy(spec.retry_policy)
    )
    objects: dict[str, Executable] = {}
    for td in spec.tasks:
        if td.kind == "placeholder":
            placeholder = Task(td.id, register_to_context=False)
            if td.handler_type != "direct":
                placeholder.handler_type = td.handler_type
            objects[td.id] = placeholder
            continue
        target = targets[td.id]
        func = target
        if td.task_type is not None:
            from graflow_core.core.task_types import get_task_type

            func = get_task_type(td.task_type).build(
                target, task_id=td.id, options=dict(td.type_options)
            )
        try:
            wrapper = TaskWrapper(
                td.id,
                func,
                inject_context=td.inject_context,
                inject_llm_client=td.inject_llm_client,
                inject_llm_agent=td.inject_llm_agent,
                register_to_context=False,
                handler_type=td.handler_type,
                resolve_keyword_args=td.resolve_keyword_args,
                max_cycles=td.max_cycles,
                max_retries=td.max_retries,
                retry_policy=retry_policy(td.retry_policy),
                task_type=td.task_type,
                type_options=json_copy(td.type_options),
                timeout=td.timeout,
                circuit_breaker=td.circuit_breaker,
                type_target=target if td.task_type is not None else None,
            )
        except Exception as exc:
            problems.append(
                SpecProblem(td.id, f"cannot be created ({exc})", "correct the task's options")
            )
            continue
        if td.bound_kwargs:
            wrapper._bound_kwargs = json_copy(td.bound_kwargs)
        objects[td.id] = wrapper
    if problems:
        raise SpecLoadError(problems, f"spec '{spec.name}'")

    groups = {gd.id: gd for gd in spec.groups}
    with wf:  # ParallelGroup() registers into the current workflow; the graph is rebuilt below

        def make_group(gid: str, path: tuple[str, ...]) -> Executable:
            found = objects.get(gid)
            if found is not None:
                return found
            if gid in path:
                raise SpecLoadError(
                    [
                        SpecProblem(
                            gid,
                            f"groups contain each other: {' -> '.join((*path, gid))}",
                            "a group cannot be a member of itself",
                            "group",
                        )
                    ],
                    f"spec '{spec.name}'",
                )
            gd = groups[gid]
            members = [make_group(m, (*path, gid)) for m in gd.members]
            group = ParallelGroup(members)
            group._task_id = gid
            group._auto_named = _AUTO_GROUP_ID.fullmatch(gid) is not None
            group.with_execution(
                backend=gd.backend, backend_config=dict(gd.backend_config), policy=policies[gid]
            )
            objects[gid] = group
            return group

        for gd in spec.groups:
            make_group(gd.id, ())

    graph = TaskGraph()
    for node in spec.nodes:
        graph.add_node(objects[node], node)
    for u, v in spec.edges:
        graph.add_edge(u, v)
    wf.graph = graph
    wf._group_counter = max(
        (int(m.group(1)) for g in spec.groups if (m := _AUTO_GROUP_ID.fullmatch(g.id))),
        default=0,
    )
    for name, handler in (handlers or {}).items():
        wf.register_handler(name, handler)
    return wf
