"""Dagster jobs back to graflow workflows: :func:`from_dagster_job` and :func:`job_to_spec`.

Two kinds of jobs come back:

* **jobs rendered by graflow-dagster** (:func:`graflow_dagster.to_dagster_job`) carry the
  workflow in their metadata and op tags; :func:`job_to_spec` recovers the exact
  :class:`~graflow_core.spec.WorkflowSpec` (``job_to_spec(to_dagster_job(spec)) == spec``) and
  checks that the job's dependency structure is still the one the spec renders to.
* **hand-written jobs** become one graflow task per op. Every task runs the op's compute function
  (Dagster's direct invocation: config defaults, resources and type checks apply) with its inputs
  taken from the upstream ops' results; an input without an upstream is filled like graflow's
  keyword resolution (the channel's ``"<input>.__result__"``, then ``"<input>"``, then the
  input's default). An op with several outputs returns a dict ``{output_name: value}``; an op
  that leaves optional outputs out only continues to the ops fed by the outputs it produced
  (``goto``), so untaken branches do not run, as in Dagster.

What cannot be expressed is reported as a :class:`DagsterConversionError` listing every node:
nested graphs and dynamic outputs (``.map``/``.collect``). Asset jobs convert like op jobs (each
asset's op runs through direct invocation; nothing is materialized through the IO manager).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graflow_core.channels.base import RESULT_SUFFIX
from graflow_core.exceptions import GraflowError

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import WorkflowSpec

#: Tag / metadata keys written by :mod:`graflow_dagster.render`.
TAG_TASK_ID = "graflow/task_id"
TAG_STEP_ID = "graflow/step_id"
TAG_TASK_IDS = "graflow/task_ids"
TAG_TASKS = "graflow/tasks"
TAG_GROUPS = "graflow/groups"
META_WORKFLOW = "graflow/workflow"


class DagsterConversionError(GraflowError):
    """A Dagster job (or parts of it) cannot be turned into a graflow workflow.

    ``problems`` lists ``(node, reason)`` pairs; the message names every one and what to do.
    """

    def __init__(self, job_name: str, problems: list[tuple[str, str]]) -> None:
        self.job_name = job_name
        self.problems = problems
        lines = "\n".join(f"  - node '{node}': {reason}" for node, reason in problems)
        super().__init__(f"Dagster job '{job_name}' cannot be converted to graflow:\n{lines}")


# -- jobs rendered by graflow-dagster ----------------------------------------------------------


def is_graflow_job(job: Any) -> bool:
    """Whether ``job`` was rendered by :func:`graflow_dagster.to_dagster_job`."""
    from graflow_dagster._compat import job_metadata

    return META_WORKFLOW in job_metadata(job)


def job_to_spec(job: Any, **_options: Any) -> WorkflowSpec:
    """The exact :class:`WorkflowSpec` of a job rendered by graflow-dagster.

    The workflow-level fields come from the job's metadata, each task's definition from the tags
    of the op running it; the job's dependency structure must still be the one the recovered
    spec renders to (an op added, removed or rewired by hand is reported).

    Raises:
        DagsterConversionError: the job was not rendered by graflow-dagster, or was changed.
    """
    from graflow_core.spec import WorkflowSpec
    from graflow_dagster._compat import job_metadata, nodes_in_order, op_tags, upstream_of

    meta = job_metadata(job)
    raw = meta.get(META_WORKFLOW)
    if raw is None:
        raise DagsterConversionError(
            job.name,
            [
                (
                    "*",
                    "not rendered by graflow-dagster (no 'graflow/workflow' metadata); use "
                    "from_dagster_job(job) to convert a hand-written job",
                )
            ],
        )
    data = json.loads(raw) if isinstance(raw, str) else dict(raw)
    task_order: list[str] = data.pop("task_order")
    group_order: list[str] = data.pop("group_order")
    tasks: dict[str, Any] = {t["id"]: t for t in data.pop("other_tasks")}
    groups: dict[str, Any] = {g["id"]: g for g in data.pop("other_groups")}
    plan_start = data.pop("plan_start", None)
    data.pop("job", None)
    upstream: dict[str, set[str]] = {}
    step_of_node: dict[str, str] = {}
    for node in nodes_in_order(job):
        tags = op_tags(node.definition)
        step_id = tags.get(TAG_STEP_ID)
        if step_id is None:
            raise DagsterConversionError(
                job.name, [(node.name, "op without graflow tags: added to the job by hand?")]
            )
        step_of_node[node.name] = step_id
        for task in json.loads(tags[TAG_TASKS]):
            tasks[task["id"]] = task
        for group in json.loads(tags.get(TAG_GROUPS, "[]")):
            groups[group["id"]] = group
    for node in nodes_in_order(job):
        upstream[step_of_node[node.name]] = {
            step_of_node[src] for _, _, sources in upstream_of(job, node.name) for src, _ in sources
        }
    missing = [t for t in task_order if t not in tasks] + [
        g for g in group_order if g not in groups
    ]
    if missing:
        raise DagsterConversionError(
            job.name,
            [(t, "the op running this task/group is missing from the job") for t in missing],
        )
    data["tasks"] = [tasks[t] for t in task_order]
    data["groups"] = [groups[g] for g in group_order]
    spec = WorkflowSpec.from_dict(data)
    _check_structure(job.name, spec, upstream, plan_start)
    return spec


def _check_structure(
    job_name: str, spec: WorkflowSpec, upstream: Mapping[str, set[str]], start: str | None
) -> None:
    """The job's op dependencies must be the ones ``spec`` renders to."""
    from graflow_dagster.render import planned_dependencies

    expected = planned_dependencies(spec, start)
    problems = [
        (step, f"depends on {sorted(upstream.get(step, set()))}, expected {sorted(deps)}")
        for step, deps in expected.items()
        if set(deps) != upstream.get(step, set())
    ]
    problems += [
        (step, "op not produced by this workflow's plan")
        for step in upstream
        if step not in expected
    ]
    if problems:
        raise DagsterConversionError(job_name, problems)


