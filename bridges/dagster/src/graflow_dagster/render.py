"""Graflow workflows as Dagster jobs: :func:`to_dagster_job`, :func:`to_dagster_definitions`.

A workflow is planned as *steps* by the shared step runtime (:mod:`graflow_core.steps`): one
step per graflow task, one *join* step per parallel group, and -- for the dynamic parts the
static job cannot express -- steps that host the graflow engine (preflight reports which). Each
step becomes one Dagster op:

* **names**: the op is named by the task (or group) id, made valid for Dagster
  (:mod:`graflow_dagster.naming`); the original ids are in the op's tags (``graflow/step_id``,
  ``graflow/task_id``) together with the full task definitions (``graflow/tasks``), so
  :func:`graflow_dagster.job_to_spec` recovers the exact spec;
* **dependencies**: a task op has one input per upstream op (Dagster skips it when an upstream
  op was skipped, and does not run it when one failed); a group's join op has one fan-in input
  ``upstream`` that collects whatever its members produced;
* **data**: each op's output is the step's payload (``StepOutput.to_payload()``: the task
  results and channel writes of the op and its ancestors, large values by reference to the
  signed value store), passed by Dagster's IO manager;
* **branches** (``next_task(X, goto=True)``): an op that may jump has one optional output per
  downstream op and yields only the ones it follows -- the branches not taken show as skipped;
* **failures**: an op whose step fails yields the step's partial output
  (:func:`graflow_core.steps.failed_output`: the channel up to the failure) as its ``result``
  before it raises, so the run's final channel is the graflow engine's; the op still fails and
  Dagster runs no op downstream of it;
* **groups**: members fan out from the group's upstream op; a member that fails (after its last
  Dagster retry) emits a *failure payload* instead of failing the run, and the join op
  evaluates the group's policy (``strict`` fails the run, ``best_effort`` continues, ...);
* **retries**: the effective retry policy becomes the op's ``RetryPolicy`` (``delay`` =
  ``initial_interval``, ``Backoff.EXPONENTIAL`` when ``backoff_factor != 1``,
  ``Jitter.PLUS_MINUS`` for ``jitter``); each Dagster attempt is one graflow attempt;
* **params**: the run parameters (the initial channel) are the config of the job's ``graflow``
  resource (``{"resources": {"graflow": {"config": {"params": {...}}}}}``), defaulting to
  ``to_dagster_job(..., params=...)``;
* **run identity**: ``context.workflow_run_id`` is the Dagster run id in every op.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError, GraflowError
from graflow_dagster.naming import dagster_names, sanitize
from graflow_dagster.parse import (
    META_WORKFLOW,
    TAG_GROUPS,
    TAG_STEP_ID,
    TAG_TASK_ID,
    TAG_TASK_IDS,
    TAG_TASKS,
)

if TYPE_CHECKING:
    from graflow_core.spec import WorkflowSpec
    from graflow_core.steps import Step, StepPlan

#: The resource key holding the run's graflow settings (the params).
RESOURCE_KEY = "graflow"
#: The output of an op that is not a branch.
RESULT = "result"
#: The fan-in input of a group's join op.
UPSTREAM = "upstream"
#: Marker key of a failure payload (a group member that failed after its last attempt).
FAILED_MARKER = "graflow-step-failed"

TAG_KIND = "graflow/kind"
TAG_GROUP = "graflow/group"
TAG_RETRY = "graflow/retry"
TAG_TIMEOUT = "graflow/timeout"
TAG_HOSTS = "graflow/hosts"
TAG_WORKFLOW = "graflow/workflow"
TAG_VERSION = "graflow/version"

EXECUTORS = ("in_process", "multiprocess", "default")


def _as_spec(workflow_or_spec: Any, start_node: str | None) -> WorkflowSpec:
    from graflow_core.spec import WorkflowSpec, build_spec

    if isinstance(workflow_or_spec, WorkflowSpec):
        return workflow_or_spec
    if isinstance(workflow_or_spec, str) and not workflow_or_spec.lstrip().startswith("{"):
        from graflow_dagster.export import _resolve

        return _as_spec(_resolve(workflow_or_spec), start_node)  # "module:attr"
    if isinstance(workflow_or_spec, (str, bytes)):
        return WorkflowSpec.from_json(workflow_or_spec)
    if isinstance(workflow_or_spec, Mapping):
        return WorkflowSpec.from_dict(workflow_or_spec)
    if hasattr(workflow_or_spec, "graph"):
        return build_spec(workflow_or_spec, start_node=start_node)
    raise ConfigError(
        f"to_dagster_job() needs a graflow workflow, a WorkflowSpec (or its dict/JSON) or a "
        f"'module:attr' reference, got {type(workflow_or_spec).__name__}"
    )


def planned_dependencies(spec: WorkflowSpec, start_node: str | None = None) -> dict[str, set[str]]:
    """``{step_id: {upstream step ids}}`` of the job ``spec`` renders to."""
    from graflow_core.steps import plan_steps

    plan = plan_steps(spec, start_node=start_node or spec.start_node)
    return {s.id: set(s.upstream) for s in plan.steps}


# -- failure payloads --------------------------------------------------------------------------


def failure_payload(
    step_id: str, message: str, failed: Mapping[str, str], *, upstream: bool = False
) -> dict[str, Any]:
    """What a group member op emits when it fails for good: the failed step ids and messages;
    ``upstream`` when it did not run because a step before it in its member chain failed."""
    return {
        "format": FAILED_MARKER,
        "step": step_id,
        "error": message,
        "failed": dict(failed),
        "upstream": upstream,
    }


def is_failure(payload: Any) -> bool:
    """Whether an op output is a failure payload (see :func:`failure_payload`)."""
    return isinstance(payload, Mapping) and payload.get("format") == FAILED_MARKER


# -- the job -----------------------------------------------------------------------------------


@dataclass
class _Render:
    spec: WorkflowSpec
    plan: StepPlan
    names: dict[str, str]
    params: dict[str, Any]
    store: str | None
    inline_max: int | None
    start_node: str | None
    op_tags: dict[str, str] = field(default_factory=dict)
    plugins: tuple[object, ...] = ()


def _retry_policy(step: Step) -> Any:
    from dagster import Backoff, Jitter, RetryPolicy

    r = step.retry
    if r is None or r.max_retries <= 0:
        return None
    delay = r.initial_interval if r.initial_interval > 0 else None
    return RetryPolicy(
        max_retries=r.max_retries,
        delay=delay,
        backoff=Backoff.EXPONENTIAL if delay is not None and r.backoff_factor != 1 else None,
        jitter=Jitter.PLUS_MINUS if delay is not None and r.jitter else None,
    )


def _out_name(r: _Render, step_id: str, downstream: str) -> str:
    """The output of op ``step_id`` that feeds ``downstream``."""
    step = r.plan.step(step_id)
    return _branch_out(r, downstream) if step.branch_targets else RESULT


def _branch_out(r: _Render, target: str) -> str:
    """The output of a branch op that continues to step ``target``."""
    return f"to_{r.names[target]}"


def _outs(r: _Render, step: Step) -> dict[str, Any]:
    from dagster import Any as DagsterAny
    from dagster import Out

    if step.branch_targets:
        return {
            RESULT: Out(
                DagsterAny,
                is_required=False,
                description="the step's payload (always yielded; not read by other ops)",
            ),
            **{
                _branch_out(r, t): Out(
                    DagsterAny,
                    is_required=False,
                    description=f"the payload, when the branch continues to '{t}'",
                )
                for t in step.branch_targets
            },
        }
    return {
        RESULT: Out(
            DagsterAny,
            is_required=False,
            description="the step's payload (results and channel writes, large values by "
            "reference)",
        )
    }


def _ins(r: _Render, step: Step) -> dict[str, Any]:
    from dagster import Any as DagsterAny
    from dagster import In, List

    if not step.upstream:
        return {}
    if step.trigger != "all_success":
        return {UPSTREAM: In(List[DagsterAny], description="payloads of the upstream ops")}
    return {r.names[u]: In(DagsterAny, description=f"the payload of '{u}'") for u in step.upstream}


def _tags(r: _Render, step: Step) -> dict[str, str]:
    spec = r.spec
    tags: dict[str, str] = dict(r.op_tags)
    tags[TAG_STEP_ID] = step.id
    tags[TAG_KIND] = step.kind
    if len(step.task_ids) == 1:
        tags[TAG_TASK_ID] = step.task_ids[0]
    tags[TAG_TASK_IDS] = json.dumps(list(step.task_ids))
    tags[TAG_TASKS] = json.dumps([spec.task(t).to_dict() for t in step.task_ids])
    groups = [g.to_dict() for g in spec.groups if g.id == step.id]
    if r.plan.whole:
        groups = [g.to_dict() for g in spec.groups]
    tags[TAG_GROUPS] = json.dumps(groups)
    if step.group is not None:
        tags[TAG_GROUP] = step.group
    if step.retry is not None:
        tags[TAG_RETRY] = json.dumps(step.retry.to_dict())
    if step.timeout is not None:
        tags[TAG_TIMEOUT] = str(step.timeout)
    if step.hosts:
        tags[TAG_HOSTS] = ",".join(step.hosts)
    return tags


def _description(r: _Render, step: Step) -> str:
    if step.kind == "group":
        policy = step.policy.kind if step.policy is not None else "strict"
        return f"join of graflow parallel group '{step.id}' (policy {policy})"
    if r.plan.whole:
        return (
            f"the whole graflow workflow '{r.spec.name}' hosted in one op ("
            + "; ".join(str(x) for x in r.plan.reasons[:3])
            + ")"
        )
    td = r.spec.task(step.task_ids[0])
    what = f"graflow task '{td.id}' ({td.ref or 'placeholder'})"
    if step.hosts:
        what += f"; hosts {', '.join(step.hosts)} in this op"
    return what


def _gather_inputs(
    r: _Render, step: Step, inputs: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Upstream payloads and failures from the op's inputs."""
    payloads: list[Any] = []
    if step.trigger != "all_success":
        payloads = list(inputs.get(UPSTREAM) or [])
    else:
        payloads = [inputs[r.names[u]] for u in step.upstream if r.names[u] in inputs]
    upstream: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for p in payloads:
        if is_failure(p):
            failed.update(p["failed"])
        elif isinstance(p, Mapping) and "step" in p:
            upstream[str(p["step"])] = p
    return upstream, failed


