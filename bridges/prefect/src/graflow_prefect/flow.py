"""Graflow on Prefect: :func:`to_prefect_flow` turns a workflow into a real Prefect ``Flow``.

The flow's function runs the graflow engine itself (Prefect flows are dynamic Python), with a
run plugin, :class:`PrefectTaskHost`, implementing the core's ``execute_task`` hook: every
graflow task attempt runs inside a Prefect task run named by the graflow task id. So

* the order, joins, parallel-group policies, ``next_task``, ``goto``, ``next_iteration``,
  ``terminate_workflow`` and ``cancel_workflow`` are the engine's — exactly as in a native run —
  and tasks added at run time simply become further task runs;
* results and channel writes flow between tasks through the engine's in-process channel;
* the members of a parallel group are submitted to the flow's task runner from the group's
  worker threads, so they run concurrently as Prefect task runs;
* retries are Prefect's: a task's effective retry policy becomes the task's ``retries``,
  ``retry_delay_seconds`` (one delay per retry, backoff and cap applied) and
  ``retry_jitter_factor``. The host keeps the core's retry counters in step with Prefect's
  attempts, so the core does not retry a second time and ``ctx.retry_count`` is right;
* the run's ``workflow_run_id`` is the Prefect flow run id.

See ``docs/prefect.md``.
"""

from __future__ import annotations

import inspect
import keyword
import re
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.core.task import ParallelGroup, TaskWrapper
from graflow_core.core.workflow import WorkflowContext
from graflow_core.exceptions import ConfigError, GraflowRuntimeError
from graflow_core.plugins import TaskOutcome, hookimpl
from graflow_prefect import _compat

if TYPE_CHECKING:
    from prefect import Flow

    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.retry import RetryPolicy
    from graflow_core.core.task import Executable
    from graflow_core.spec import WorkflowSpec

__all__ = ["PrefectTaskHost", "WorkflowSource", "retry_delays", "to_prefect_flow"]

#: ``retry_jitter_factor`` for ``RetryPolicy(jitter=True)``: graflow multiplies the delay by a
#: factor in [0.5, 1.5); Prefect draws it from [delay * (1 - f), delay * (1 + f)].
JITTER_FACTOR = 0.5

#: Keyword arguments of ``Flow.__call__`` itself: a workflow parameter cannot use these names.
_RESERVED = frozenset({"return_state", "wait_for"})

_UNSET = object()


# -- retry policy → Prefect retries --------------------------------------------------------------


def retry_delays(policy: RetryPolicy | None, retries: int, *, first: int = 0) -> list[float]:
    """The delays before retries ``first .. first + retries - 1`` of ``policy`` (no jitter).

    ``min(initial_interval * backoff_factor ** k, max_interval)`` — what the core's retry loop
    waits; all zeros without a policy (a bare ``max_retries``).
    """
    if policy is None:
        return [0.0] * retries
    return [
        float(min(policy.initial_interval * policy.backoff_factor**k, policy.max_interval))
        for k in range(first, first + retries)
    ]


# -- where the workflow comes from ---------------------------------------------------------------


class WorkflowSource:
    """What a bridged flow runs: a workflow, a spec (loaded fresh per run) or a builder.

    * a :class:`WorkflowContext` is run as it is (like ``wf.execute()``: tasks added at run time
      stay in its graph);
    * a ``WorkflowSpec`` (or its dict / JSON) is loaded with ``load_workflow`` for every run;
    * a callable without arguments returning a ``WorkflowContext`` is called for every run;
    * a ``"module:attr"`` string names one of these.
    """

    def __init__(self, workflow: Any) -> None:
        self.spec: WorkflowSpec | None = None
        self.builder: Callable[[], WorkflowContext] | None = None
        self.workflow: WorkflowContext | None = None
        if isinstance(workflow, str) and _looks_like_reference(workflow):
            from graflow_core.spec.references import RefProblem, import_ref

            try:
                workflow = import_ref(workflow)
            except RefProblem as exc:
                raise ConfigError(
                    f"to_prefect_flow({workflow!r}): {exc}. Make the module importable here "
                    "(install it / put its directory on sys.path) or fix the reference."
                ) from exc
        if isinstance(workflow, WorkflowContext):
            self.workflow = workflow
        elif _is_spec_like(workflow):
            from graflow_core.spec.load import _as_spec

            self.spec = _as_spec(workflow)
        elif callable(workflow):
            self.builder = workflow
        else:
            raise ConfigError(
                f"to_prefect_flow() needs a WorkflowContext, a WorkflowSpec (or its dict/JSON), "
                f"a builder function returning a workflow, or a 'module:attr' reference; got "
                f"{workflow!r}"
            )

    @property
    def start_node(self) -> str | None:
        """The spec's start node (``None``: the engine picks the single root)."""
        return self.spec.start_node if self.spec is not None else None

    def fresh(self) -> WorkflowContext:
        """The workflow for one run."""
        if self.workflow is not None:
            return self.workflow
        if self.spec is not None:
            from graflow_core.spec import load_workflow

            return load_workflow(self.spec)
        assert self.builder is not None
        built = self.builder()
        if not isinstance(built, WorkflowContext):
            raise ConfigError(
                f"The workflow builder {getattr(self.builder, '__qualname__', self.builder)!r} "
                f"returned {built!r}, not a WorkflowContext (build it in a `with workflow(...)` "
                "block and return the context)"
            )
        return built

    def name(self, wf: WorkflowContext) -> str:
        return self.spec.name if self.spec is not None else wf.name


