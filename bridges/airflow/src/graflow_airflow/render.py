"""Per-task rendering: a graflow workflow as an Airflow DAG with one Airflow task per graflow step.

::

    from graflow_airflow import to_airflow_dag

    dag = to_airflow_dag(wf, dag_id="etl", schedule="@daily", tags=["graflow"])

The DAG is rendered from the workflow's spec (:func:`graflow_core.spec.build_spec`) through the
core's step plan (:func:`graflow_core.steps.plan_steps`): every step becomes a
:class:`GraflowTaskOperator` whose ``execute`` runs the step with
:func:`graflow_core.steps.run_step` in the worker. Airflow features carry the graflow features:

* edges → upstream/downstream; a parallel group → fan-out to its members and fan-in at the
  group's join task (members in a ``TaskGroup`` with ``task_groups=True``, the default);
* a group policy → the trigger rule the plan chose (``all_success`` for ``strict``;
  ``all_done`` and the policy evaluated by the join task for the others);
* a retry policy (the task's, else the workflow's) → ``retries``, ``retry_delay``,
  ``retry_exponential_backoff`` (the backoff factor) and ``max_retry_delay``; a timeout →
  ``execution_timeout``;
* ``goto`` to static successors → :class:`GraflowBranchTaskOperator` (Airflow's ``BranchMixIn``):
  the successors not taken are marked ``skipped``;
* what a static DAG cannot express (``next_task`` to new tasks, ``next_iteration``, cycles,
  ``terminate``/``cancel``) runs inside one Airflow task hosting the graflow engine; a workflow
  that is hosted as a whole becomes one :class:`~graflow_airflow.operator.GraflowOperator`,
  which resumes from its checkpoints when Airflow retries it.

Data passing: a step's :class:`~graflow_core.steps.StepOutput` payload (results and channel
writes; large values stored by reference in a signed value store) is the XCom
:data:`PAYLOAD_KEY` of its task; downstream tasks pull the payloads of their upstream tasks. The
plain result of the step's task is also the task's ``return_value`` XCom (when XCom can hold it),
so Airflow users can ``xcom_pull`` it as usual. A step that fails pushes its partial output
(the channel up to the failure) as :data:`FAILED_PAYLOAD_KEY` before it fails; downstream tasks
never read it. The DAG run's ``conf`` is the run's parameters
(the initial channel), and ``context.workflow_run_id`` is ``"<dag_id>/<run_id>"``.

Every rendered operator carries its step and the workflow spec (``graflow_step``,
``graflow_spec``); :func:`spec_from_rendered_dag` reads the spec back, deriving the edges,
groups and retry settings from the DAG itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, BaseOperator, TaskGroup

from graflow_airflow._compat import BranchMixIn
from graflow_core.exceptions import ConfigError

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import RetryDef, WorkflowSpec
    from graflow_core.steps import Step, StepPlan

__all__ = [
    "FAILED_PAYLOAD_KEY",
    "PAYLOAD_KEY",
    "RESULT_KEY_PREFIX",
    "GraflowBranchTaskOperator",
    "GraflowTaskOperator",
    "RenderError",
    "spec_from_rendered_dag",
    "to_airflow_dag",
]

#: XCom key of a step's output payload (what downstream graflow tasks read).
PAYLOAD_KEY = "graflow.step"
#: XCom key of a failed step's partial output (:func:`graflow_core.steps.failed_output`: the
#: channel up to the failure, the failing task's writes and exception result included). Pushed
#: before the task fails; downstream tasks never read it (only ``graflow.step``), the run's
#: final channel does (:func:`graflow_airflow.local.run_workflow`).
FAILED_PAYLOAD_KEY = "graflow.step_failed"
#: XCom key prefix of the result of each graflow task a step ran (``graflow.result.<task_id>``),
#: pushed when a step runs several graflow tasks (a hosted part).
RESULT_KEY_PREFIX = "graflow.result."

_TASK_ID_BAD = re.compile(r"[^A-Za-z0-9_.-]")


class RenderError(ConfigError):
    """A workflow (or spec) cannot be rendered as an Airflow DAG, or a DAG read back."""


# -- run time -----------------------------------------------------------------------------------


def _push(operator: BaseOperator, ti: Any, key: str, value: Any) -> bool:
    """Push one XCom; a value Airflow cannot serialise is logged and skipped."""
    try:
        ti.xcom_push(key=key, value=value)
    except Exception as exc:  # Airflow's serialiser refuses the value's type
        operator.log.warning(
            "XCom %r not pushed (%s: %s); downstream graflow tasks still get the value "
            "through the step payload",
            key,
            type(exc).__name__,
            exc,
        )
        return False
    return True


class GraflowTaskOperator(BaseOperator):
    """One step of a graflow workflow: runs its graflow task(s) in the worker.

    Created by :func:`to_airflow_dag`; not meant to be instantiated by hand.

    Args:
        graflow_spec: The workflow's spec (shared by every operator of the DAG).
        graflow_step: The :class:`graflow_core.steps.Step` this task runs.
        graflow_options: What the step needs at run time besides its spec and step: the
            Airflow task id of every step (``step_task_ids``) and the ``start_node``.
        **kwargs: ``BaseOperator`` arguments (``task_id``, ``retries``, ``trigger_rule`` ...).
    """

    ui_color = "#e6f1ff"

    def __init__(
        self,
        *,
        graflow_spec: WorkflowSpec,
        graflow_step: Step,
        graflow_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.graflow_spec = graflow_spec
        self.graflow_step = graflow_step
        self.graflow_options = dict(graflow_options or {})

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        """Copies (DAG subsets when clearing, task copies) share the one spec object, so a
        worker loads the workflow once."""
        memo[id(self.graflow_spec)] = self.graflow_spec
        return super().__deepcopy__(memo)

    # upstream payloads -> inputs -> run_step -> payload + readable results
    def _upstream_payloads(self, context: Any) -> dict[str, Any]:
        """``{upstream step id: its payload}`` of the upstream steps that pushed one."""
        ti = context["ti"]
        found: dict[str, Any] = {}
        task_of = self.graflow_options.get("step_task_ids", {})
        for step_id in self.graflow_step.upstream:
            payload = ti.xcom_pull(task_ids=task_of.get(step_id, step_id), key=PAYLOAD_KEY)
            if payload is not None:
                found[step_id] = payload
        return found

    def _inputs(self, context: Any, upstream: dict[str, Any] | None = None) -> Any:
        """The step's :class:`~graflow_core.steps.StepInputs` from the upstream XComs
        (``upstream``: the payloads when pulled already)."""
        from graflow_core.steps import StepInputs

        ti = context["ti"]
        params = run_parameters(context)
        if upstream is None:
            upstream = self._upstream_payloads(context)
        task_of = self.graflow_options.get("step_task_ids", {})
        missing = {
            step_id: task_of.get(step_id, step_id)
            for step_id in self.graflow_step.upstream
            if step_id not in upstream
        }
        failed: dict[str, str] = {}
        skipped: list[str] = []
        if missing:
            states = _task_states(ti, context, list(missing.values()))
            for step_id, task_id in missing.items():
                state = states.get(task_id)
                if state == "skipped":
                    skipped.append(step_id)
                else:
                    failed[step_id] = f"Airflow task '{task_id}' ended {state or 'without output'}"
        return StepInputs(
            params=params,
            upstream=upstream,
            failed=failed,
            skipped=skipped,
            attempt=int(getattr(ti, "try_number", 1) or 1),
        )

    def run_graflow_step(self, context: Any) -> Any:
        """Run the step with :func:`graflow_core.steps.run_step`; push its XComs; its output."""
        from graflow_airflow._compat import AirflowFailException, AirflowSkipException
        from graflow_core.steps import FAILED_OUTPUT_ATTR, StepSkipped, UpstreamFailed, run_step

        ti = context["ti"]
        run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "?")
        step = self.graflow_step
        self.log.info(
            "graflow workflow %r, step %r (%s: %s)",
            self.graflow_spec.name,
            step.id,
            step.kind,
            ", ".join(step.task_ids) or "join of the group's members",
        )
        payloads = self._upstream_payloads(context)
        skipped_by = _not_following(payloads, step.id)
        if skipped_by:
            # A branch that did not follow this step: Airflow's branch skip leaves alone a task
            # that is also downstream of a chosen branch (a join), the step plan skips it.
            raise AirflowSkipException(
                f"Step '{step.id}' is skipped: {', '.join(skipped_by)} did not follow it (goto)"
            )
        try:
            output = run_step(
                self.graflow_spec,
                self.graflow_step.id,
                self._inputs(context, payloads),
                workflow_run_id=f"{ti.dag_id}/{run_id}",
                start_node=self.graflow_options.get("start_node"),
            )
        except StepSkipped as exc:
            raise AirflowSkipException(str(exc)) from exc
        except UpstreamFailed as exc:  # retrying cannot help
            raise AirflowFailException(str(exc)) from exc
        except Exception as exc:  # keep what the step wrote until it failed, then fail
            partial = getattr(exc, FAILED_OUTPUT_ATTR, None)
            if partial is not None:
                _push(self, ti, FAILED_PAYLOAD_KEY, partial)
            raise
        ti.xcom_push(key=PAYLOAD_KEY, value=output.to_payload())
        if self.graflow_step.kind == "group":
            return output
        results = output.results
        if len(output.task_ids) > 1:  # a hosted step ran tasks it added at run time
            for task_id, value in results.items():
                _push(self, ti, f"{RESULT_KEY_PREFIX}{task_id}", value)
        if output.task_ids:
            _push(self, ti, "return_value", output.result)
        return output

    def execute(self, context: Any) -> None:
        """Run the step (the result is pushed as XCom ``return_value`` by the step itself)."""
        self.run_graflow_step(context)


class GraflowBranchTaskOperator(GraflowTaskOperator, BranchMixIn):
    """A step that may ``goto`` one of its static successors: the others are skipped.

    After the step ran, the successors it follows (``StepOutput.follow``: step ids, or ``None``
    for all) are kept and every other direct downstream task is marked ``skipped`` through
    Airflow's ``BranchMixIn`` (what ``BranchPythonOperator`` uses), so the UI shows the branch
    not taken as skipped and tasks behind it are skipped by their trigger rules.
    """

    inherits_from_skipmixin = True
    ui_color = "#ffefdb"

    def execute(self, context: Any) -> None:
        output = self.run_graflow_step(context)
        follow = getattr(output, "follow", None)
        step_tasks = self.graflow_options.get("step_task_ids", {})
        if follow is None:
            chosen = [t.task_id for t in self.downstream_list]
        else:
            chosen = [step_tasks.get(s, s) for s in follow]
        self.do_branch(context, chosen)


def _not_following(upstream: Mapping[str, Any], step_id: str) -> list[str]:
    """The upstream steps whose output names the steps it follows (a ``goto``) without
    ``step_id``: the step plan skips ``step_id`` then (``graflow_core.steps.run_plan``)."""
    out = []
    for up, payload in upstream.items():
        follow = payload.get("follow") if isinstance(payload, Mapping) else None
        if follow is not None and step_id not in follow:
            out.append(up)
    return out


def run_parameters(context: Mapping[str, Any]) -> dict[str, Any]:
    """The run's parameters (graflow's initial channel): the DAG's ``params`` (their defaults),
    overridden by the DAG run's ``conf``."""
    params = context.get("params") or {}
    values = {key: params[key] for key in params}
    conf = getattr(context.get("dag_run"), "conf", None)
    if conf:
        values.update(conf)
    return values