def _compute_fn(r: _Render, step: Step) -> Any:
    from dagster import Output

    from graflow_dagster._compat import retry_number, run_id

    in_group = step.group is not None
    max_retries = step.retry.max_retries if step.retry is not None else 0

    def compute(context, inputs):  # type: ignore[no-untyped-def]  # Dagster reads the hints
        from graflow_core.steps import (
            FAILED_OUTPUT_ATTR,
            StepInputs,
            StepSkipped,
            UpstreamFailed,
            run_step,
        )

        resource = getattr(context.resources, RESOURCE_KEY)
        params = dict(resource.get("params") or {}) if isinstance(resource, Mapping) else {}
        upstream, failed = _gather_inputs(r, step, inputs)
        # a fan-in input leaves out what Dagster skipped (a branch not taken)
        skipped = [u for u in step.upstream if u not in upstream and u not in failed]
        attempt = retry_number(context) + 1
        step_inputs = StepInputs(
            params=params, upstream=upstream, failed=failed, skipped=skipped, attempt=attempt
        )
        try:
            out = run_step(
                r.spec,
                step.id,
                step_inputs,
                workflow_run_id=run_id(context),
                store=r.store,
                inline_max=r.inline_max,
                start_node=r.start_node,
                plugins=r.plugins,
            )
        except StepSkipped as exc:
            context.log.info(f"graflow: {exc}")
            return
        except Exception as exc:
            upstream_failed = isinstance(exc, UpstreamFailed)
            if not in_group:
                partial = getattr(exc, FAILED_OUTPUT_ATTR, None)
                if partial is not None:  # what it wrote until it failed; downstream ops
                    # still do not run (the op fails), graflow_result reads it
                    yield Output(partial, RESULT, metadata={"graflow_status": "failed"})
                raise
            if not upstream_failed and attempt <= max_retries:
                raise
            message = f"{type(exc).__name__}: {exc}"
            context.log.error(
                f"graflow: step '{step.id}' of group '{step.group}' failed for good ({message});"
                " the group's join applies its policy"
            )
            payload = failure_payload(
                step.id, message, {**failed, step.id: message}, upstream=upstream_failed
            )
            for name in _outs(r, step):
                yield Output(payload, name, metadata={"graflow_status": "failed"})
            return
        payload = out.to_payload()
        follow = out.follow
        if step.branch_targets:
            yield Output(payload, RESULT, metadata={"graflow_status": "success"})
            targets = step.branch_targets if follow is None else follow
            for t in targets:
                yield Output(payload, _branch_out(r, t), metadata={"graflow_status": "success"})
            if follow is not None:
                skipped = [t for t in step.branch_targets if t not in follow]
                if skipped:
                    context.log.info(f"graflow: branch skips {', '.join(skipped)}")
            return
        if follow is not None and not follow and out.terminated:
            context.log.info("graflow: the workflow was terminated by this step")
        yield Output(payload, RESULT, metadata={"graflow_status": "success"})

    return compute