# -- hand-written jobs -------------------------------------------------------------------------


@dataclass
class _Node:
    name: str
    #: ``[(input_name, is_fan_in, [(upstream, output), ...])]`` for connected inputs
    inputs: list[tuple[str, bool, list[tuple[str, str]]]]
    #: unconnected input names -> (has_default, default)
    free_inputs: dict[str, tuple[bool, Any]]
    outputs: list[str]
    #: inputs of Dagster type Nothing (ordering only: never passed)
    nothing: set[str] = field(default_factory=set)
    #: downstream node -> output names of this node it reads
    downstream: dict[str, set[str]] = field(default_factory=dict)


_registry_lock = threading.Lock()
_JOBS: dict[str, Any] = {}


def _register_job(job: Any) -> str:
    key = f"local:{job.name}:{id(job):x}"
    with _registry_lock:
        _JOBS[key] = job
    return key


def _job_for(job_ref: str) -> Any:
    found = _JOBS.get(job_ref)
    if found is not None:
        return found
    if job_ref.startswith("local:"):
        raise GraflowError(
            f"Dagster job {job_ref!r} was converted in another process; pass "
            "from_dagster_job(job, reference='module:attr') so that workers can import it"
        )
    from graflow_core.spec.references import import_ref

    job = import_ref(job_ref)
    with _registry_lock:
        _JOBS[job_ref] = job
    return job


def _analyse(job: Any) -> tuple[list[_Node], list[tuple[str, str]]]:
    from graflow_dagster._compat import is_dynamic, nodes_in_order, upstream_of

    problems: list[tuple[str, str]] = []
    nodes: dict[str, _Node] = {}
    for node in nodes_in_order(job):
        definition = node.definition
        if not hasattr(definition, "compute_fn"):
            problems.append(
                (
                    node.name,
                    "is a nested graph; graflow tasks are ops: build the job from the graph's "
                    "ops directly",
                )
            )
            continue
        if is_dynamic(job, node.name):
            problems.append(
                (
                    node.name,
                    "uses dynamic outputs (.map/.collect); write the fan-out as a graflow "
                    "next_task loop instead",
                )
            )
            continue
        connected = upstream_of(job, node.name)
        names = {name for name, _, _ in connected}
        free: dict[str, tuple[bool, Any]] = {}
        for input_def in definition.input_defs:
            if input_def.name in names:
                continue
            if input_def.dagster_type.is_nothing:
                continue
            has_default = input_def.has_default_value
            free[input_def.name] = (has_default, input_def.default_value if has_default else None)
        nothing = {i.name for i in definition.input_defs if i.dagster_type.is_nothing}
        nodes[node.name] = _Node(
            node.name, connected, free, [o.name for o in definition.output_defs], nothing
        )
    for node in nodes.values():
        for _, _, sources in node.inputs:
            for src, out in sources:
                if src in nodes:
                    nodes[src].downstream.setdefault(node.name, set()).add(out)
    return list(nodes.values()), problems