def _task_states(ti: Any, context: Any, task_ids: list[str]) -> dict[str, str]:
    """``{task_id: state}`` of tasks of this DAG run (through the execution API)."""
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", None)
    try:
        found = ti.get_task_states(dag_id=ti.dag_id, task_ids=task_ids, run_ids=[run_id])
    except Exception as exc:  # an older Task SDK without the call: treat as failed
        ti.task.log.warning("cannot read upstream task states (%s); treating them as failed", exc)
        return {}
    states = found.get(run_id, found) if isinstance(found, Mapping) else {}
    return {str(k): str(getattr(v, "value", v)) for k, v in dict(states).items()}


# -- rendering ----------------------------------------------------------------------------------


def _seconds(delta: Any) -> float:
    if isinstance(delta, timedelta):
        return delta.total_seconds()
    return float(delta or 0)


def retry_arguments(retry: RetryDef | None) -> dict[str, Any]:
    """The ``BaseOperator`` retry arguments for a graflow retry policy (``None``: no retries).

    ``retry_exponential_backoff`` is the backoff factor (Airflow >= 3.2 takes a multiplier; 0
    when the factor is 1); graflow's ``jitter`` has no Airflow counterpart.
    """
    if retry is None or retry.max_retries <= 0:
        return {"retries": 0}
    from graflow_airflow._compat import exponential_backoff_argument

    return {
        "retries": retry.max_retries,
        "retry_delay": timedelta(seconds=retry.initial_interval),
        "retry_exponential_backoff": exponential_backoff_argument(retry.backoff_factor),
        "max_retry_delay": timedelta(seconds=retry.max_interval),
    }


