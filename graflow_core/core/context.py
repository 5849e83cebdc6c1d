"""Run-time state: ``ExecutionContext`` (one run) and ``TaskExecutionContext`` (one task).

The ``ExecutionContext`` holds the queue, the channel (results and shared data), cycle and retry
bookkeeping, control flags set by tasks, and checkpoint requests.  A task that declares
``inject_context=True`` receives a ``TaskExecutionContext`` with the control-flow API:
``next_task``, ``next_iteration``, ``terminate_workflow``, ``cancel_workflow``, ``checkpoint``.
"""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.core import hooks as _hooks
from graflow_core.core.cycle import CycleController
from graflow_core.core.graph import TaskGraph
from graflow_core.core.retry import RetryController
from graflow_core.exceptions import ConfigError
from graflow_core.queue.local import LocalTaskQueue
from graflow_core.trace.noop import NoopTracer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from graflow_core.channels.base import Channel
    from graflow_core.channels.typed import TypedChannel
    from graflow_core.core.checkpoint import CheckpointMetadata
    from graflow_core.core.task import Executable

T = TypeVar("T")

_ITERATION_SUFFIX = re.compile(r"(_cycle_\d+_[0-9a-f]+)+$")

# Version of the ``<base>.state.json`` layout (Graflow's value).
CHECKPOINT_SCHEMA_VERSION = "1.0"


def _new_session_id() -> str:
    return os.urandom(16).hex()