def _graflow_resource(params: Mapping[str, Any]) -> Any:
    from dagster import Field, Permissive, resource

    defaults = dict(params)

    @resource(
        config_schema={
            "params": Field(
                Permissive(),
                default_value=dict(params),
                description="the run parameters (graflow's initial channel)",
            )
        },
        description="settings of a graflow workflow run (params = initial channel)",
    )
    def graflow(init_context: Any) -> dict[str, Any]:
        given = dict(init_context.resource_config.get("params") or {})
        return {"params": {**defaults, **given}}  # a run's params override the defaults

    return graflow


def _workflow_meta(r: _Render, job_name: str) -> dict[str, Any]:
    data = r.spec.to_dict()
    tasks = data.pop("tasks")
    groups = data.pop("groups")
    covered_tasks = {t for s in r.plan.steps for t in s.task_ids}
    covered_groups = (
        {g["id"] for g in groups}
        if r.plan.whole
        else {s.id for s in r.plan.steps if s.kind == "group"}
    )
    data["task_order"] = [t["id"] for t in tasks]
    data["group_order"] = [g["id"] for g in groups]
    data["other_tasks"] = [t for t in tasks if t["id"] not in covered_tasks]
    data["other_groups"] = [g for g in groups if g["id"] not in covered_groups]
    data["plan_start"] = r.start_node
    data["job"] = job_name
    return data