def _unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3`` ... whichever is not in ``taken`` (then added)."""
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate


def _task_ids(steps: Sequence[Step]) -> dict[str, str]:
    """A valid, unique Airflow task_id per step id (invalid characters become ``_``)."""
    taken: set[str] = set()
    return {s.id: _unique(_TASK_ID_BAD.sub("_", s.id)[:250] or "step", taken) for s in steps}


def _as_spec(workflow_or_spec: Any, start_node: str | None) -> WorkflowSpec:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import WorkflowSpec, build_spec

    if isinstance(workflow_or_spec, WorkflowSpec):
        return workflow_or_spec
    if isinstance(workflow_or_spec, WorkflowContext):
        return build_spec(workflow_or_spec, start_node=start_node)
    if isinstance(workflow_or_spec, (str, bytes)):
        return WorkflowSpec.from_json(workflow_or_spec)
    if isinstance(workflow_or_spec, Mapping):
        return WorkflowSpec.from_dict(workflow_or_spec)
    raise RenderError(
        f"to_airflow_dag() needs a workflow (WorkflowContext), a WorkflowSpec or its JSON/dict, "
        f"got {type(workflow_or_spec).__name__}"
    )


def _hosted_operator(
    workflow_or_spec: Any, spec: WorkflowSpec, reference: str | None, **kwargs: Any
) -> BaseOperator:
    """A GraflowOperator running the whole (hosted) workflow, resumable on Airflow retries."""
    from graflow_airflow.operator import GraflowOperator
    from graflow_core.core.workflow import WorkflowContext

    workflow: Any = reference or workflow_or_spec
    if not (reference or isinstance(workflow, WorkflowContext)):  # a spec: load it when run
        from functools import partial

        from graflow_core.spec import load_workflow

        workflow = partial(load_workflow, spec)
    op = GraflowOperator(workflow=workflow, start_node=spec.start_node, **kwargs)
    op.graflow_spec = spec
    return op


def _group_ids(plan: StepPlan, task_ids: Mapping[str, str]) -> dict[str, str]:
    """A TaskGroup id per parallel group, distinct from every task id."""
    taken = set(task_ids.values())
    return {
        s.id: _unique(f"{task_ids[s.id]}_members", taken) for s in plan.steps if s.kind == "group"
    }


def _doc_md(spec: WorkflowSpec, plan: StepPlan) -> str:
    """The DAG's documentation in the UI: what it runs, and which parts run hosted and why."""
    lines = [
        f"**graflow workflow `{spec.name}`**: {len(spec.tasks)} graflow tasks in "
        f"{len(plan.steps)} Airflow tasks (rendered by graflow-airflow; run parameters: the "
        "DAG's params, overridden by the run conf)."
    ]
    if plan.reasons:
        lines.append("")
        lines.append("Hosted inside one Airflow task (the graflow engine runs them):")
        lines.extend(f"- {reason.message}" for reason in plan.reasons)
    return "\n".join(lines)