def _run_config_ops(run_config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not run_config:
        return {}
    return dict(run_config.get("ops") or run_config.get("solids") or {})


def from_dagster_job(
    job: Any,
    *,
    run_config: Mapping[str, Any] | None = None,
    reference: str | None = None,
    name: str | None = None,
) -> WorkflowContext:
    """A graflow workflow from a Dagster job.

    A job rendered by graflow-dagster loads its exact spec (:func:`job_to_spec`). Any other job
    becomes one task per op (ids = node names), with the job's dependencies as edges; see the
    module docstring for how inputs, outputs and branches map.

    Args:
        job: a :class:`dagster.JobDefinition`.
        run_config: the run config the ops' config and inputs are taken from (``{"ops": {...}}``).
        reference: ``"module:attr"`` of the job, for workers in other processes (the spec's
            tasks then import the job by it); without it the workflow runs in this process only.
        name: the workflow's name (default: the job's name).

    Returns:
        A runnable ``WorkflowContext``; ``wf.execute()`` runs the ops in dependency order. When
        the job has several ops without upstream, a placeholder task ``<job>__start`` precedes
        them (graflow runs start from one node).

    Raises:
        DagsterConversionError: nodes that cannot be expressed (every one is listed).
    """
    if is_graflow_job(job):
        from graflow_core.spec import load_workflow

        return load_workflow(job_to_spec(job))
    return load_handwritten(job, run_config=run_config, reference=reference, name=name)


def handwritten_spec(
    job: Any,
    *,
    run_config: Mapping[str, Any] | None = None,
    reference: str | None = None,
    name: str | None = None,
) -> WorkflowSpec:
    """The spec of a hand-written job: one :func:`run_dagster_op` task per op (see module doc)."""
    from graflow_core.spec import RetryDef, TaskDef, WorkflowSpec

    nodes, problems = _analyse(job)
    if problems:
        raise DagsterConversionError(job.name, problems)
    job_ref = reference or _register_job(job)
    if reference is not None:
        with _registry_lock:
            _JOBS.setdefault(reference, job)
    ops_config = _run_config_ops(run_config)
    tasks: list[TaskDef] = []
    edges: list[tuple[str, str]] = []
    for node in nodes:
        op_def = job.graph.node_named(node.name).definition
        bound: dict[str, Any] = {"job_ref": job_ref, "node": node.name}
        node_config = ops_config.get(node.name) or {}
        if node_config:
            bound["op_run_config"] = json.loads(json.dumps(node_config))
        retry = None
        policy = getattr(op_def, "retry_policy", None) or getattr(job, "_op_retry_policy", None)
        if policy is not None:
            retry = RetryDef(
                max_retries=policy.max_retries,
                initial_interval=float(policy.delay or 0.0),
                backoff_factor=2.0 if policy.backoff is not None else 1.0,
                jitter=policy.jitter is not None,
            )
        tasks.append(
            TaskDef(
                id=node.name,
                ref="graflow_dagster.parse:run_dagster_op",
                parameters=["ctx", "job_ref", "node", "op_run_config"],
                bound_kwargs=bound,
                inject_context=True,
                resolve_keyword_args=False,
                max_retries=retry.max_retries if retry else None,
                retry_policy=retry,
                features=sorted({"channels", "goto"}),
            )
        )
        for down in node.downstream:
            edges.append((node.name, down))
    roots = [n.name for n in nodes if not any(src for _, _, s in n.inputs for src, _ in s)]
    start: str | None = roots[0] if len(roots) == 1 else None
    if len(roots) > 1:
        start = f"{job.name}__start"
        tasks.insert(0, TaskDef(id=start, kind="placeholder"))
        edges[:0] = [(start, r) for r in roots]
    return WorkflowSpec(
        name=name or job.name,
        start_node=start,
        nodes=[t.id for t in tasks],
        edges=edges,
        tasks=tasks,
    )


def load_handwritten(
    job: Any,
    *,
    run_config: Mapping[str, Any] | None = None,
    reference: str | None = None,
    name: str | None = None,
) -> WorkflowContext:
    """:func:`handwritten_spec` loaded into a runnable workflow."""
    from graflow_core.spec import load_workflow

    return load_workflow(
        handwritten_spec(job, run_config=run_config, reference=reference, name=name)
    )


#: id(job) -> (job, its nodes by name); the job is kept so that its id is not reused.
_ANALYSED: dict[int, tuple[Any, dict[str, _Node]]] = {}


def _node_info(job: Any, node_name: str) -> _Node:
    found = _ANALYSED.get(id(job))
    if found is None or found[0] is not job:
        nodes, _ = _analyse(job)
        found = (job, {n.name: n for n in nodes})
        with _registry_lock:
            _ANALYSED[id(job)] = found
    return found[1][node_name]


_MISSING = object()


def _resolve_free(ctx: Any, name: str, has_default: bool, default: Any) -> Any:
    channel = ctx.get_channel()
    for key in (f"{name}{RESULT_SUFFIX}", name):
        if channel.exists(key):
            return channel.get(key)
    return default if has_default else _MISSING


def _output_value(result: Any, output: str, outputs: list[str]) -> Any:
    if len(outputs) == 1:
        return result
    return result.get(output, _MISSING) if isinstance(result, dict) else _MISSING


def _normalise(value: Any, outputs: list[str]) -> dict[str, Any]:
    """Direct invocation's return value -> ``{output_name: value}`` (only produced outputs)."""
    from dagster import Output

    if hasattr(value, "__next__"):  # a generator op
        produced: dict[str, Any] = {}
        for item in value:
            if isinstance(item, Output):
                produced[item.output_name] = item.value
        return produced
    if isinstance(value, Output):
        return {value.output_name: value.value}
    if len(outputs) > 1:
        if isinstance(value, tuple) and len(value) == len(outputs):
            return {
                o: v.value if isinstance(v, Output) else v
                for o, v in zip(outputs, value, strict=True)
            }
        raise GraflowError(
            f"op with outputs {outputs} returned {type(value).__name__}; return a tuple of "
            f"{len(outputs)} values or yield Output objects"
        )
    return {outputs[0]: value} if outputs else {}


def run_dagster_op(
    ctx: Any, job_ref: str, node: str, op_run_config: Mapping[str, Any] | None = None
) -> Any:
    """The graflow task that runs one op of a hand-written Dagster job (see module docstring).

    Inputs come from the upstream tasks' results (or keyword resolution for unconnected
    inputs); the op runs through Dagster's direct invocation with a context holding the job's
    resources and the op's config. Returns the op's value (single output) or a dict of its
    outputs. When the op leaves optional outputs out, only the downstream tasks fed by produced
    outputs run (``next_task(..., goto=True)``).
    """
    from dagster import build_op_context

    from graflow_dagster._compat import has_context_arg

    job = _job_for(job_ref)
    info = _node_info(job, node)
    op_def = job.graph.node_named(node).definition
    kwargs: dict[str, Any] = {}
    for input_name, fan_in, sources in info.inputs:
        if input_name in info.nothing:
            continue
        values = []
        for src, out in sources:
            src_info = _node_info(job, src)
            produced = ctx.get_channel().exists(f"{src}{RESULT_SUFFIX}")
            value = (
                _output_value(ctx.get_result(src), out, src_info.outputs) if produced else _MISSING
            )
            if value is not _MISSING:
                values.append(value)
        if fan_in:
            kwargs[input_name] = values
        elif values:
            kwargs[input_name] = values[0]
    for input_name, (has_default, default) in info.free_inputs.items():
        value = _resolve_free(ctx, input_name, has_default, default)
        input_config = ((op_run_config or {}).get("inputs") or {}).get(input_name, _MISSING)
        if input_config is not _MISSING:
            value = input_config.get("value") if isinstance(input_config, dict) else input_config
        if value is not _MISSING:
            kwargs[input_name] = value
    needs_context = (
        has_context_arg(op_def)
        or bool(op_def.required_resource_keys)
        or op_def.config_schema.as_field().is_required
        or bool((op_run_config or {}).get("config"))
        or _has_config_param(op_def)
    )
    if needs_context:
        resources = {
            key: job.resource_defs[key]
            for key in op_def.required_resource_keys
            if key in job.resource_defs
        }
        op_context = build_op_context(
            resources=resources, op_config=(op_run_config or {}).get("config")
        )
        produced_outputs = _normalise(op_def(op_context, **kwargs), info.outputs)
    else:
        produced_outputs = _normalise(op_def(**kwargs), info.outputs)
    _follow_produced(ctx, job, info, produced_outputs)
    if len(info.outputs) == 1:
        return produced_outputs.get(info.outputs[0])
    return produced_outputs


def _has_config_param(op_def: Any) -> bool:
    from graflow_dagster._compat import decorated_fn

    fn = op_def.compute_fn
    check = getattr(fn, "has_config_arg", None)
    return bool(check()) if callable(check) and decorated_fn(op_def) is not None else False


def _follow_produced(ctx: Any, job: Any, info: _Node, produced: Mapping[str, Any]) -> None:
    """Skip the downstream ops that read an output this op did not produce (Dagster's skip)."""
    from graflow_core.core.task import Task

    if all(o in produced for o in info.outputs):
        return
    execution = ctx.execution_context
    graph = execution.graph
    followed = False
    for down, outs in info.downstream.items():
        if all(o in produced for o in outs):
            # in a step run (graflow-dagster/airflow ops) the successor is not in this graph:
            # a stand-in with its id is enough, the jump is by id
            target = graph.get_node(down) if graph.has_node(down) else Task(down, False)
            ctx.next_task(target, goto=True)
            followed = True
    if followed:
        return
    if getattr(execution, "run_scope", "workflow") == "step":
        # no successor runs: a jump to a new no-op task tells the step runtime so
        ctx.next_task(Task(f"{info.name}__no_outputs", False), goto=True)
    else:
        execution.goto_called = True  # natively: skip every static successor
