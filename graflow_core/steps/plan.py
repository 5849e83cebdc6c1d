"""Plan: a workflow spec as *steps*, one native orchestrator task each.

``plan_steps(spec)`` turns a :class:`~graflow_core.spec.WorkflowSpec` into a
:class:`StepPlan` whose :attr:`~StepPlan.steps` a static orchestrator (Airflow DAG, Dagster
job) renders one native task per step, in topological order, and runs each with
:func:`graflow_core.steps.run_step`.

Steps (``Step.kind``):

``"task"``
    one graflow task (``task_ids == (id,)``, the step id is the task id).
``"group"``
    the *join* of a parallel group (the step id is the group id; ``task_ids == ()``). Its
    members are steps of their own that fan out from the group's upstream steps; the group
    step depends on the group's upstream steps and on every step of its members (a nested
    group counts as its group step) with trigger ``"all_done"``, and evaluates the group's
    policy from which member steps failed (``StepInputs.failed``): ``strict`` fails when any
    member failed, ``best_effort`` never, ``at_least_n``/``critical``/custom as natively.
    Writes of failed members are dropped, as natively (a failed branch is not merged).
``"hosted"``
    either one task that may add work at run time (``next_task`` to a new task,
    ``next_iteration``): the step runs the task *and* the work it adds inline, with the
    graflow engine, and stops at the task's static successors; or -- when the static graph
    cannot express the workflow at all (a cycle, ``terminate_workflow``/``cancel_workflow``,
    a node shared by two group branches) -- the single step :data:`HOSTED_STEP_ID` running the
    whole workflow inside one native task.

Edges: ``Step.upstream`` lists the steps it depends on. A task step has trigger
``"all_success"`` (skip when an upstream step was skipped, do not run when one failed); group
steps have ``"all_done"``. A step whose task may jump with ``next_task(X, goto=True)`` (or
``next_task`` to a task already in the graph, which natively also skips the successors) is a
*branch*: ``Step.branch_targets`` lists its direct downstream steps and
``StepOutput.follow`` says which of them to run; the orchestrator skips the others (and,
through ``all_success``, everything only they lead to) -- which is exactly what the graflow
engine does: a successor whose predecessor jumped away is never queued.

Order: :attr:`StepPlan.steps` is the order in which the graflow engine would run the tasks
(first-in first-out over the static graph, a join after its last predecessor, a group's
members in member order before the group's successors). That order is the *writer order*
of channel writes: when two ancestors of a step wrote the same key, the later one wins
(:mod:`graflow_core.steps.payload.state`), and the workflow's result is the result of the last
step that ran, as natively.

Reasons: :attr:`StepPlan.reasons` lists every use of a feature that is *hosted*, with the same
feature names, subjects and levels that :func:`graflow_core.spec.preflight` reports for
:data:`STEP_CAPABILITIES` (bridges base their capabilities on it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graflow_core.exceptions import GraphCompilationError
from graflow_core.spec.capabilities import EMULATED, HOSTED, IGNORED, NATIVE, Capabilities
from graflow_core.spec.model import GroupDef, PolicyDef, RetryDef, TaskDef, WorkflowSpec

#: Id of the single step that hosts a whole workflow.
HOSTED_STEP_ID = "graflow_workflow"

#: Task features a step hosts inline (the task's step runs the work they add).
STEP_HOSTED_FEATURES = ("next_task", "next_iteration")
#: Features that make the whole workflow one hosted step.
WORKFLOW_HOSTED_FEATURES = ("terminate", "cancel", "cycles")

#: What the step runtime does with each feature, for targets that render one native task per
#: step (bridges start from this and adjust notes/levels to their orchestrator).
STEP_CAPABILITIES = Capabilities(
    "steps",
    {
        "static_edges": NATIVE,
        "parallel_groups": (NATIVE, "members fan out from the group's upstream tasks"),
        "nested_groups": NATIVE,
        "group_policy": (EMULATED, "evaluated by the group's join task (trigger all_done)"),
        "group_backend": (IGNORED, "members are native tasks; the orchestrator runs them"),
        "retries": NATIVE,
        "retry_delay": NATIVE,
        "retry_backoff": NATIVE,
        "retry_jitter": (IGNORED, "no jitter on the orchestrator's retry delays"),
        "timeouts": (EMULATED, "enforced by graflow inside the native task"),
        "circuit_breakers": (EMULATED, "per process: each native task has its own breaker"),
        "max_cycles": (EMULATED, "applies to the iterations a hosted task runs"),
        "task_type": (EMULATED, "the task type wraps the task inside the native task"),
        "custom_handlers": (EMULATED, "the handler runs inside the native task"),
        "bound_kwargs": NATIVE,
        "inject_context": (EMULATED, "the context of a one-task run of the workflow"),
        "llm_client": EMULATED,
        "llm_agent": EMULATED,
        "next_task": (
            HOSTED,
            "tasks it adds run inside its native task; a jump to a static successor is a branch",
        ),
        "goto": (NATIVE, "a branch: the successors not jumped to are skipped"),
        "next_iteration": (HOSTED, "the iterations run inside the task's native task"),
        "terminate": (HOSTED, "the whole workflow runs inside one native task"),
        "cancel": (HOSTED, "the whole workflow runs inside one native task"),
        "cycles": (HOSTED, "the whole workflow runs inside one native task"),
        "checkpoints": (IGNORED, "each native task's output is the checkpoint"),
        "channels": (EMULATED, "channel writes travel with the step outputs"),
        "typed_channels": (EMULATED, "channel writes travel with the step outputs"),
    },
    (EMULATED, "runs inside the task's native task"),
)


class StepPlanError(GraphCompilationError):
    """A workflow cannot be planned or run as steps (no start node, unknown step id ...)."""


@dataclass(frozen=True)
class Reason:
    """Why (part of) a workflow is hosted: a preflight-style feature use."""

    feature: str
    kind: str
    subject: str | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Step:
    """One native task of a static orchestrator (see the module docs for the kinds)."""

    id: str
    kind: str
    task_ids: tuple[str, ...]
    upstream: tuple[str, ...] = ()
    #: The effective retry policy (the task's own, else the workflow default; ``None``: no
    #: retries). The orchestrator retries; :func:`run_step` makes one attempt.
    retry: RetryDef | None = None
    #: Seconds per attempt (graflow enforces it too), or ``None``.
    timeout: float | None = None
    #: The innermost parallel group this step belongs to (for TaskGroup rendering).
    group: str | None = None
    trigger: str = "all_success"
    #: The direct downstream steps a branch may choose among (empty: not a branch).
    branch_targets: tuple[str, ...] = ()
    #: Position in :attr:`StepPlan.steps` (the writer order of channel writes).
    index: int = 0
    #: Group steps: the group's policy.
    policy: PolicyDef | None = None
    #: Group steps: ``(member id, step ids of that member's branch)`` in member order.
    members: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Group steps: ``(member id, every step of that member's branch)``, nested groups'
    #: members included (what is dropped when the member fails).
    member_steps: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Group steps: the upstream steps of the group itself (not of its members).
    group_upstream: tuple[str, ...] = ()
    #: Features this step hosts inline (``next_task``, ``next_iteration``, or for the
    #: whole-workflow step everything that made it necessary).
    hosts: tuple[str, ...] = ()
    #: The graflow node whose completion this step is (the task or group id).
    node: str | None = None

    def __hash__(self) -> int:  # RetryDef/PolicyDef are not hashable; the id is unique
        return hash((self.id, self.index))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (for tooling and rendering caches)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "task_ids": list(self.task_ids),
            "upstream": list(self.upstream),
            "retry": None if self.retry is None else self.retry.to_dict(),
            "timeout": self.timeout,
            "group": self.group,
            "trigger": self.trigger,
            "branch_targets": list(self.branch_targets),
            "index": self.index,
            "policy": None if self.policy is None else self.policy.to_dict(),
            "members": [[m, list(ids)] for m, ids in self.members],
            "member_steps": [[m, list(ids)] for m, ids in self.member_steps],
            "group_upstream": list(self.group_upstream),
            "hosts": list(self.hosts),
            "node": self.node,
        }


@dataclass
class StepPlan:
    """The steps of a workflow in run (topological) order, and why parts are hosted."""

    spec: WorkflowSpec
    steps: list[Step] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    #: The node the run starts from.
    start: str = ""
    #: The graflow node each follow target stands for: node id -> the step ids that start it.
    node_steps: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _by_id: dict[str, Step] = field(default_factory=dict, repr=False)
    _downstream: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index()

    def _index(self) -> None:
        self._by_id = {s.id: s for s in self.steps}
        down: dict[str, list[str]] = {s.id: [] for s in self.steps}
        for s in self.steps:
            for u in s.upstream:
                down[u].append(s.id)
        self._downstream = {k: tuple(v) for k, v in down.items()}

    @property
    def hosted(self) -> bool:
        """True when any part of the workflow runs hosted (see :attr:`reasons`)."""
        return any(s.kind == "hosted" for s in self.steps)

    @property
    def whole(self) -> bool:
        """True when the whole workflow is the single hosted step :data:`HOSTED_STEP_ID`."""
        return len(self.steps) == 1 and self.steps[0].id == HOSTED_STEP_ID

    def step(self, step_id: str) -> Step:
        """The step called ``step_id`` (:class:`StepPlanError` listing the ids if none)."""
        found = self._by_id.get(step_id)
        if found is None:
            ids = ", ".join(s.id for s in self.steps[:20])
            raise StepPlanError(
                f"Workflow '{self.spec.name}' has no step '{step_id}' (steps: {ids}"
                f"{', ...' if len(self.steps) > 20 else ''}); the DAG/job was rendered from "
                "another version of the workflow: render it again"
            )
        return found

    def downstream(self, step_id: str) -> tuple[str, ...]:
        """The steps that list ``step_id`` as upstream, in plan order."""
        return self._downstream.get(step_id, ())

    @property
    def ids(self) -> list[str]:
        """The step ids in plan order."""
        return [s.id for s in self.steps]

    def to_dict(self) -> dict[str, Any]:
        """``{"workflow", "steps": [...], "reasons": [...]}`` (JSON-ready)."""
        return {
            "workflow": self.spec.name,
            "steps": [s.to_dict() for s in self.steps],
            "reasons": [
                {"feature": r.feature, "kind": r.kind, "subject": r.subject, "message": r.message}
                for r in self.reasons
            ],
        }


# -- planning --------------------------------------------------------------------------------


def _reason(feature: str, kind: str, subject: str | None, detail: str) -> Reason:
    support = STEP_CAPABILITIES.support(feature)
    where = "workflow" if subject is None else f"{kind} '{subject}'"
    return Reason(feature, kind, subject, f"{where} uses {feature} [{detail}] -> {support.note}")


def _reasons(spec: WorkflowSpec) -> list[Reason]:
    from graflow_core.spec.preflight_check import feature_uses

    found = []
    for use in feature_uses(spec):
        if STEP_CAPABILITIES.support(use.feature).level == HOSTED:
            found.append(_reason(use.feature, use.kind, use.subject, use.detail))
    return found


def _start(spec: WorkflowSpec, start_node: str | None) -> str:
    start = start_node or spec.start_node
    if start is not None:
        if start not in spec.nodes:
            raise StepPlanError(
                f"Workflow '{spec.name}': start node '{start}' is not a node of the graph; "
                f"pass one of: {', '.join(spec.nodes[:10])}"
            )
        return start
    if not spec.nodes:
        raise StepPlanError(f"Workflow '{spec.name}' has no tasks to plan")
    raise StepPlanError(
        f"Workflow '{spec.name}' has several tasks without predecessors; pass start_node=... "
        "to plan_steps() (as to execute())"
    )


class _Planner:
    def __init__(self, spec: WorkflowSpec) -> None:
        self.spec = spec
        self.tasks: dict[str, TaskDef] = {t.id: t for t in spec.tasks}
        self.groups: dict[str, GroupDef] = {g.id: g for g in spec.groups}
        self.succ: dict[str, list[str]] = {}
        self.pred: dict[str, list[str]] = {}
        for u, v in spec.edges:
            self.succ.setdefault(u, []).append(v)
            self.pred.setdefault(v, []).append(u)
        self.steps: list[Step] = []
        self.owner: dict[str, str] = {}  # node -> region id that claimed it
        self.node_steps: dict[str, tuple[str, ...]] = {}
        self.by_id: dict[str, Step] = {}
        self.conflict: str | None = None

    def add(self, step: Step) -> None:
        self.steps.append(step)
        self.by_id[step.id] = step

    def retry(self, td: TaskDef) -> RetryDef | None:
        if td.retry_policy is not None:
            return td.retry_policy if td.retry_policy.max_retries > 0 else None
        if td.max_retries is not None:
            if td.max_retries <= 0:
                return None
            base = self.spec.retry_policy or RetryDef(initial_interval=0.0, backoff_factor=1.0)
            return replace(base, max_retries=td.max_retries)
        default = self.spec.retry_policy
        return default if default is not None and default.max_retries > 0 else None

    def region(
        self, entries: list[str], upstream: tuple[str, ...], group: str | None, rid: str
    ) -> list[str]:
        """Plan the nodes reachable from ``entries``; returns the step ids created (in order).

        Nodes reached are planned in first-in first-out order with joins after their last
        predecessor (the engine's order); a group node expands into its members' regions.
        """
        reach: list[str] = []
        seen: set[str] = set()
        todo = deque(entries)
        while todo:
            n = todo.popleft()
            if n in seen:
                continue
            seen.add(n)
            reach.append(n)
            todo.extend(self.succ.get(n, ()))
        for n in reach:
            other = self.owner.get(n)
            if other is not None and other != rid:
                self.conflict = n
            self.owner[n] = rid
        indeg = {n: sum(1 for p in self.pred.get(n, ()) if p in seen) for n in reach}
        ready = deque(n for n in entries if indeg.get(n, 0) == 0)
        done: dict[str, str] = {}  # node -> its completion step id
        created: list[str] = []
        order_seen: set[str] = set()
        while ready:
            n = ready.popleft()
            if n in order_seen:
                continue
            order_seen.add(n)
            preds = [done[p] for p in self.pred.get(n, ()) if p in done]
            node_up = tuple(dict.fromkeys(preds)) if preds else upstream
            created.extend(self.node(n, node_up, group))
            done[n] = n
            for s in self.succ.get(n, ()):
                if s in indeg:
                    indeg[s] -= 1
                    if indeg[s] == 0:
                        ready.append(s)
        left = [n for n in reach if n not in order_seen]
        if left:  # a cycle: the caller hosts the whole workflow
            self.conflict = self.conflict or left[0]
        return created

    def node(self, n: str, upstream: tuple[str, ...], group: str | None) -> list[str]:
        gd = self.groups.get(n)
        if gd is None:
            td = self.tasks[n]
            hosts = tuple(f for f in STEP_HOSTED_FEATURES if f in td.features)
            branch = bool({"goto", "next_task"} & set(td.features)) and bool(self.succ.get(n))
            self.add(
                Step(
                    id=n,
                    kind="hosted" if hosts else "task",
                    task_ids=(n,),
                    upstream=upstream,
                    retry=self.retry(td),
                    timeout=td.timeout,
                    group=group,
                    branch_targets=("?",) if branch else (),  # resolved once all steps exist
                    index=len(self.steps),
                    hosts=hosts,
                    node=n,
                )
            )
            self.node_steps[n] = (n,)
            return [n]
        created: list[str] = []
        members: list[tuple[str, tuple[str, ...]]] = []
        starts: list[str] = []
        for m in gd.members:
            ids = self.region([m], upstream, gd.id, f"{gd.id}/{m}")
            members.append((m, tuple(ids)))
            created.extend(ids)
            starts.extend(self.node_steps.get(m, ()))
        own_level = [i for _, ids in members for i in ids if self._level(i, gd.id)]
        self.add(
            Step(
                id=gd.id,
                kind="group",
                task_ids=(),
                upstream=tuple(dict.fromkeys((*upstream, *own_level))),
                group=group,
                trigger="all_done",
                index=len(self.steps),
                policy=gd.policy,
                members=tuple(
                    (m, tuple(i for i in ids if self._level(i, gd.id))) for m, ids in members
                ),
                member_steps=tuple(members),
                group_upstream=upstream,
                node=gd.id,
            )
        )
        self.node_steps[gd.id] = (*starts, gd.id)
        created.append(gd.id)
        return created

    def _level(self, step_id: str, group_id: str) -> bool:
        """True when ``step_id`` is directly in ``group_id`` (a nested group's own step is)."""
        return self.by_id[step_id].group == group_id


def _hosted_plan(
    spec: WorkflowSpec, start: str, reasons: list[Reason], extra: Iterable[Reason]
) -> StepPlan:
    all_reasons = [*reasons, *extra]
    step = Step(
        id=HOSTED_STEP_ID,
        kind="hosted",
        task_ids=tuple(t.id for t in spec.tasks),
        hosts=tuple(dict.fromkeys(r.feature for r in all_reasons)),
        index=0,
    )
    return StepPlan(spec, [step], all_reasons, start, {n: (HOSTED_STEP_ID,) for n in spec.nodes})


def plan_steps(spec: Any, *, start_node: str | None = None) -> StepPlan:
    """Plan ``spec`` (a :class:`WorkflowSpec`, its dict/JSON, or a workflow) as steps.

    ``start_node`` overrides the spec's start node (required when the workflow has several
    nodes without predecessors, as for ``execute()``). Only what is reachable from the start
    node is planned, as only that runs natively.

    Raises:
        StepPlanError: no start node can be determined.
    """
    from graflow_core.spec.preflight_check import _as_spec

    spec = _as_spec(spec)
    start = _start(spec, start_node)
    reasons = _reasons(spec)
    whole = [r for r in reasons if r.feature in WORKFLOW_HOSTED_FEATURES]
    if whole:
        return _hosted_plan(spec, start, reasons, ())
    planner = _Planner(spec)
    planner.region([start], (), None, "")
    if planner.conflict is not None:
        extra = _reason(
            "cycles",
            "node",
            planner.conflict,
            f"'{planner.conflict}' is reached from two parallel branches or through a loop",
        )
        return _hosted_plan(spec, start, reasons, [extra])
    steps = planner.steps
    plan = StepPlan(spec, steps, reasons, start, planner.node_steps)
    # Branch targets: every direct downstream step of a branch step.
    resolved = []
    for s in steps:
        if s.branch_targets:
            s = replace(s, branch_targets=plan.downstream(s.id))
        resolved.append(s)
    plan.steps = resolved
    plan._index()
    return plan


def follow_steps(plan: StepPlan, step_id: str, nodes: Iterable[str]) -> tuple[str, ...]:
    """The downstream step ids of ``step_id`` that start the graflow ``nodes`` jumped to."""
    wanted: set[str] = set()
    for n in nodes:
        wanted.update(plan.node_steps.get(n, ()))
    return tuple(d for d in plan.downstream(step_id) if d in wanted)


def retry_of(step: Step) -> Mapping[str, Any] | None:
    """``step.retry`` as orchestrator settings: ``{"retries", "delay", "backoff", "max_delay"}``.

    ``backoff`` is the multiplier (1.0: constant delay). ``None`` when the step has no retries.
    """
    r = step.retry
    if r is None or r.max_retries <= 0:
        return None
    return {
        "retries": r.max_retries,
        "delay": r.initial_interval,
        "backoff": r.backoff_factor,
        "max_delay": r.max_interval,
        "jitter": r.jitter,
    }


__all__ = [
    "HOSTED_STEP_ID",
    "STEP_CAPABILITIES",
    "Reason",
    "Step",
    "StepPlan",
    "StepPlanError",
    "follow_steps",
    "plan_steps",
    "retry_of",
]