def to_airflow_dag(
    workflow_or_spec: WorkflowContext | WorkflowSpec | str | Mapping[str, Any],
    dag_id: str | None = None,
    schedule: Any = None,
    *,
    start_node: str | None = None,
    task_groups: bool = True,
    reference: str | None = None,
    default_args: Mapping[str, Any] | None = None,
    **dag_kwargs: Any,
) -> DAG:
    """Render a workflow as an Airflow DAG with one Airflow task per graflow step.

    Args:
        workflow_or_spec: A ``WorkflowContext``, a ``WorkflowSpec`` or the spec's JSON / dict.
        dag_id: The DAG's id (default: the workflow's name with invalid characters replaced).
        schedule: The DAG's schedule (``None``: triggered runs only).
        start_node: The start task when the workflow has several tasks without predecessors.
        task_groups: Put the members of each parallel group into an Airflow ``TaskGroup``
            (``<group>_members``; the group's join task follows it).
        reference: ``"module:attr"`` of the workflow (DAG files set it); a fully hosted
            workflow's ``GraflowOperator`` then imports it when the task runs.
        default_args: ``default_args`` of the DAG; each task's graflow retry and timeout
            settings override theirs.
        **dag_kwargs: Everything else ``airflow.sdk.DAG`` takes (``tags``, ``params``,
            ``start_date``, ``catchup``, ``max_active_tasks`` ...).

    Returns:
        The ``airflow.sdk.DAG``. ``preflight(spec, "airflow")`` says beforehand what runs
        hosted and what is emulated.

    Raises:
        RenderError: the input is not a workflow or spec, or cannot be planned.
    """
    from graflow_airflow.dagfile import default_dag_id
    from graflow_core.steps import StepPlanError, plan_steps

    spec = _as_spec(workflow_or_spec, start_node)
    try:
        plan: StepPlan = plan_steps(spec, start_node=start_node)
    except StepPlanError as exc:
        raise RenderError(f"cannot render workflow '{spec.name}' as a DAG: {exc}") from exc
    the_id = dag_id or default_dag_id(spec.name)
    dag_kwargs.setdefault("tags", ["graflow"])
    version = f" {spec.version}" if spec.version else ""
    dag_kwargs.setdefault("description", f"graflow workflow '{spec.name}'{version}")
    dag_kwargs.setdefault("doc_md", _doc_md(spec, plan))
    dag = DAG(the_id, schedule=schedule, default_args=dict(default_args or {}), **dag_kwargs)
    if plan.whole:
        step = plan.steps[0]
        _hosted_operator(
            workflow_or_spec,
            spec,
            reference,
            task_id=_TASK_ID_BAD.sub("_", spec.name)[:250] or step.id,
            dag=dag,
        )
        return dag
    task_ids = _task_ids(plan.steps)
    group_ids = _group_ids(plan, task_ids) if task_groups else {}
    options = {"step_task_ids": task_ids, "start_node": start_node}
    groups: dict[str, TaskGroup] = {}
    parent_of = {s.id: s.group for s in plan.steps if s.kind == "group"}

    def task_group(group_id: str | None) -> TaskGroup | None:
        if group_id is None or group_id not in group_ids:
            return None
        found = groups.get(group_id)
        if found is None:
            found = TaskGroup(
                group_id=group_ids[group_id],
                prefix_group_id=False,
                parent_group=task_group(parent_of.get(group_id)),
                dag=dag,
                tooltip=f"members of graflow parallel group '{group_id}'",
            )
            found.graflow_group_id = group_id  # type: ignore[attr-defined]
            groups[group_id] = found
        return found

    operators: dict[str, BaseOperator] = {}
    for step in plan.steps:
        cls = GraflowBranchTaskOperator if step.branch_targets else GraflowTaskOperator
        kwargs: dict[str, Any] = {
            "task_id": task_ids[step.id],
            "dag": dag,
            "trigger_rule": step.trigger,
            **retry_arguments(step.retry),
        }
        if step.timeout is not None:
            kwargs["execution_timeout"] = timedelta(seconds=step.timeout)
        group = task_group(step.group)
        if group is not None:
            kwargs["task_group"] = group
        op = cls(graflow_spec=spec, graflow_step=step, graflow_options=options, **kwargs)
        if step.upstream:
            op.set_upstream([operators[up] for up in step.upstream])
        operators[step.id] = op
    return dag


