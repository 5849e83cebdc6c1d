"""Run one step of a plan in this process: ``run_step(spec, step_id, inputs, ...)``.

What a native task of a static orchestrator calls. It

* loads the workflow from the spec (once per process; a spec, its dict/JSON, a workflow, or a
  ``"module:attr"`` reference to a workflow or to a function returning one),
* assembles the channel from ``inputs`` (the run parameters, then the merged state of the
  upstream outputs: see :mod:`graflow_core.steps.payload.state`),
* runs the step's task(s) with the graflow engine on a context whose ``workflow_run_id`` is
  the orchestrator's run identity and whose ``run_scope`` is ``"step"`` (``"workflow"`` for
  the single step hosting a whole workflow: that is a complete run) -- so plugins see
  ``workflow_start``/``task_start``/``task_end``/``workflow_end`` exactly as in a normal run,
  one "workflow" per step,
* makes ONE attempt of each of the step's own tasks (the orchestrator retries, with
  ``Step.retry``); tasks a hosted step adds at run time keep their native retries,
* intercepts a jump (``next_task(X)`` with ``X`` a static node) instead of running ``X``
  here: ``X`` must be a direct successor, and ``StepOutput.follow`` names the steps to run,
* and returns a :class:`~graflow_core.steps.payload.state.StepOutput` (channel writes with
  large values stored by reference, the result, the branch choice).

A failing task raises what the engine raises natively (``GraflowRuntimeError`` wrapping the
task's error; ``RetryLimitExceededError`` on the last attempt when ``inputs.attempt`` says so);
a group whose policy fails raises ``ParallelGroupError``; a hosted workflow that is cancelled
raises ``GraflowWorkflowCanceledError``. The exception carries the step's *partial output*
(the channel state up to the failure, the failing task's writes and exception result included,
``StepOutput.error`` set) as the payload in its :data:`FAILED_OUTPUT_ATTR` attribute:
:func:`failed_output` reads it, so the orchestrator can keep it with the failed native task.
:class:`StepSkipped` means the orchestrator should mark the step skipped (a group whose own
upstream was skipped);
:class:`UpstreamFailed` that it cannot run because an upstream step failed.

Runs of one process share the loaded workflow's task objects, so step runs of one workflow are
serialised by a per-workflow lock (Airflow workers and Dagster's executors run one step per
process or one at a time anyway).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.core import hooks as _hooks
from graflow_core.core.context import ExecutionContext
from graflow_core.core.retry import RetryController
from graflow_core.exceptions import GraflowError, GraflowRuntimeError
from graflow_core.steps.payload.state import (
    StepInputs,
    StepOutput,
    apply_state,
    merge_states,
)
from graflow_core.steps.payload.values import DELETED, StepPayloadError, ValueStore, value_store
from graflow_core.steps.plan import Step, StepPlan, StepPlanError, follow_steps, plan_steps

if TYPE_CHECKING:
    from graflow_core.core.graph import TaskGraph
    from graflow_core.core.task import Executable
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec.model import WorkflowSpec


#: Attribute of an exception raised by :func:`run_step` holding the failed step's partial output
#: (``StepOutput.to_payload()`` form, JSON-ready and picklable); read it with
#: :func:`failed_output`.
FAILED_OUTPUT_ATTR = "graflow_step_output"


def failed_output(error: BaseException, store: ValueStore | None = None) -> StepOutput | None:
    """The partial output of the step whose :func:`run_step` raised ``error``.

    It holds the channel state up to the failure -- the ancestors' writes, the failed task's
    own writes before it raised and its exception as ``"<task>.__result__"`` -- with
    ``StepOutput.error`` set; ``None`` when ``error`` carries none (the step did not run:
    ``StepSkipped``, ``UpstreamFailed``, a bad payload; or its state could not be encoded).
    ``store`` is where large values are read from (as for ``StepOutput.from_payload``).
    """
    payload = getattr(error, FAILED_OUTPUT_ATTR, None)
    if payload is None:
        return None
    return StepOutput.from_payload(payload, store=store)


def _attach(error: BaseException, build: Any) -> None:
    """Attach the partial output ``build()`` makes to ``error`` (best effort)."""
    try:
        output: StepOutput = build()
        output.error = f"{type(error).__name__}: {error}"
        setattr(error, FAILED_OUTPUT_ATTR, output.to_payload())
    except Exception:  # an unencodable value or a read-only exception: the error still counts
        return


class StepSkipped(GraflowError):
    """The step must be marked skipped (its group's upstream was skipped by a branch)."""


class UpstreamFailed(GraflowRuntimeError):
    """The step cannot run: an upstream step failed (Airflow's ``upstream_failed``)."""


# -- loading, once per process -----------------------------------------------------------------


@dataclass
class Prepared:
    """A spec loaded for step runs: the spec, its plan and the loaded workflow's objects."""

    spec: WorkflowSpec
    plan: StepPlan
    workflow: WorkflowContext
    objects: dict[str, Executable]
    source: Any = None  # keeps the cache key's object alive
    #: Step runs share the loaded task objects: one at a time per process.
    lock: Any = field(default_factory=threading.RLock, repr=False)
    #: The static graph, built on first use; each step run works on a copy.
    template: TaskGraph | None = None


_cache: dict[Any, Prepared] = {}
_cache_lock = threading.Lock()


def _resolve(spec: Any) -> Any:
    if isinstance(spec, str) and not spec.lstrip().startswith("{") and ":" in spec:
        from graflow_core.spec.references import RefProblem, import_ref

        try:
            obj = import_ref(spec)
        except RefProblem as exc:
            raise StepPlanError(f"Cannot load workflow {spec!r}: {exc.reason}; {exc.fix}") from exc
        from graflow_core.core.workflow import WorkflowContext
        from graflow_core.spec.model import WorkflowSpec

        if not isinstance(obj, (WorkflowContext, WorkflowSpec)) and callable(obj):
            obj = obj()
        if not isinstance(obj, (WorkflowContext, WorkflowSpec)):
            raise StepPlanError(
                f"{spec!r} is {obj!r}; reference a workflow, a WorkflowSpec or a function "
                "returning a workflow"
            )
        return obj
    return spec


def prepare(spec: Any, *, start_node: str | None = None) -> Prepared:
    """Load ``spec`` for step runs (cached per process by reference / spec text / object)."""
    import json

    if isinstance(spec, Prepared):
        return spec
    if isinstance(spec, str):
        key: Any = ("s", spec, start_node)
    elif isinstance(spec, Mapping):
        key = ("s", json.dumps(spec, sort_keys=True), start_node)
    else:
        key = ("o", id(spec), start_node)
    with _cache_lock:
        found = _cache.get(key)
    if found is not None:
        return found
    from graflow_core.spec.load import load_workflow
    from graflow_core.spec.preflight_check import _as_spec

    the_spec = _as_spec(_resolve(spec))
    plan = plan_steps(the_spec, start_node=start_node)
    wf = load_workflow(the_spec)
    objects: dict[str, Executable] = {}

    def collect(obj: Executable) -> None:
        objects.setdefault(obj.task_id, obj)
        for member in getattr(obj, "tasks", ()):  # group members need not be graph nodes
            collect(getattr(member, "leftmost", member))

    for node, obj in wf.graph._tasks.items():
        if obj is not None:
            objects[node] = obj
            collect(obj)
    prepared = Prepared(the_spec, plan, wf, objects, spec)
    with _cache_lock:
        _cache[key] = prepared
    return prepared


def clear_cache() -> None:
    """Forget the loaded workflows (tests; a process that reloads its code)."""
    with _cache_lock:
        _cache.clear()


# -- the context of a step run -----------------------------------------------------------------


class _RecordingChannel(MemoryChannel):
    """A memory channel that records the keys written through its API."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.written: set[str] = set()

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self.written.add(key)
        super().set(key, value, ttl)

    def append(self, key: str, value: Any, ttl: int | None = None) -> int:
        self.written.add(key)
        return super().append(key, value, ttl)

    def prepend(self, key: str, value: Any, ttl: int | None = None) -> int:
        self.written.add(key)
        return super().prepend(key, value, ttl)

    def atomic_add(self, key: str, amount: int | float = 1) -> int | float:
        self.written.add(key)
        return super().atomic_add(key, amount)


class _OneAttempt(RetryController):
    """Never retries the step's own tasks in-process (the orchestrator does)."""

    def __init__(self, default_max_retries: int, own: frozenset[str]) -> None:
        super().__init__(default_max_retries)
        self.own = own

    def accept_retry(self, node_id: str) -> bool:
        if node_id in self.own:
            return False
        return super().accept_retry(node_id)


class _StepContext(ExecutionContext):
    """Intercepts jumps to static nodes this step does not run; ignores checkpoint requests."""

    _static: Mapping[str, Any] = {}
    _own: frozenset[str] = frozenset()
    _jumps: list[str]
    _goto_new = False
    _terminated = False

    def next_task(self, executable: Executable, goto: bool = False) -> str:
        from graflow_core.core.task import SequentialTask

        target = executable.leftmost if isinstance(executable, SequentialTask) else executable
        task_id = target.task_id
        if task_id in self._static and task_id not in self._own:
            self._jumps.append(task_id)
            self.goto_called = True
            hooks = _hooks.hooks_for(self)
            if hooks is not None and hooks.dynamic_task_added is not None:
                hooks.dynamic_task_added(task=target, task_id=task_id, context=self, goto=goto)
            return task_id
        if goto:
            self._goto_new = True
        return super().next_task(executable, goto=goto)

    def terminate_workflow(self, message: str) -> None:
        self._terminated = True
        super().terminate_workflow(message)

    def request_checkpoint(
        self, metadata: dict[str, Any] | None = None, *, path: str | None = None
    ) -> None:
        """Ignored: each step's output is the checkpoint of a step run."""


def _graph(prep: Prepared) -> TaskGraph:
    """A private copy of the workflow's static graph (tasks may add nodes and edges to it).

    Every task sees the whole graph through ``ctx.graph`` as natively; the step stops at the
    static successors instead (:func:`_stop_at_static`).
    """
    import copy

    from graflow_core.core.graph import TaskGraph

    template = prep.template
    if template is None:
        template = TaskGraph()
        for n in prep.spec.nodes:
            template.add_node(prep.objects[n], n)
        for u, v in prep.spec.edges:
            template.add_edge(u, v)
        template._join_candidates()  # cached by graph version: the copies share the analysis
        prep.template = template
    graph = copy.copy(template)
    # The edge lists are shared with the template; a run that adds edges (a chain built at run
    # time) makes _finish_graph drop the template.
    graph._tasks = dict(template._tasks)
    graph._succ = dict(template._succ)
    graph._pred = dict(template._pred)
    graph._dynamic = set()
    graph._version = template._version
    graph._join_cache = {}
    graph._candidate_cache = template._candidate_cache
    return graph


def _finish_graph(prep: Prepared, graph: TaskGraph) -> None:
    template = prep.template
    if template is not None and graph._edge_count != template._edge_count:
        prep.template = None


def _stop_at_static(ctx: ExecutionContext, task_id: str) -> None:
    """After each task of a step run: drop queued static nodes the step does not run."""
    queue = ctx.task_queue._ids
    if queue:
        step_ctx = cast("_StepContext", ctx)
        static, own = step_ctx._static, step_ctx._own
        keep = [i for i in queue if i not in static or i in own]
        if len(keep) != len(queue):
            queue.clear()
            queue.extend(keep)


def _context(
    prep: Prepared,
    graph: TaskGraph,
    start: str,
    run_id: str,
    own: Sequence[str],
    attempt: int,
    plugins: Sequence[object],
    data: Mapping[str, Any],
    intercept: bool,
) -> tuple[_StepContext, _RecordingChannel]:
    ctx = cast("_StepContext", _StepContext.create(graph, start, workflow_run_id=run_id))
    # A whole workflow hosted in one native task is a complete run ("workflow" scope).
    ctx.run_scope = "workflow" if prep.plan.whole else "step"
    ctx._jumps = []
    if intercept:  # jumps to static nodes this step does not run are branch decisions
        ctx._static = prep.objects
        ctx._own = frozenset(own)
    wf = prep.workflow
    ctx.workflow_name = wf.name
    ctx.workflow_version = wf.version
    retry = _OneAttempt(0, frozenset(own))
    if wf.retry_policy is not None:
        ctx.default_max_retries = wf.retry_policy.max_retries
        retry.set_default_policy(wf.retry_policy)
    ctx.retry_controller = retry
    if attempt > 1:
        for tid in own:
            retry.retry_counts[tid] = attempt - 1
            ctx.cycle_controller.cycle_counts[tid] = 1
    channel = _RecordingChannel(ctx.session_id)
    channel._data.update(data)
    ctx.channel = channel
    ctx._fast_data = None
    wf._attach_llm_agents(ctx)
    if plugins:
        ctx.use_plugins(*plugins)
    return ctx, channel


# -- running -----------------------------------------------------------------------------------


def _check_trigger(step: Step, upstream: Sequence[str], inputs: StepInputs) -> None:
    failed = inputs.failed_messages()
    bad = [u for u in upstream if u in failed]
    if bad:
        raise UpstreamFailed(
            f"Step '{step.id}' cannot run: upstream step(s) {', '.join(bad)} failed"
        )
    skipped = [u for u in upstream if u in set(inputs.skipped)]
    if skipped:
        raise StepSkipped(f"Step '{step.id}' is skipped: upstream {', '.join(skipped)} skipped")


def _own_entries(
    step: Step,
    before: Mapping[str, Any],
    channel: _RecordingChannel,
    store: ValueStore,
    run_id: str,
    lenient: bool = False,
) -> tuple[dict[str, list[Any]], tuple[str, ...]]:
    """The step's own writes as payload entries; ``lenient`` (a failed step's partial output)
    leaves out a value that cannot be encoded (unpicklable, no signing key) instead of raising."""
    after = channel._data
    entries: dict[str, list[Any]] = {}
    missing = object()
    for key, value in after.items():
        if key in channel.written or before.get(key, missing) is not value:
            try:
                entries[key] = [step.index, *store.encode(value, run=run_id)]
            except GraflowError:
                if not lenient:
                    raise
    for key in before:
        if key not in after:
            entries[key] = [step.index, DELETED]
    return entries, tuple(entries)


def run_step(
    spec: Any,
    step_id: str,
    inputs: StepInputs | Mapping[str, Any] | None = None,
    *,
    workflow_run_id: str,
    plugins: Sequence[object] = (),
    store: str | ValueStore | None = None,
    inline_max: int | None = None,
    start_node: str | None = None,
) -> StepOutput:
    """Run step ``step_id`` of ``spec`` once in this process; returns its :class:`StepOutput`.

    Args:
        spec: a :class:`~graflow_core.spec.WorkflowSpec` (or its dict/JSON), a workflow, or a
            ``"module:attr"`` reference (to a workflow, a spec, or a function returning a
            workflow); loaded and planned once per process.
        step_id: the step to run (``plan.steps[i].id``).
        inputs: :class:`StepInputs` (or a dict of its fields).
        workflow_run_id: the orchestrator's run identity (Airflow ``"<dag_id>/<run_id>"``,
            the Dagster run id); becomes ``context.workflow_run_id``.
        plugins: hook implementations for this step run only.
        store: where large values go (a directory, an fsspec URL or a ``ValueStore``; see
            :mod:`graflow_core.steps.payload.values`).
        inline_max: values larger than this many bytes are stored by reference.
        start_node: as for :func:`~graflow_core.steps.plan_steps`.

    Raises:
        StepSkipped: the orchestrator should mark the step skipped.
        UpstreamFailed: an upstream step failed.
        GraflowRuntimeError: the task failed (this attempt); ``ParallelGroupError`` when a
            group's policy fails.
    """
    if not isinstance(workflow_run_id, str) or not workflow_run_id:
        raise StepPlanError(
            f"run_step() needs workflow_run_id (the orchestrator's run identity), got "
            f"{workflow_run_id!r}"
        )
    prep = prepare(spec, start_node=start_node)
    step = prep.plan.step(step_id)
    if inputs is None:
        inputs = StepInputs()
    elif not isinstance(inputs, StepInputs):
        inputs = StepInputs(**inputs)
    vs = value_store(store, inline_max=inline_max)
    outputs = inputs.outputs(vs)
    if step.kind == "group":
        with prep.lock:
            return _run_group(prep, step, inputs, outputs, vs, workflow_run_id, plugins)
    if step.trigger == "all_success":
        _check_trigger(step, step.upstream, inputs)
    missing = [u for u in step.upstream if u not in outputs]
    if missing:
        raise StepPayloadError(
            f"Step '{step.id}' got no output of its upstream step(s) {', '.join(missing)}: pass "
            "every upstream step's StepOutput payload in StepInputs.upstream (or name the step "
            "in StepInputs.failed / StepInputs.skipped)"
        )
    state = merge_states(outputs[u] for u in step.upstream)
    with prep.lock:
        return _run_tasks(prep, step, inputs, state, vs, workflow_run_id, plugins)


def _run_tasks(
    prep: Prepared,
    step: Step,
    inputs: StepInputs,
    state: dict[str, list[Any]],
    vs: ValueStore,
    run_id: str,
    plugins: Sequence[object],
) -> StepOutput:
    whole = prep.plan.whole
    if whole:
        start = prep.plan.start
        own: Sequence[str] = ()
    else:
        start = step.task_ids[0]
        own = step.task_ids
    data = apply_state(inputs.params, state, vs)
    ctx, channel = _context(
        prep, _graph(prep), start, run_id, own, inputs.attempt, plugins, data, not whole
    )
    if not whole:
        ctx._after_task = _stop_at_static
    before = dict(channel._data)
    engine = prep.workflow.create_engine()

    def output(result: Any, follow: tuple[str, ...] | None, lenient: bool = False) -> StepOutput:
        entries, own_keys = _own_entries(step, before, channel, vs, run_id, lenient)
        merged = dict(state)
        merged.update(entries)
        return StepOutput(
            step_id=step.id,
            index=step.index,
            state=merged,
            own=own_keys,
            result_entry=vs.encode(result, run=run_id),
            task_ids=tuple(ctx.completed_tasks),
            follow=follow,
            terminated=ctx._terminated,
            workflow_run_id=run_id,
            _store=vs,
        )

    try:
        result = engine.execute(ctx)
    except Exception as exc:
        _attach(exc, lambda: output(None, None, lenient=True))
        raise
    finally:
        _finish_graph(prep, ctx.graph)
    follow: tuple[str, ...] | None = None
    if ctx._jumps:
        successors = _successor_nodes(prep, step)
        bad = [j for j in ctx._jumps if j not in successors]
        if bad:
            raise StepPlanError(
                f"Task '{step.id}' jumped to '{bad[0]}' with next_task(), which is not one of "
                "its static successors; a static orchestrator can only skip to a direct "
                f"successor ({', '.join(successors) or 'none'}). Make '{bad[0]}' a successor "
                f"of '{step.id}', or run the workflow hosted (in one native task)"
            )
        follow = follow_steps(prep.plan, step.id, ctx._jumps)
    elif ctx._goto_new or ctx._terminated:
        follow = ()
    return output(result, follow)


def _successor_nodes(prep: Prepared, step: Step) -> list[str]:
    return [v for u, v in prep.spec.edges if u == step.node]


def _run_group(
    prep: Prepared,
    step: Step,
    inputs: StepInputs,
    outputs: dict[str, StepOutput],
    vs: ValueStore,
    run_id: str,
    plugins: Sequence[object],
) -> StepOutput:
    from graflow_core.core.handler import TaskResult
    from graflow_core.core.handlers.group_policy import resolve_group_policy
    from graflow_core.core.task import ParallelGroup, TaskWrapper

    _check_trigger(step, step.group_upstream, inputs)
    if step.group_upstream and not any(u in outputs for u in step.group_upstream):
        # An orchestrator that only passes outputs (Dagster) does not say "skipped": the
        # group's own upstream produced nothing, so the group was not reached.
        raise StepSkipped(
            f"Step '{step.id}' is skipped: its upstream {', '.join(step.group_upstream)} "
            "produced no output"
        )
    failed = inputs.failed_messages()
    group = prep.objects[step.id]
    assert isinstance(group, ParallelGroup)
    now = time.time()
    results: dict[str, TaskResult] = {}
    dropped: list[str] = []
    every = dict(step.member_steps)
    for member, ids in step.members:
        bad = [i for i in ids if i in failed]
        if bad:
            message = "; ".join(failed[i] for i in bad)
            results[member] = TaskResult(member, False, None, message, 0.0, now)
            dropped.extend(every.get(member, ids))
        else:
            results[member] = TaskResult(member, True, None, None, 0.0, now)
    kept = [outputs[u] for u in step.upstream if u in outputs and u not in set(dropped)]
    state = merge_states(kept)
    policy = resolve_group_policy(group._execution_config["policy"])
    members = list(group.tasks)

    def evaluate_group_policy() -> None:
        policy.on_group_finished(step.id, members, results, ctx)

    join = TaskWrapper(step.id, evaluate_group_policy, register_to_context=False)
    graph = _graph_of(join)
    data = apply_state(inputs.params, state, vs)
    # A group is not re-run by a retry (its members retry on their own); when the workflow's
    # default policy gives the group node retries, a failing policy raises what natively ends
    # them: RetryLimitExceededError.
    default = prep.workflow.retry_policy
    attempt = max(inputs.attempt, 1 + (default.max_retries if default is not None else 0))
    ctx, channel = _context(prep, graph, step.id, run_id, (step.id,), attempt, plugins, data, False)
    before = dict(channel._data)

    def output(lenient: bool = False) -> StepOutput:
        entries, own_keys = _own_entries(step, before, channel, vs, run_id, lenient)
        return StepOutput(
            step_id=step.id,
            index=step.index,
            state={**state, **entries},
            own=own_keys,
            result_entry=["j", None],
            task_ids=(step.id,),
            dropped=tuple(dropped),
            workflow_run_id=run_id,
            _store=vs,
        )

    try:
        prep.workflow.create_engine().execute(ctx)
    except Exception as exc:
        _attach(exc, lambda: output(lenient=True))
        raise
    return output()


def _graph_of(task: Executable) -> TaskGraph:
    from graflow_core.core.graph import TaskGraph

    graph = TaskGraph()
    graph.add_node(task, task.task_id)
    return graph


__all__ = [
    "FAILED_OUTPUT_ATTR",
    "Prepared",
    "StepSkipped",
    "UpstreamFailed",
    "clear_cache",
    "failed_output",
    "prepare",
    "run_step",
]