def _executor(name: str | None) -> Any:
    if name in (None, "default"):
        return None
    from dagster import in_process_executor, multiprocess_executor

    if name == "in_process":
        return in_process_executor
    if name == "multiprocess":
        return multiprocess_executor
    raise ConfigError(f"executor={name!r}: use one of {', '.join(EXECUTORS)}")


def to_dagster_job(
    workflow_or_spec: Any,
    name: str | None = None,
    *,
    start_node: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    op_tags: Mapping[str, str] | None = None,
    description: str | None = None,
    executor: str | None = None,
    store: str | None = None,
    inline_max: int | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    plugins: Sequence[object] = (),
    check: bool = True,
) -> Any:
    """A :class:`dagster.JobDefinition` running ``workflow_or_spec`` one op per graflow step.

    Args:
        workflow_or_spec: a workflow (``WorkflowContext``), a ``WorkflowSpec`` or its dict/JSON,
            or a ``"module:attr"`` reference to a workflow or a function returning one.
            Its tasks must be importable by reference when the job runs in other processes
            (Dagster's multiprocess executor, ``dagster job execute``).
        name: the job's name (default: the workflow's name, made valid for Dagster).
        start_node: the start task (default: the spec's).
        params: default run parameters (the initial channel); a run overrides them with the
            ``graflow`` resource's config.
        tags: extra job tags; ``op_tags``: tags added to every op.
        description: the job's description.
        executor: ``"in_process"``, ``"multiprocess"`` or ``None`` (Dagster's default).
        store: where values too large to travel inline go (a directory or fsspec URL shared by
            every op process; default ``GRAFLOW_STEP_STORE`` or a temp directory).
        inline_max: values larger than this many bytes go to the store.
        resource_defs: more resources for the job.
        plugins: graflow hook implementations for every op's run (``run_step(plugins=...)``);
            they must exist in each op's process (define them where the job is defined).
        check: run :func:`graflow_core.spec.preflight` for the ``dagster`` target first and
            raise :class:`~graflow_core.spec.PreflightError` on errors.

    Returns:
        The job; ``job.execute_in_process(run_config={"resources": {"graflow": {"config":
        {"params": {...}}}}})`` runs it.
    """
    from dagster import (
        DependencyDefinition,
        GraphDefinition,
        MetadataValue,
        MultiDependencyDefinition,
    )

    from graflow_core.steps import plan_steps
    from graflow_dagster._compat import check_version, make_op

    check_version()
    spec = _as_spec(workflow_or_spec, start_node)
    start = start_node or spec.start_node
    if check:
        from graflow_core.spec import preflight
        from graflow_dagster.plugin import capabilities

        preflight(spec, capabilities()).raise_for_errors()
    plan = plan_steps(spec, start_node=start)
    r = _Render(
        spec=spec,
        plan=plan,
        names=dagster_names(s.id for s in plan.steps),
        params=dict(params or {}),
        store=store,
        inline_max=inline_max,
        start_node=start,
        op_tags={str(k): str(v) for k, v in (op_tags or {}).items()},
        plugins=tuple(plugins),
    )
    ops = []
    deps: dict[str, dict[str, Any]] = {}
    for step in plan.steps:
        op_name = r.names[step.id]
        ops.append(
            make_op(
                op_name,
                _compute_fn(r, step),
                ins=_ins(r, step),
                outs=_outs(r, step),
                description=_description(r, step),
                tags=_tags(r, step),
                retry_policy=_retry_policy(step),
                required_resource_keys={RESOURCE_KEY},
            )
        )
        if not step.upstream:
            continue
        sources = [
            DependencyDefinition(r.names[u], _out_name(r, u, step.id)) for u in step.upstream
        ]
        if step.trigger != "all_success":
            deps[op_name] = {UPSTREAM: MultiDependencyDefinition(sources)}
        else:
            deps[op_name] = {r.names[u]: src for u, src in zip(step.upstream, sources, strict=True)}
    job_name = sanitize(name or spec.name)
    graph = GraphDefinition(
        name=job_name,
        node_defs=ops,
        dependencies=deps,
        description=description or f"graflow workflow '{spec.name}'",
    )
    job_tags = {TAG_WORKFLOW: spec.name, **({TAG_VERSION: spec.version} if spec.version else {})}
    job_tags.update({str(k): str(v) for k, v in (tags or {}).items()})
    resources = {RESOURCE_KEY: _graflow_resource(r.params), **dict(resource_defs or {})}
    kwargs: dict[str, Any] = {}
    executor_def = _executor(executor)
    if executor_def is not None:
        kwargs["executor_def"] = executor_def
    return graph.to_job(
        name=job_name,
        resource_defs=resources,
        tags=job_tags,
        metadata={META_WORKFLOW: MetadataValue.json(_workflow_meta(r, job_name))},
        **kwargs,
    )