# -- reading back -------------------------------------------------------------------------------


def _graflow_operators(dag: Any) -> list[GraflowTaskOperator]:
    """The rendered step operators of ``dag``."""
    return [t for t in dag.tasks if isinstance(t, GraflowTaskOperator)]


def retry_from_operator(op: Any, jitter: bool = False) -> RetryDef | None:
    """The retry policy an operator's retry arguments express (``None`` without retries)."""
    from graflow_airflow._compat import backoff_factor_from
    from graflow_core.spec import RetryDef

    retries = int(getattr(op, "retries", 0) or 0)
    if retries <= 0:
        return None
    max_delay = getattr(op, "max_retry_delay", None)
    return RetryDef(
        max_retries=retries,
        initial_interval=_seconds(getattr(op, "retry_delay", 0)),
        backoff_factor=backoff_factor_from(getattr(op, "retry_exponential_backoff", 0)),
        max_interval=_seconds(max_delay) if max_delay is not None else 60.0,
        jitter=jitter,
    )


def spec_from_rendered_dag(dag: Any) -> WorkflowSpec:
    """The :class:`~graflow_core.spec.WorkflowSpec` of a DAG rendered by :func:`to_airflow_dag`.

    The task definitions (callable references, parameters, bound kwargs ...) come from the
    operators' graflow metadata; the edges, the members of each parallel group (when rendered
    with ``TaskGroup``s) and each task's retry settings are derived from the DAG itself
    (dependencies, ``TaskGroup``s, ``retries`` / ``retry_delay`` / ``retry_exponential_backoff``
    / ``max_retry_delay``), so a DAG edited after rendering reads back as edited.
    spec → DAG → spec is identical for every workflow the DAG expresses (a workflow hosted as a
    whole reads back from its ``GraflowOperator``'s spec).

    Raises:
        RenderError: the DAG was not rendered by graflow (use ``from_airflow_dag``), or a
            dependency was added that no graflow edge can express.
    """
    import copy

    ops = _graflow_operators(dag)
    if not ops:
        hosted = [t for t in dag.tasks if getattr(t, "graflow_spec", None) is not None]
        if hosted:
            return copy.deepcopy(hosted[0].graflow_spec)
        raise RenderError(
            f"DAG {getattr(dag, 'dag_id', dag)!r} was not rendered by graflow_airflow (it has no "
            "GraflowTaskOperator); use graflow_airflow.from_airflow_dag() for hand-written DAGs"
        )
    stored: WorkflowSpec = ops[0].graflow_spec
    spec = copy.deepcopy(stored)
    step_of = {op.task_id: op.graflow_step for op in ops}
    op_of = {op.graflow_step.id: op for op in ops}
    upstream = {
        op.graflow_step.id: [step_of[u].id for u in op.upstream_task_ids if u in step_of]
        for op in ops
    }
    in_group = _derive_groups(spec, op_of, upstream)
    _derive_retries(spec, ops)
    spec.edges = _derive_edges(spec, stored, op_of, upstream, in_group)
    return spec