class TaskExecutionContext:
    """What a task sees of the run it is part of (passed with ``inject_context=True``)."""

    __slots__ = ("execution_context", "local_data", "start_time", "task_id")

    def __init__(self, task_id: str, execution_context: ExecutionContext) -> None:
        self.task_id = task_id
        self.execution_context = execution_context
        self.start_time = time.time()
        self.local_data: dict[str, Any] = {}

    @property
    def _base_task_id(self) -> str:
        # Derived when a counter below is read (rare), not stored: the engine builds one
        # TaskExecutionContext per task.
        return self.execution_context._base_id(self.task_id)

    # -- counters ------------------------------------------------------------------------------

    @property
    def cycle_count(self) -> int:
        """How many times this task (its base id) has run in this workflow run."""
        return self.execution_context.cycle_controller.get_cycle_count(self._base_task_id)

    @property
    def max_cycles(self) -> int:
        """This task's cycle budget."""
        return self.execution_context.cycle_controller.get_max_cycles_for_node(self._base_task_id)

    @property
    def retry_count(self) -> int:
        """How often this task has been retried so far."""
        return self.execution_context.retry_controller.get_retry_count(self._base_task_id)

    @property
    def max_retries(self) -> int:
        """This task's retry budget."""
        return self.execution_context.retry_controller.get_max_retries_for_node(self._base_task_id)

    @property
    def trace_id(self) -> str:
        """The run's trace id (shared by parallel branches)."""
        return self.execution_context.trace_id

    @property
    def session_id(self) -> str:
        """The run's session id."""
        return self.execution_context.session_id

    @property
    def graph(self) -> TaskGraph:
        """The workflow graph being executed."""
        return self.execution_context.graph

    @property
    def llm_client(self) -> Any:
        """The run's LLM client."""
        return self.execution_context.llm_client

    @property
    def prompt_manager(self) -> Any:
        """The run's prompt manager."""
        return self.execution_context.prompt_manager

    # -- control flow --------------------------------------------------------------------------

    def can_iterate(self) -> bool:
        """True while this task may run again (``cycle_count < max_cycles``)."""
        return self.execution_context.cycle_controller.accept_next_cycle(self._base_task_id)

    def next_iteration(self, data: Any = None) -> str:
        """Run this task again (with ``data`` as its second argument); returns the new id."""
        return self.execution_context.next_iteration(data, self.task_id)

    def next_task(self, executable: Executable, goto: bool = False) -> str:
        """Queue ``executable`` next; ``goto=True`` skips this task's static successors."""
        return self.execution_context.next_task(executable, goto=goto)

    def terminate_workflow(self, message: str) -> None:
        """End the run normally after this task (successors do not run)."""
        self.execution_context.terminate_workflow(message)

    def cancel_workflow(self, message: str) -> None:
        """Abort the run: ``execute()`` raises ``GraflowWorkflowCanceledError``."""
        self.execution_context.cancel_workflow(message)

    # -- data ----------------------------------------------------------------------------------

    def get_channel(self) -> Channel:
        """The run's channel."""
        return self.execution_context.channel

    def get_typed_channel(self, message_type: type[T]) -> TypedChannel[T]:
        """A :class:`TypedChannel` validating values against the TypedDict ``message_type``."""
        from graflow_core.channels.typed import TypedChannel

        return TypedChannel(self.execution_context.channel, message_type)

    def get_result(self, node: str, default: Any = None) -> Any:
        """The stored result of task ``node``."""
        return self.execution_context.get_result(node, default)

    def get_llm_agent(self, name: str) -> Any:
        """The LLM agent registered under ``name``."""
        return self.execution_context.get_llm_agent(name)

    def register_llm_agent(self, name: str, agent: Any) -> None:
        """Register an LLM agent for this run."""
        self.execution_context.register_llm_agent(name, agent)

    def set_local_data(self, key: str, value: Any) -> None:
        """Store a value private to this task execution."""
        self.local_data[key] = value

    def get_local_data(self, key: str, default: Any = None) -> Any:
        """Read a value stored with :meth:`set_local_data`."""
        return self.local_data.get(key, default)

    def elapsed_time(self) -> float:
        """Seconds since this task started."""
        return time.time() - self.start_time

    # -- checkpoints ---------------------------------------------------------------------------

    def checkpoint(
        self,
        metadata: dict[str, Any] | None = None,
        *,
        path: str | None = None,
        deferred: bool = True,
    ) -> tuple[str, CheckpointMetadata] | None:
        """Checkpoint the run.

        Deferred (default): written after this task succeeds and its successors are queued;
        on resume the run continues after this task.  Immediate: written now and returns
        ``(pkl_path, metadata)``; on resume this task runs again from its start.
        """
        meta = dict(metadata or {})
        meta.setdefault("task_id", self.task_id)
        meta.setdefault("cycle_count", self.cycle_count)
        meta.setdefault("elapsed_time", self.elapsed_time())
        meta.setdefault("mode", "deferred" if deferred else "immediate")
        ctx = self.execution_context
        if deferred:
            ctx.request_checkpoint(meta, path=path)
            return None
        from graflow_core.core.checkpoint import CheckpointManager

        return CheckpointManager.create_checkpoint(
            ctx, path=path, metadata=meta, resuming_task_id=self.task_id
        )

    def __str__(self) -> str:
        return f"TaskExecutionContext(task_id={self.task_id}, cycle_count={self.cycle_count})"

    __repr__ = __str__