def to_dagster_definitions(*workflows: Any, **options: Any) -> Any:
    """A :class:`dagster.Definitions` (a code location) with one job per workflow.

    Each argument is a workflow, a ``WorkflowSpec`` or an already rendered job; ``options`` go
    to :func:`to_dagster_job`. Job names must be unique.
    """
    from dagster import Definitions, JobDefinition

    jobs = []
    seen: dict[str, Any] = {}
    for wf in workflows:
        job = wf if isinstance(wf, JobDefinition) else to_dagster_job(wf, **options)
        if job.name in seen:
            raise ConfigError(
                f"two workflows render to the Dagster job name '{job.name}'; pass name=... "
                "(render them with to_dagster_job(wf, name=...) first)"
            )
        seen[job.name] = job
        jobs.append(job)
    return Definitions(jobs=jobs)


# -- results of a run --------------------------------------------------------------------------


@dataclass
class GraflowDagsterResult:
    """The graflow view of a Dagster run of a rendered job (see :func:`graflow_result`)."""

    #: What ``wf.execute()`` returns natively: the result of the last step (plan order).
    result: Any
    #: The final channel without ``"<task>.__result__"`` keys is ``user_channel``; this is all.
    channel: dict[str, Any]
    #: ``{task_id: result}`` of every task that ran.
    results: dict[str, Any]
    #: Step ids whose op produced no payload (skipped), or a failure payload or the partial
    #: output of a failed step (failed).
    skipped: list[str]
    failed: list[str]
    #: Of ``failed``: group members that did not run because an earlier step of their member
    #: chain failed (natively they never start).
    upstream_failed: list[str] = field(default_factory=list)