def _derive_retries(spec: WorkflowSpec, ops: Iterable[Any]) -> None:
    """Each task's retry policy from its operator, unless the operator's retry arguments are
    still the ones rendered from its step's retry (the stored spec's policy is then kept as it
    is: Airflow cannot express every policy exactly, e.g. a backoff factor of 0, and keeps
    delays at microsecond resolution)."""
    for op in ops:
        step = op.graflow_step
        if step.kind == "group" or len(step.task_ids) != 1:
            continue
        task = spec.task(step.task_ids[0])
        before = step.retry
        if _arguments_as_rendered(op, before):
            continue
        derived = retry_from_operator(op, jitter=bool(before and before.jitter))
        if _retry_equal(derived, before):
            continue
        task.retry_policy = derived
        task.max_retries = derived.max_retries if derived else None


def _arguments_as_rendered(op: Any, retry: RetryDef | None) -> bool:
    """True when ``op``'s retry arguments are exactly what ``retry`` renders to."""
    rendered = retry_arguments(retry)
    return all(getattr(op, name, None) == value for name, value in rendered.items())


def _retry_equal(a: RetryDef | None, b: RetryDef | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (
        a.max_retries == b.max_retries
        and abs(a.initial_interval - b.initial_interval) < 1e-6
        and abs(a.backoff_factor - b.backoff_factor) < 1e-9
        and abs(a.max_interval - b.max_interval) < 1e-6
    )


def _derive_groups(
    spec: WorkflowSpec, op_of: Mapping[str, Any], upstream: Mapping[str, list[str]]
) -> dict[str, str]:
    """Members of each group from the DAG's TaskGroups; returns step id -> its group.

    A member is a task of the group's TaskGroup whose upstream tasks all lie outside it (the
    head of a member chain), or a nested group whose TaskGroup sits directly inside. Without
    TaskGroups (``task_groups=False``) the stored membership is kept.
    """
    in_group: dict[str, str] = {}
    group_ids = {g.id for g in spec.groups}
    for step_id, op in op_of.items():
        gid = getattr(op.task_group, "graflow_group_id", None)
        if gid is not None:
            in_group[step_id] = gid
    if not in_group:
        return {
            step_id: op.graflow_step.group
            for step_id, op in op_of.items()
            if op.graflow_step.group is not None
        }
    found: dict[str, list[str]] = {}
    for step_id, gid in in_group.items():
        if step_id in group_ids:
            # a nested group's join step sits in its parent's TaskGroup
            found.setdefault(gid, []).append(step_id)
        elif not any(in_group.get(u) == gid for u in upstream[step_id]):
            found.setdefault(gid, []).append(step_id)
    for group in spec.groups:
        if group.id not in op_of:
            continue  # not rendered (unreachable from the start node)
        roots = found.get(group.id, [])
        position = {m: i for i, m in enumerate(group.members)}
        group.members = sorted(roots, key=lambda m: (position.get(m, len(position)), m))
    return in_group


def _derive_edges(
    spec: WorkflowSpec,
    stored: WorkflowSpec,
    op_of: Mapping[str, Any],
    upstream: Mapping[str, list[str]],
    in_group: Mapping[str, str],
) -> list[tuple[str, str]]:
    """Spec edges from the DAG's dependencies, in the stored spec's order (new ones last).

    The DAG repeats a group's incoming edges on every member (members fan out from the
    group's upstream) and joins the members at the group's task: those dependencies are the
    group, not edges. Every other dependency ``u -> v`` is the edge ``node(u) -> node(v)``.
    """
    member_roots = {m for g in spec.groups for m in g.members}
    edges: list[tuple[str, str]] = []
    for step_id, ups in upstream.items():
        step = op_of[step_id].graflow_step
        node = step.node or step_id
        if node in member_roots:
            continue  # inherits its group's upstream
        for u in ups:
            if step.kind == "group" and in_group.get(u) == step_id:
                continue  # a member joining its group
            up_step = op_of[u].graflow_step
            edges.append((up_step.node or u, node))
    rendered = {op.graflow_step.node or sid for sid, op in op_of.items()}
    rendered |= {t for op in op_of.values() for t in op.graflow_step.task_ids}
    kept = [e for e in stored.edges if e[0] not in rendered and e[1] not in rendered]
    order = {edge: i for i, edge in enumerate(stored.edges)}
    unique = list(dict.fromkeys([*edges, *kept]))
    return sorted(unique, key=lambda e: (order.get(e, len(order)), e))