def _looks_like_reference(text: str) -> bool:
    return ":" in text and not text.lstrip().startswith("{")


def _is_spec_like(obj: Any) -> bool:
    from graflow_core.spec.model import WorkflowSpec

    if isinstance(obj, WorkflowSpec):
        return True
    if isinstance(obj, Mapping):
        return "tasks" in obj or "nodes" in obj
    return isinstance(obj, (str, bytes))


# -- flow parameters -----------------------------------------------------------------------------


def _all_tasks(wf: WorkflowContext) -> list[Executable]:
    seen: dict[str, Executable] = {}
    graph = wf.graph
    pending = [graph.get_node(n) for n in graph.nodes if graph._tasks.get(n) is not None]
    while pending:
        task = pending.pop(0)
        if task.task_id in seen:
            continue
        seen[task.task_id] = task
        if isinstance(task, ParallelGroup):
            pending[:0] = task.tasks
    return list(seen.values())


def workflow_parameters(wf: WorkflowContext) -> dict[str, bool]:
    """The run parameters a workflow reads by keyword resolution: ``{name: has_default}``.

    A parameter of a task function is a run parameter when it is filled from the channel (not
    injected, not bound at instance creation) and is not the id of a task (that is the task's
    result). ``has_default`` is True when every task reading it has a default for it.
    """
    tasks = _all_tasks(wf)
    ids = {t.task_id for t in tasks}
    found: dict[str, bool] = {}
    for task in tasks:
        if not isinstance(task, TaskWrapper) or not task.resolve_keyword_args:
            continue
        func = task._original_func
        try:
            sig = inspect.signature(func)
        except (TypeError, ValueError):
            continue
        params = [
            p
            for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        if task.inject_context and params:
            params = params[1:]
        for p in params:
            name = p.name
            if (
                name in ids
                or name in task._bound_kwargs
                or (task.inject_llm_client and name == "llm_client")
                or (task.inject_llm_agent and name == "llm_agent")
            ):
                continue
            has_default = p.default is not p.empty
            found[name] = found.get(name, True) and has_default
    return found


def _check_parameter_name(name: str, flow_name: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ConfigError(
            f"Flow '{flow_name}': parameter {name!r} is not a Python identifier, so Prefect "
            "cannot pass it as a flow parameter. Put such channel keys into the channel from a "
            "task, or rename the parameter."
        )
    if name in _RESERVED:
        raise ConfigError(
            f"Flow '{flow_name}': parameter {name!r} collides with an argument of Prefect's "
            "Flow.__call__ (return_state, wait_for); rename it."
        )


def _check_task_runner(task_runner: Any, flow_name: str) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner

    if not isinstance(task_runner, ThreadPoolTaskRunner):
        raise ConfigError(
            f"Flow '{flow_name}': task_runner {type(task_runner).__name__} does not run tasks in "
            "the flow's process. A bridged flow's tasks share the engine's in-process channel, "
            "so use a ThreadPoolTaskRunner (any max_workers)."
        )


def _flow_function_name(name: str) -> str:
    ident = re.sub(r"\W", "_", name).strip("_") or "graflow_flow"
    if ident[0].isdigit() or keyword.iskeyword(ident):
        ident = f"flow_{ident}"
    return ident


# -- the host plugin -----------------------------------------------------------------------------


class _Attempt:
    """The callable a Prefect task run executes: one graflow attempt, with retry bookkeeping.

    Prefect calls it once per attempt. A failing attempt that Prefect will retry (the core's
    budget for the task is not spent) counts as a retry in the core's controller, exactly as
    the core's own loop would count it, and the ``task_failure(final=False)`` / ``task_retry``
    hooks fire. Once the budget is spent the failure propagates as final and the core does not
    retry again.
    """

    __slots__ = ("context", "delays", "error", "invoke", "ran", "task", "task_id", "value")

    def __init__(
        self,
        task: Executable,
        task_id: str,
        context: ExecutionContext,
        invoke: Callable[[], Any],
        delays: Sequence[float],
    ) -> None:
        self.task = task
        self.task_id = task_id
        self.context = context
        self.invoke = invoke
        self.delays = delays
        self.value: Any = None
        self.error: BaseException | None = None
        self.ran = 0

    def __call__(self) -> Any:
        self.ran += 1
        if self.ran > 1:
            hooks = _hooks(self.context)
            if hooks is not None and hooks.task_start is not None:
                hooks.task_start(task=self.task, task_id=self.task_id, context=self.context)
        try:
            value = self.invoke()
        except Exception as exc:
            self.error = exc
            retry = self.context.retry_controller
            if retry.accept_retry(self.task_id):  # Prefect retries it: count it like the core
                attempt = retry.increment(self.task_id, exc)
                hooks = _hooks(self.context)
                if hooks is not None:
                    # delays[0] comes before this task run's first retry
                    delays = self.delays
                    delay = delays[min(self.ran - 1, len(delays) - 1)] if delays else 0.0
                    if hooks.task_failure is not None:
                        hooks.task_failure(
                            task=self.task,
                            task_id=self.task_id,
                            context=self.context,
                            error=exc,
                            final=False,
                        )
                    if hooks.task_retry is not None:
                        hooks.task_retry(
                            task=self.task,
                            task_id=self.task_id,
                            context=self.context,
                            error=exc,
                            attempt=attempt,
                            delay=delay,
                        )
            raise
        self.error = None
        self.value = value
        return value


def _hooks(context: ExecutionContext) -> Any:
    from graflow_core.core.hooks import hooks_for

    return hooks_for(context)


def _run_attempt(attempt: _Attempt, upstream: Any = None) -> Any:
    """The function of every bridged Prefect task: run one graflow task attempt.

    ``upstream`` only names the input under which the upstream task runs are recorded.
    """
    return attempt()


class PrefectTaskHost:
    """Run plugin (``execute_task``) that runs every graflow task as a Prefect task run.

    Used by :func:`to_prefect_flow` for one flow run; it must be created inside the flow run
    (it captures the flow's thread and Prefect context). Task runs are named by the graflow
    task id; a task's static predecessors that completed are recorded as its ``upstream``
    inputs, so the Prefect UI draws the graph (Prefect neither waits on them — the engine
    already ordered the tasks — nor walks their results).
    """

    def __init__(self, task_cache: _TaskCache, tags: Sequence[str] = ()) -> None:
        self._flow_thread = threading.get_ident()
        self._prefect_context = _compat.prefect_context_snapshot()
        self._tasks = task_cache
        self._tags = tuple(tags)
        #: graflow id → ids of the completed task runs it stands for (a group: its members')
        self._done: dict[str, list[Any]] = {}
        self._owner_map: dict[str, str] | None = None
        #: task id → id of the Prefect task run of its last attempt (tests and tracking read it)
        self.task_run_ids: dict[str, str] = {}

    # The hook -------------------------------------------------------------------------------

    @hookimpl
    def execute_task(
        self,
        task: Executable,
        task_id: str,
        context: ExecutionContext,
        invoke: Callable[[], Any],
    ) -> TaskOutcome | None:
        if isinstance(task, ParallelGroup):
            # The engine runs the group (policy, branches, merge); its members come back
            # through this hook from the group's threads and become concurrent task runs.
            value = invoke()
            done = self._done
            self._done[task_id] = [r for m in task.tasks for r in done.get(m.task_id, ())]
            return TaskOutcome(value)
        return TaskOutcome(self._run(task, task_id, context, invoke))

    # Internals ------------------------------------------------------------------------------

    def _run(
        self,
        task: Executable,
        task_id: str,
        context: ExecutionContext,
        invoke: Callable[[], Any],
    ) -> Any:
        retry = context.retry_controller
        retries = max(0, retry.get_max_retries_for_node(task_id) - retry.get_retry_count(task_id))
        policy = retry.get_policy_for_node(task_id) or retry.default_policy
        delays = retry_delays(policy, retries, first=retry.get_retry_count(task_id))
        jitter = JITTER_FACTOR if policy is not None and policy.jitter else None
        ptask = self._tasks.get(task_id, retries, delays, jitter, self._tags)
        attempt = _Attempt(task, task_id, context, invoke, delays)
        upstream = self._upstream(task_id, context)
        if threading.get_ident() == self._flow_thread:
            state = _compat.run_task_now(ptask, attempt, upstream)
        else:
            # A parallel-group member on one of the group's threads: submit it to the flow's
            # task runner (the thread needs Prefect's context for that) and wait for it.
            _compat.enter_prefect_context(self._prefect_context)
            future = _compat.submit_task(ptask, attempt, upstream)
            future.wait()
            state = future.state
        run_id = state.state_details.task_run_id
        if run_id is not None:
            self.task_run_ids[task_id] = str(run_id)
        if state.is_completed() and attempt.ran:
            if run_id is not None:
                self._done[task_id] = [run_id]
            return attempt.value
        if attempt.error is not None:
            raise attempt.error
        raise GraflowRuntimeError(
            f"Prefect did not run task '{task_id}': its task run ended in state "
            f"{state.name!r} ({state.message or 'no message'})."
        )

    def _upstream(self, task_id: str, context: ExecutionContext) -> list[Any]:
        """Task run ids of the completed static predecessors (the UI draws them as edges).

        A group member without predecessors of its own has its (innermost) group's.
        """
        graph = context.graph
        node: str | None = context._base_id(task_id)
        preds: list[str] = []
        while node is not None:
            try:
                preds = graph.predecessors(node)
            except KeyError:
                preds = []
            if preds:
                break
            node = self._owners(context).get(node)
        done = self._done
        return [run_id for pred in preds for run_id in done.get(pred, ())]

    def _owners(self, context: ExecutionContext) -> dict[str, str]:
        """Member id → id of the group it belongs to (computed once per run)."""
        owners = self._owner_map
        if owners is None:
            owners = {}
            graph = context.graph
            pending = [graph._tasks.get(n) for n in graph.nodes]
            while pending:
                task = pending.pop()
                if isinstance(task, ParallelGroup):
                    for member in task.tasks:
                        owners.setdefault(member.task_id, task.task_id)
                        pending.append(member)
            self._owner_map = owners
        return owners


class _TaskCache:
    """Prefect ``Task`` objects by graflow id and options (creating one hashes its source)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[tuple[Any, ...], Any] = {}

    def get(
        self,
        task_id: str,
        retries: int,
        delays: Sequence[float],
        jitter: float | None,
        tags: Sequence[str],
    ) -> Any:
        key = (task_id, retries, tuple(delays), jitter, tuple(tags))
        found = self._tasks.get(key)
        if found is None:
            from prefect import Task

            options = _compat.task_options(
                name=task_id, retries=retries, retry_delays=delays, jitter_factor=jitter, tags=tags
            )
            with self._lock:
                found = self._tasks.get(key)
                if found is None:
                    found = self._tasks[key] = Task(fn=_run_attempt, **options)
        return found

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


# -- the flow ------------------------------------------------------------------------------------


class _BridgedRun:
    """The body of a bridged flow (picklable: ``flow.serve()`` ships the flow to a subprocess)."""

    def __init__(
        self,
        source: WorkflowSource,
        start_node: str | None,
        defaults: Mapping[str, Any],
        plugins: Sequence[object],
        tags: Sequence[str],
        max_steps: int,
    ) -> None:
        self.source = source
        self.start_node = start_node
        self.defaults = dict(defaults)
        self.plugins = tuple(plugins)
        self.tags = tuple(tags)
        self.max_steps = max_steps
        self.tasks = _TaskCache()

    def __call__(self, params: Mapping[str, Any]) -> Any:
        channel = {k: v for k, v in params.items() if k in self.defaults or v is not None}
        wf = self.source.fresh()
        host = PrefectTaskHost(self.tasks, self.tags)
        run_id = _compat.current_flow_run_id()
        return wf.execute(
            start_node=self.start_node,
            max_steps=self.max_steps,
            initial_channel=channel,
            plugins=(host, *self.plugins),
            workflow_run_id=run_id,
        )


def to_prefect_flow(
    workflow: Any,
    *,
    name: str | None = None,
    task_runner: Any = None,
    parameters: Mapping[str, Any] | None = None,
    start_node: str | None = None,
    plugins: Sequence[object] = (),
    tags: Sequence[str] = (),
    max_steps: int = 10000,
    description: str | None = None,
    version: str | None = None,
    **flow_options: Any,
) -> Flow[..., Any]:
    """A real Prefect ``Flow`` that runs ``workflow`` with one Prefect task run per graflow task.

    Args:
        workflow: a ``WorkflowContext``, a ``WorkflowSpec`` (or its dict / JSON), a function
            without arguments that builds a workflow (called for every run), or a
            ``"module:attr"`` reference to one of these.
        name: the flow's name (default: the workflow's name).
        task_runner: the flow's Prefect task runner (default ``ThreadPoolTaskRunner``); the
            members of parallel groups are submitted to it. Use a thread-based runner: tasks
            share the run's in-process channel.
        parameters: extra flow parameters with their defaults, ``{name: default}``; every one
            is put into the initial channel (explicit defaults, ``None`` included).
        start_node: the task a run starts from (default: the spec's, else the single root).
        plugins: further graflow run plugins for every run (tracking, tests).
        tags: Prefect tags for every task run.
        max_steps: the engine's step budget per run.
        description, version: the flow's (default: the workflow's docstring-less name / spec
            version).
        **flow_options: any other ``prefect.Flow`` option (``retries``, ``timeout_seconds``,
            ``log_prints``, ``flow_run_name``, ``persist_result`` ...).

    The flow's parameters are the run parameters the workflow's tasks read by keyword
    resolution (see :func:`workflow_parameters`), each defaulting to ``None`` — a parameter left
    at ``None`` is not put into the channel, so the task's own default applies — plus
    ``parameters``. Calling ``flow(n=20)`` runs the workflow with ``{"n": 20}`` as its initial
    channel and returns the workflow's result.

    Raises:
        ConfigError: ``workflow`` is none of the above, or a parameter name cannot be a Prefect
            flow parameter.
    """
    from prefect import Flow

    source = WorkflowSource(workflow)
    probe = source.fresh()
    flow_name = name or source.name(probe)
    defaults = dict(parameters or {})
    derived = workflow_parameters(probe)
    sig_params = []
    for pname in [*derived, *(p for p in defaults if p not in derived)]:
        _check_parameter_name(pname, flow_name)
        default = defaults.get(pname)
        sig_params.append(
            inspect.Parameter(
                pname, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Any
            )
        )
    run = _BridgedRun(
        source,
        start_node if start_node is not None else source.start_node,
        defaults,
        plugins,
        tags,
        max_steps,
    )

    def graflow_flow(**params: Any) -> Any:
        return run(params)

    graflow_flow.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
    fn_name = _flow_function_name(flow_name)
    graflow_flow.__name__ = graflow_flow.__qualname__ = fn_name
    graflow_flow.__doc__ = description or f"graflow workflow '{source.name(probe)}' on Prefect."
    graflow_flow.__graflow_run__ = run  # type: ignore[attr-defined]
    # Deployments find a flow by "<file of its module>:<function name>": the module that
    # called to_prefect_flow (assign the flow to a module-level name equal to fn_name there).
    caller = sys._getframe(1).f_globals.get("__name__")
    if isinstance(caller, str) and caller != "__main__":
        graflow_flow.__module__ = caller
    options: dict[str, Any] = dict(flow_options)
    if task_runner is not None:
        _check_task_runner(task_runner, flow_name)
        options["task_runner"] = task_runner
    if version is None and source.spec is not None:
        version = source.spec.version
    if version is not None:
        options["version"] = version
    return Flow(fn=graflow_flow, name=flow_name, description=graflow_flow.__doc__, **options)


def spec_from_rendered_flow(flow: Any) -> WorkflowSpec | None:
    """The spec of a flow made by :func:`to_prefect_flow`, or ``None`` for any other flow.

    A rendered flow runs the graflow engine and calls no Prefect task of its own, so it is read
    back from what it runs (the spec it was given, else the spec of its workflow), not recorded.
    The spec returned is a copy: changing it does not change what the flow runs.
    """
    run = getattr(getattr(flow, "fn", None), "__graflow_run__", None)
    if not isinstance(run, _BridgedRun):
        return None
    if run.source.spec is not None and run.start_node == run.source.spec.start_node:
        import copy

        return copy.deepcopy(run.source.spec)
    from graflow_core.spec import build_spec

    return build_spec(run.source.fresh(), start_node=run.start_node)