class ExecutionContext:
    """The state of one workflow run (or of one parallel branch of it)."""

    #: Where tasks that fail for good are recorded (``workflow(..., dead_letter_store=...)``).
    dead_letter_store: Any = None
    #: The workflow's version (``workflow(..., version=...)``), for specs and tracking plugins.
    workflow_version: str | None = None
    #: Called as ``f(context, task_id)`` after each completed task of the root context, once its
    #: successors are queued (durable runs checkpoint there). Not pickled.
    _after_task: Any = None
    #: Plugins of this run only (``use_plugins``) and the hooks they implement. Not pickled.
    _plugins: tuple[object, ...] = ()
    _plugin_snapshot: Any = None
    #: ``"workflow"`` when this context runs a whole workflow (natively, in a GraflowOperator,
    #: in a Prefect flow); ``"step"`` when an orchestrator runs the workflow one native task per
    #: graflow task and this context runs one of them (:mod:`graflow_core.steps`). Tracking
    #: plugins use it to open a parent run once per :attr:`workflow_run_id`.
    run_scope: str = "workflow"
    _workflow_run_id: str | None = None

    def __init__(
        self,
        graph: TaskGraph,
        start_node: str | None = None,
        max_steps: int = 10000,
        default_max_cycles: int = 10,
        default_max_retries: int = 0,
        steps: int = 0,
        channel_backend: str = "memory",
        config: dict[str, Any] | None = None,
        parent_context: ExecutionContext | None = None,
        session_id: str | None = None,
        trace_id: str | None = None,
        tracer: Any = None,
        llm_client: Any = None,
        prompt_manager: Any = None,
        workflow_run_id: str | None = None,
    ) -> None:
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ConfigError(f"max_steps must be an int >= 1, got {max_steps!r}")
        self.graph = graph
        self.start_node = start_node
        self.max_steps = max_steps
        self.default_max_cycles = default_max_cycles
        self.default_max_retries = default_max_retries
        self.steps = steps
        self.channel_backend = channel_backend
        self._config = {k: v for k, v in (config or {}).items() if k != "redis_client"}
        self.parent_context = parent_context
        self.session_id = session_id or _new_session_id()
        self.trace_id = trace_id or self.session_id
        if workflow_run_id is not None:
            self._workflow_run_id = workflow_run_id
        self.tracer = tracer if tracer is not None else NoopTracer()
        self._llm_client = llm_client
        self._prompt_manager = prompt_manager
        self.workflow_name: str | None = None
        if channel_backend == "memory":
            self.channel: Channel = MemoryChannel(self.session_id)
        else:
            from graflow_core.channels.factory import ChannelFactory

            self.channel = ChannelFactory.create_channel(
                channel_backend, self.session_id, **(config or {})
            )
        self._init_run_state()
        self.cycle_controller = CycleController(default_max_cycles)
        self.retry_controller = RetryController(default_max_retries)
        self.task_queue = LocalTaskQueue(self, start_node)

    def _init_run_state(self) -> None:
        self.completed_tasks: list[str] = []
        self._completed_set: set[str] = set()
        self.skipped_tasks: list[str] = []
        self.checkpoint_metadata: dict[str, Any] = {}
        self.last_checkpoint_path: str | None = None
        self.checkpoint_requested = False
        self.checkpoint_request_metadata: dict[str, Any] | None = None
        self.checkpoint_request_path: str | None = None
        self.goto_called = False
        self.terminate_called = False
        self.cancel_called = False
        self.ctrl_message: str | None = None
        self.graph_hash: str | None = None
        self._llm_agents: dict[str, Any] = {}
        self._task_ctx_stack: list[TaskExecutionContext] = []
        self._iteration_bases: dict[str, str] = {}
        self._join_arrivals: dict[str, set[str]] = {}
        self._tracing = type(self.tracer) is not NoopTracer
        channel = self.channel
        self._fast_data: dict[str, Any] | None = (
            channel._data if type(channel) is MemoryChannel else None
        )

    @classmethod
    def create(
        cls,
        graph: TaskGraph,
        start_node: str | None = None,
        max_steps: int = 10000,
        default_max_cycles: int = 10,
        default_max_retries: int = 0,
        channel_backend: str = "memory",
        config: dict[str, Any] | None = None,
        tracer: Any = None,
        llm_client: Any = None,
        prompt_manager: Any = None,
        workflow_run_id: str | None = None,
    ) -> ExecutionContext:
        """A root context; ``start_node`` defaults to the graph's first start node."""
        if start_node is None:
            candidates = graph.get_start_nodes()
            start_node = candidates[0] if candidates else None
        return cls(
            graph,
            start_node,
            max_steps=max_steps,
            default_max_cycles=default_max_cycles,
            default_max_retries=default_max_retries,
            channel_backend=channel_backend,
            config=config,
            tracer=tracer,
            llm_client=llm_client,
            prompt_manager=prompt_manager,
            workflow_run_id=workflow_run_id,
        )

    # -- properties ----------------------------------------------------------------------------

    @property
    def workflow_run_id(self) -> str:
        """The identity of the workflow run this context belongs to (default: the session id).

        Bridges set it to the orchestrator's run identity (Airflow ``"<dag_id>/<run_id>"``,
        the Prefect flow run id, the Dagster run id), so that every orchestrator task of one
        workflow run -- and every parallel branch and resumed checkpoint -- reports the same
        id. It is saved in checkpoints.
        """
        run_id = self._workflow_run_id
        return run_id if run_id is not None else self.session_id

    @workflow_run_id.setter
    def workflow_run_id(self, value: str | None) -> None:
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"workflow_run_id must be a non-empty string, got {value!r}")
        self._workflow_run_id = value

    @property
    def queue(self) -> LocalTaskQueue:
        """Alias of :attr:`task_queue`."""
        return self.task_queue

    @property
    def config(self) -> dict[str, Any]:
        """The constructor's config (without clients)."""
        return self._config

    @property
    def llm_client(self) -> Any:
        """The LLM client given to this context (or its parent)."""
        if self._llm_client is None and self.parent_context is not None:
            return self.parent_context.llm_client
        if self._llm_client is None:
            raise ConfigError(
                "No LLM client configured for this run: pass llm_client=... to "
                "ExecutionContext.create(), or use an LLM plugin (e.g. graflow-langchain)."
            )
        return self._llm_client

    @property
    def prompt_manager(self) -> Any:
        """The prompt manager given to this context (or its parent)."""
        if self._prompt_manager is None and self.parent_context is not None:
            return self.parent_context.prompt_manager
        return self._prompt_manager

    # -- queue ---------------------------------------------------------------------------------

    def add_to_queue(self, executable: Executable) -> None:
        """Queue ``executable`` (by id) at the tail."""
        self.task_queue._ids.append(executable.task_id)
        if self._tracing:
            self.tracer.on_task_queued(executable, self)

    def get_next_task(self) -> str | None:
        """Dequeue the next task id (None when the queue is empty)."""
        ids = self.task_queue._ids
        return ids.popleft() if ids else None

    def is_completed(self) -> bool:
        """True when nothing is queued."""
        return not self.task_queue._ids

    def increment_step(self) -> None:
        """Count one executed step."""
        self.steps += 1

    # -- results and channel -------------------------------------------------------------------

    def set_result(self, task_id: str, result: Any) -> None:
        """Store a task's result under ``"<task_id>.__result__"``."""
        self.channel.set(f"{task_id}.__result__", result)

    def get_result(self, task_id: str, default: Any = None) -> Any:
        """A task's stored result (an exception object if it failed)."""
        return self.channel.get(f"{task_id}.__result__", default)

    def get_channel(self) -> Channel:
        """The run's channel."""
        return self.channel

    def _resolve_into(self, plan: tuple[tuple[str, str], ...], out: dict[str, Any]) -> None:
        """Fill ``out`` from the channel: ``"<name>.__result__"`` first, then ``"<name>"``."""
        data = self._fast_data
        channel = self.channel
        if data is not None and not channel._expiry:  # type: ignore[attr-defined]
            for name, result_key in plan:
                if result_key in data:
                    out[name] = data[result_key]
                elif name in data:
                    out[name] = data[name]
            return
        for name, result_key in plan:
            if channel.exists(result_key):
                out[name] = channel.get(result_key)
            elif channel.exists(name):
                out[name] = channel.get(name)

    # -- task contexts -------------------------------------------------------------------------

    def _base_id(self, task_id: str) -> str:
        base = self._iteration_bases.get(task_id)
        if base is not None:
            return base
        if "_cycle_" in task_id:
            return _ITERATION_SUFFIX.sub("", task_id) or task_id
        return task_id

    def create_task_context(self, task_id: str) -> TaskExecutionContext:
        """A new :class:`TaskExecutionContext` for ``task_id``."""
        return TaskExecutionContext(task_id, self)

    def push_task_context(self, task_ctx: TaskExecutionContext) -> None:
        """Make ``task_ctx`` the current task context."""
        self._task_ctx_stack.append(task_ctx)

    def pop_task_context(self) -> TaskExecutionContext | None:
        """Remove and return the current task context."""
        return self._task_ctx_stack.pop() if self._task_ctx_stack else None

    @property
    def current_task_context(self) -> TaskExecutionContext | None:
        """The context of the task being executed (a branch falls back to its parent's)."""
        stack = self._task_ctx_stack
        if stack:
            return stack[-1]
        if self.parent_context is not None:
            return self.parent_context.current_task_context
        return None

    @property
    def current_task_id(self) -> str | None:
        """The id of the task being executed."""
        ctx = self.current_task_context
        return ctx.task_id if ctx is not None else None

    def _apply_task_settings(self, task: Executable, task_id: str, base_id: str) -> None:
        max_cycles = getattr(task, "max_cycles", None)
        if max_cycles is not None:
            self.cycle_controller.node_max_cycles[task_id] = max_cycles
        retry = self.retry_controller
        policy = getattr(task, "retry_policy", None)
        if policy is not None:
            retry.set_node_policy(task_id, policy)
        else:
            max_retries = getattr(task, "max_retries", None)
            if max_retries is not None:
                retry.node_max_retries[task_id] = max_retries
            elif task_id != base_id:
                base_policy = retry.node_policies.get(base_id)
                if base_policy is not None:
                    retry.set_node_policy(task_id, base_policy)
                elif base_id in retry.node_max_retries:
                    retry.node_max_retries[task_id] = retry.node_max_retries[base_id]

    @contextmanager
    def executing_task(self, task: Executable) -> Iterator[TaskExecutionContext]:
        """Bookkeeping around one task execution (cycles, tracer, task-context stack)."""
        task_id = task.task_id
        base_id = self._base_id(task_id)
        self._apply_task_settings(task, task_id, base_id)
        if self.retry_controller.retry_counts.get(task_id, 0) == 0:
            self.cycle_controller.increment(base_id)
        task_ctx = TaskExecutionContext(task_id, self)
        if self._tracing:
            self.tracer.on_task_start(task, self)
        self._task_ctx_stack.append(task_ctx)
        error: BaseException | None = None
        try:
            task.set_execution_context(self)
            yield task_ctx
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._task_ctx_stack.pop()
            if self._tracing:
                self.tracer.on_task_end(task, self, result=None, error=error)

    # -- control flow --------------------------------------------------------------------------

    def next_task(self, executable: Executable, goto: bool = False) -> str:
        """Queue ``executable`` after the current task.

        A task that is not yet part of the graph is added and the current task's successors
        still run; ``goto=True``, or a task already in the graph, skips them.
        """
        from graflow_core.core.task import SequentialTask, _check_operand

        _check_operand(executable, "next_task()")
        if isinstance(executable, SequentialTask):
            executable = executable.leftmost  # the rest follows through the chain's edges

        task_id = executable.task_id
        is_new = self.graph.add_dynamic_node(executable)
        if is_new:
            executable._pending_registration = False

        if goto or not is_new:
            self.goto_called = True
        self.task_queue._ids.append(task_id)
        if self._tracing:
            self.tracer.on_task_queued(executable, self)
            self.tracer.on_dynamic_task_added(
                task_id,
                parent_task_id=self.current_task_id,
                is_iteration=task_id in self._iteration_bases,
                metadata={"goto": goto, "is_new": is_new},
            )
        hooks = _hooks.hooks_for(self)
        if hooks is not None and hooks.dynamic_task_added is not None:
            hooks.dynamic_task_added(task=executable, task_id=task_id, context=self, goto=goto)
        return task_id

    def _add_dynamic_node(self, executable: Executable) -> None:
        """Add a task created during the run to the graph (it stays new for next_task)."""
        if self.graph.add_dynamic_node(executable):
            executable._pending_registration = False

    def _new_group_id(self) -> str:
        """A ``ParallelGroup_<n>`` id not used in the running graph."""
        tasks = self.graph._tasks
        n = len(tasks) + 1
        while f"ParallelGroup_{n}" in tasks:
            n += 1
        return f"ParallelGroup_{n}"

    def next_iteration(self, data: Any = None, task_id: str | None = None) -> str:
        """Run the current task again; its static successors wait for the last iteration."""
        from graflow_core.core.task import TaskWrapper

        current_id = task_id or self.current_task_id
        if current_id is None:
            raise ValueError("next_iteration() needs a running task or an explicit task_id")
        base_id = self._base_id(current_id)
        graph = self.graph
        if not graph.has_node(base_id):
            raise ValueError(f"Task '{base_id}' is not part of the workflow graph")
        self.cycle_controller.check_cycle_limit(base_id)
        count = self.cycle_controller.get_cycle_count(base_id)
        iteration_id = f"{base_id}_cycle_{count}_{os.urandom(4).hex()}"
        base_task = graph.get_node(base_id)
        exec_context = self

        def iteration_func() -> Any:
            base_task.set_execution_context(exec_context)
            if getattr(base_task, "inject_context", False):
                return base_task() if data is None else base_task(data)
            task_ctx = exec_context.current_task_context
            return base_task(task_ctx) if data is None else base_task(task_ctx, data)

        iteration = TaskWrapper(iteration_id, iteration_func, register_to_context=False)
        self._iteration_bases[iteration_id] = base_id
        graph.add_dynamic_node(iteration)

        self.goto_called = True
        self.task_queue._ids.append(iteration_id)
        if self._tracing:
            self.tracer.on_task_queued(iteration, self)
            self.tracer.on_dynamic_task_added(
                iteration_id, parent_task_id=current_id, is_iteration=True, metadata={"data": data}
            )
        hooks = _hooks.hooks_for(self)
        if hooks is not None and hooks.dynamic_task_added is not None:
            hooks.dynamic_task_added(task=iteration, task_id=iteration_id, context=self, goto=True)
        return iteration_id

    def terminate_workflow(self, message: str) -> None:
        """End the run normally once the current task completes."""
        self.terminate_called = True
        self.ctrl_message = message

    def cancel_workflow(self, message: str) -> None:
        """Abort the run once the current task returns."""
        self.cancel_called = True
        self.ctrl_message = message

    def reset_goto_flag(self) -> None:
        """Clear the goto flag."""
        self.goto_called = False

    def reset_terminate_flag(self) -> None:
        """Clear the terminate flag."""
        self.terminate_called = False

    def reset_cancel_flag(self) -> None:
        """Clear the cancel flag."""
        self.cancel_called = False

    def reset_control_flags(self) -> None:
        """Clear goto, terminate and cancel flags and the control message."""
        self.goto_called = self.terminate_called = self.cancel_called = False
        self.ctrl_message = None

    # -- LLM agents ----------------------------------------------------------------------------

    def register_llm_agent(self, name: str, agent: Any) -> None:
        """Register an LLM agent for this run."""
        self._llm_agents[name] = agent

    def get_llm_agent(self, name: str) -> Any:
        """The agent registered under ``name`` (``KeyError`` if none)."""
        agent = self._llm_agents.get(name)
        if agent is None and self.parent_context is not None:
            try:
                return self.parent_context.get_llm_agent(name)
            except KeyError:
                pass
        if agent is None:
            raise KeyError(
                f"LLM agent '{name}' is not registered; call wf.register_llm_agent('{name}', ...)"
            )
        return agent

    # -- checkpoints ---------------------------------------------------------------------------

    def mark_task_completed(self, task_id: str) -> None:
        """Record ``task_id`` as completed (once, in order)."""
        if task_id not in self._completed_set:
            self._completed_set.add(task_id)
            self.completed_tasks.append(task_id)

    def request_checkpoint(
        self, metadata: dict[str, Any] | None = None, *, path: str | None = None
    ) -> None:
        """Ask the engine for a deferred checkpoint after the current task."""
        self.checkpoint_requested = True
        self.checkpoint_request_metadata = metadata
        self.checkpoint_request_path = path

    def clear_checkpoint_request(self) -> None:
        """Forget a pending checkpoint request."""
        self.checkpoint_requested = False
        self.checkpoint_request_metadata = None
        self.checkpoint_request_path = None

    def get_checkpoint_state(self) -> dict[str, Any]:
        """The serialisable run state written to ``<base>.state.json``."""
        return {
            "schema_version": CHECKPOINT_SCHEMA_VERSION,
            "session_id": self.session_id,
            "trace_id": self.trace_id,
            "start_node": self.start_node,
            "steps": self.steps,
            "completed_tasks": list(self.completed_tasks),
            "cycle_counts": dict(self.cycle_controller.cycle_counts),
            "backend": {"channel": self.channel_backend},
        }

    def set_tracer(self, tracer: Any) -> None:
        """Replace this context's tracer (``None``: no tracing)."""
        self.tracer = tracer if tracer is not None else NoopTracer()
        self._tracing = type(self.tracer) is not NoopTracer

    def use_plugins(self, *plugins: object) -> None:
        """Add plugins for this run only (on top of the process-wide ones).

        A bridge hosting one run adds its ``execute_task`` plugin here, so other runs in the
        process are not affected. Not saved in checkpoints: add them again after resuming.
        """
        if not plugins:
            return
        from graflow_core.plugins.manager import run_plugin_manager

        self._plugins = (*self._plugins, *plugins)
        self._plugin_snapshot = _hooks.snapshot_of(run_plugin_manager(self._plugins))

    # -- parallel branches ---------------------------------------------------------------------

    def create_branch_context(self, branch_id: str) -> ExecutionContext:
        """A context for one parallel-group member: same graph, a fork of the channel."""
        branch = ExecutionContext.__new__(ExecutionContext)
        branch.graph = self.graph
        branch.start_node = branch_id
        branch.max_steps = self.max_steps
        branch.default_max_cycles = self.default_max_cycles
        branch.default_max_retries = self.default_max_retries
        branch.steps = 0
        branch.channel_backend = self.channel_backend
        branch._config = self._config
        branch.parent_context = self
        branch.session_id = f"{self.session_id}_{branch_id}"
        branch._workflow_run_id = self.workflow_run_id
        if self.run_scope != "workflow":
            branch.run_scope = self.run_scope
        branch.trace_id = self.trace_id
        tracer = self.tracer
        branch.tracer = tracer.clone(self.trace_id) if self._tracing else tracer
        branch._llm_client = None
        branch._prompt_manager = None
        branch.workflow_name = self.workflow_name
        fork = getattr(self.channel, "fork", None)
        branch.channel = fork(branch.session_id) if fork is not None else self.channel
        branch._init_run_state()
        branch.cycle_controller = CycleController(self.default_max_cycles)
        branch.cycle_controller.node_max_cycles = dict(self.cycle_controller.node_max_cycles)
        branch.retry_controller = RetryController(self.default_max_retries)
        branch.retry_controller.default_policy = self.retry_controller.default_policy
        branch.dead_letter_store = self.dead_letter_store
        branch.workflow_version = self.workflow_version
        branch._plugins = self._plugins
        branch._plugin_snapshot = self._plugin_snapshot
        branch._iteration_bases = self._iteration_bases
        branch.task_queue = LocalTaskQueue(branch, None)
        return branch

    def merge_results(self, sub_context: ExecutionContext) -> None:
        """Fold a finished branch back in: channel (last writer wins), steps, cycle counts."""
        if sub_context.channel is not self.channel:
            merge = getattr(self.channel, "merge_from", None)
            if merge is not None:
                merge(sub_context.channel)
            else:
                for key in sub_context.channel.keys():  # noqa: SIM118 - Channel API
                    self.channel.set(key, sub_context.channel.get(key))
        self.steps += sub_context.steps
        self.cycle_controller.cycle_counts.update(sub_context.cycle_controller.cycle_counts)
        self.skipped_tasks.extend(sub_context.skipped_tasks)

    def mark_branch_completed(self, branch_id: str) -> None:
        """Kept for Graflow compatibility; does nothing."""

    # -- running and persistence ---------------------------------------------------------------

    def execute(self) -> Any:
        """Run (or continue) this context with a default :class:`WorkflowEngine`."""
        from graflow_core.core.engine import WorkflowEngine

        return WorkflowEngine().execute(self)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in (
            "task_queue",
            "channel",
            "_fast_data",
            "_task_ctx_stack",
            "parent_context",
            "_after_task",
            "_plugins",
            "_plugin_snapshot",
        ):
            state.pop(key, None)
        state["_pending_ids"] = list(self.task_queue._ids)
        channel = self.channel
        if isinstance(channel, MemoryChannel):
            state["_channel_data"] = dict(channel._data)
            state["_channel_expiry"] = dict(channel._expiry)
        else:
            state["_channel_data"] = None
        tracer = state.get("tracer")
        if tracer is not None and not isinstance(tracer, NoopTracer):
            state["tracer"] = NoopTracer()
            state["_tracing"] = False
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        channel_data = state.pop("_channel_data", None)
        channel_expiry = state.pop("_channel_expiry", None) or {}
        state.pop("_pending_ids", None)
        self.__dict__.update(state)
        self.parent_context = None
        self._task_ctx_stack = []
        if self.channel_backend == "memory" or channel_data is not None:
            channel = MemoryChannel(self.session_id)
            channel._data.update(channel_data or {})
            channel._expiry.update(channel_expiry)
            self.channel = channel
        else:
            from graflow_core.channels.factory import ChannelFactory

            self.channel = ChannelFactory.create_channel(
                self.channel_backend, self.session_id, **self._config
            )
        self._fast_data = self.channel._data if type(self.channel) is MemoryChannel else None
        self.task_queue = LocalTaskQueue(self, self.start_node)

    def save(self, path: str = "execution_context.pkl") -> None:
        """Pickle this context (cloudpickle) to ``path`` as a signed envelope, atomically.

        Needs ``GRAFLOW_SECRET_KEY`` like every checkpoint (see docs/checkpoints.md).
        """
        from graflow_core.checkpoint_stores.local import write_file_atomic
        from graflow_core.signing import dumps_signed

        write_file_atomic(path, dumps_signed(self))

    @classmethod
    def load(cls, path: str = "execution_context.pkl") -> ExecutionContext:
        """Load a context saved with :meth:`save`, verified before it is unpickled.

        Its queue restarts at the start node.
        """
        from graflow_core.signing import loads_signed

        with open(path, "rb") as fh:
            ctx = loads_signed(fh.read(), what=path)
        if not isinstance(ctx, cls):
            raise TypeError(f"{path} does not hold an ExecutionContext")
        return ctx


def create_execution_context(
    start_node: str = "ROOT", max_steps: int = 10, tracer: Any = None
) -> ExecutionContext:
    """A context over a graph holding one placeholder task ``start_node``."""
    from graflow_core.core.task import Task

    graph = TaskGraph()
    graph.add_node(Task(start_node, register_to_context=False), start_node)
    return ExecutionContext.create(graph, start_node, max_steps=max_steps, tracer=tracer)


def execute_with_cycles(graph: TaskGraph, start_node: str, max_steps: int = 10) -> None:
    """Run ``graph`` from ``start_node`` with at most ``max_steps`` steps."""
    from graflow_core.core.engine import WorkflowEngine

    WorkflowEngine().execute_with_cycles(graph, start_node, max_steps)


__all__ = [
    "ExecutionContext",
    "TaskExecutionContext",
    "create_execution_context",
    "execute_with_cycles",
]