def graflow_result(run_result: Any, job: Any, params: Mapping[str, Any] | None = None) -> Any:
    """Read a rendered job's run (``execute_in_process()`` result) as graflow sees a run.

    Returns a :class:`GraflowDagsterResult`: the workflow's result, its final channel (the run
    params overlaid with every successful step's writes and with what a failed op wrote until
    it failed -- its partial output, the failing task's exception result included, as in the
    graflow engine's channel; writes of failed group members dropped), each task's result,
    and the steps that were skipped or failed.
    """
    from graflow_core.steps import StepOutput, final_channel, final_result

    outputs: list[Any] = []
    skipped: list[str] = []
    failed: list[str] = []
    upstream_failed: list[str] = []
    for node in job.graph.nodes_in_topological_order:
        step_id = node.definition.tags.get(TAG_STEP_ID, node.name)
        payload = None
        names = [o.name for o in node.definition.output_defs]
        for name in sorted(names, key=lambda n: n != RESULT):  # "result" first
            try:
                payload = run_result.output_for_node(node.name, name)
            except Exception:
                continue
            break
        if payload is None:
            skipped.append(step_id)
        elif is_failure(payload):
            failed.append(step_id)
            if payload.get("upstream"):
                upstream_failed.append(step_id)
        else:
            output = StepOutput.from_payload(payload)
            if output.error is not None:  # the partial output of an op that failed
                failed.append(step_id)
            outputs.append(output)
    if params is None:
        params = _run_params(run_result, job)
    results: dict[str, Any] = {}
    for o in sorted(outputs, key=lambda o: o.index):
        results.update(o.results)
    return GraflowDagsterResult(
        result=final_result(outputs),
        channel=final_channel(params, outputs),
        results=results,
        skipped=skipped,
        failed=failed,
        upstream_failed=upstream_failed,
    )


def _run_params(run_result: Any, job: Any) -> dict[str, Any]:
    run_config = getattr(getattr(run_result, "dagster_run", None), "run_config", None) or {}
    given = (((run_config.get("resources") or {}).get(RESOURCE_KEY) or {}).get("config") or {}).get(
        "params"
    )
    resource = job.resource_defs.get(RESOURCE_KEY)
    schema = getattr(resource, "config_schema", None)
    try:
        defaults = dict(schema.as_field().default_value["params"])  # type: ignore[union-attr]
    except Exception:
        defaults = {}
    return {**defaults, **dict(given or {})}


# -- assets ------------------------------------------------------------------------------------


def to_dagster_assets(
    workflow_or_spec: Any,
    *,
    start_node: str | None = None,
    key_prefix: Sequence[str] | str | None = None,
    group_name: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[Any]:
    """One software-defined asset per task, for workflows whose tasks produce named data.

    The asset is named by the task id and holds the task's *result*; its upstream assets are
    the task's upstream tasks, and a task receives their results by keyword resolution (a
    parameter named like an upstream task). Only plain data-flow workflows qualify: no parallel
    groups, branches, hosted parts or channel use, and every task parameter naming a task must
    name a direct upstream one -- otherwise :class:`GraflowError` says what to use instead
    (:func:`to_dagster_job`). Run parameters come from ``params`` (and the ``graflow``
    resource's config).
    """
    from dagster import AssetIn, AssetKey, AssetsDefinition, Field, Permissive, asset

    from graflow_core.steps import plan_steps

    spec = _as_spec(workflow_or_spec, start_node)
    plan = plan_steps(spec, start_node=start_node or spec.start_node)
    task_ids = {t.id for t in spec.tasks}
    problems: list[str] = []
    for step in plan.steps:
        if step.kind != "task" or step.branch_targets:
            problems.append(
                f"'{step.id}' is a {step.kind}{' branch' if step.branch_targets else ''}"
            )
            continue
        td = spec.task(step.id)
        if {"channels", "typed_channels"} & set(td.features):
            problems.append(f"task '{td.id}' uses the channel")
        for p in td.parameters:
            if p in task_ids and p not in step.upstream:
                problems.append(f"task '{td.id}' reads '{p}', which is not a direct upstream task")
    if problems:
        raise GraflowError(
            f"workflow '{spec.name}' cannot be rendered as assets: {'; '.join(problems)}. "
            "Render it with to_dagster_job() instead"
        )
    names = dagster_names(s.id for s in plan.steps)
    prefix = [key_prefix] if isinstance(key_prefix, str) else list(key_prefix or [])
    start = start_node or spec.start_node
    defaults = dict(params or {})
    assets: list[AssetsDefinition] = []
    index_of = {s.id: s.index for s in plan.steps}
    for step in plan.steps:
        ins = {names[u]: AssetIn(key=AssetKey([*prefix, names[u]])) for u in step.upstream}

        compute = _asset_compute(spec, step, names, index_of, start)
        td = spec.task(step.id)
        assets.append(
            asset(
                name=names[step.id],
                key_prefix=prefix or None,
                ins=ins,
                group_name=group_name,
                description=f"result of graflow task '{td.id}' ({td.ref})",
                config_schema={
                    "params": Field(
                        Permissive(),
                        default_value=defaults,
                        description="the run parameters (graflow's initial channel)",
                    )
                },
                tags={"graflow/task_id": sanitize(td.id)},
                metadata={"graflow/task": json.dumps(td.to_dict())},
                retry_policy=_retry_policy(step),
            )(compute)
        )
    return assets


def _asset_compute(
    spec: WorkflowSpec,
    step: Step,
    names: Mapping[str, str],
    index_of: Mapping[str, int],
    start: str | None,
) -> Any:
    """The compute function of one task's asset: upstream results in, the task's result out."""
    from dagster import Output

    from graflow_core.steps import StepInputs, StepOutput, run_step, value_store
    from graflow_dagster._compat import op_config, run_id

    by_name = {names[u]: u for u in step.upstream}

    def compute(context, **upstream_values):  # type: ignore[no-untyped-def]  # Dagster reads hints
        store = value_store()
        the_run = run_id(context)
        upstream = {}
        for name, value in upstream_values.items():
            uid = by_name[name]
            entry = store.encode(value, run=the_run)
            upstream[uid] = StepOutput(
                step_id=uid,
                index=index_of[uid],
                state={f"{uid}.__result__": [index_of[uid], *entry]},
                task_ids=(uid,),
                workflow_run_id=the_run,
            ).to_payload()
        params = dict(op_config(context).get("params") or {})
        out = run_step(
            spec,
            step.id,
            StepInputs(params=params, upstream=upstream),
            workflow_run_id=the_run,
            start_node=start,
        )
        return Output(out.result, metadata={"graflow_task_id": step.id})

    return compute


__all__ = [
    "GraflowDagsterResult",
    "failure_payload",
    "graflow_result",
    "is_failure",
    "planned_dependencies",
    "to_dagster_assets",
    "to_dagster_definitions",
    "to_dagster_job",
]
