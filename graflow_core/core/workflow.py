"""``workflow()`` / ``WorkflowContext``: the builder scope that tasks register into."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.core.graph import TaskGraph
from graflow_core.core.retry import RetryPolicy
from graflow_core.exceptions import (
    ConfigError,
    GraflowRuntimeError,
    GraphCompilationError,
    TaskNotFoundError,
)

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.engine import WorkflowEngine
    from graflow_core.core.handler import TaskHandler
    from graflow_core.core.task import Executable

_current_context: contextvars.ContextVar[WorkflowContext | None] = contextvars.ContextVar(
    "_current_context", default=None
)

# The ExecutionContext an engine is running in this thread, with the workflow block that was
# active when the run started (None outside a run).  Tasks created during a run are *dynamic*:
# they do not register into that block but join the running graph when they are chained or
# passed to ``next_task``.  A ``with workflow()`` block entered inside a task starts a fresh,
# ordinary workflow again.
_running: contextvars.ContextVar[tuple[ExecutionContext, WorkflowContext | None] | None] = (
    contextvars.ContextVar("_graflow_running", default=None)
)


def _start_running(
    context: ExecutionContext,
) -> contextvars.Token[tuple[ExecutionContext, WorkflowContext | None] | None]:
    """Mark ``context`` as running in this thread (undo with ``_running.reset(token)``)."""
    return _running.set((context, _current_context.get()))


def _dynamic_context() -> ExecutionContext | None:
    """The running context if tasks created now are dynamic (no block entered since it began)."""
    state = _running.get()
    if state is None or _current_context.get() is not state[1]:
        return None
    return state[0]


def _new_name() -> str:
    import uuid

    return uuid.uuid4().hex


class WorkflowContext:
    """A named workflow: its :class:`TaskGraph`, handlers, LLM agents and tracer.

    Used as ``with workflow("name") as wf:``; tasks defined or chained inside the block become
    nodes of ``wf.graph``.
    """

    def __init__(
        self,
        name: str,
        tracer: Any = None,
        prompt_manager: Any = None,
        *,
        version: str | None = None,
        retry_policy: RetryPolicy | None = None,
        dead_letter_store: Any = None,
    ) -> None:
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise ConfigError(
                f"workflow '{name}': retry_policy must be a RetryPolicy, got {retry_policy!r}"
            )
        if dead_letter_store is not None and not callable(
            getattr(dead_letter_store, "record_failure", None)
        ):
            raise ConfigError(
                f"workflow '{name}': dead_letter_store must be a DeadLetterStore (an object "
                f"with record_failure()), got {dead_letter_store!r}"
            )
        self.name = name
        self.version = version
        self.retry_policy = retry_policy
        self.dead_letter_store = dead_letter_store
        self.graph = TaskGraph()
        self._task_counter = 0
        self._group_counter = 0
        self._redis_client: Any = None
        self._tracer = tracer
        self._prompt_manager = prompt_manager
        self._llm_agent_providers: dict[str, Any] = {}
        self._handlers: dict[str, TaskHandler] = {}
        # True for the context current_workflow_context() creates when none is active: tasks
        # registered there stay free to be connected into any workflow.
        self._implicit = False
        self._tokens: list[contextvars.Token[WorkflowContext | None]] = []

    # -- context manager -----------------------------------------------------------------------

    def __enter__(self) -> WorkflowContext:
        self._tokens.append(_current_context.set(self))
        return self

    def __exit__(self, exc_type: object, exc_val: object, exc_tb: object) -> None:
        if self._tokens:
            _current_context.reset(self._tokens.pop())

    # -- graph building ------------------------------------------------------------------------

    def add_node(self, name: str, task: Executable, skip_if_exists: bool = False) -> None:
        """Add ``task`` to the graph under ``name``."""
        self.graph.add_node(task, name, skip_if_exists=skip_if_exists)
        task._owner = self

    def add_edge(self, from_node: str, to_node: str) -> None:
        """Add the edge ``from_node -> to_node``."""
        self.graph.add_edge(from_node, to_node)

    def rename_node(self, old_task_id: str, new_task_id: str) -> None:
        """Rename a node (raises ``ValueError`` if the new id exists)."""
        self.graph.rename_node(old_task_id, new_task_id)

    def clear(self) -> None:
        """Remove every task from the workflow."""
        self.graph.clear()
        self._task_counter = 0
        self._group_counter = 0

    def get_next_group_name(self) -> str:
        """The next ``ParallelGroup_<n>`` id of this workflow."""
        self._group_counter += 1
        return f"ParallelGroup_{self._group_counter}"

    def set_redis_client(self, redis_client: Any) -> None:
        """Remember a Redis client (for Graflow compatibility; the core does not use it)."""
        self._redis_client = redis_client

    def get_redis_client(self) -> Any:
        """The Redis client set with :meth:`set_redis_client`."""
        return self._redis_client

    # -- extension -----------------------------------------------------------------------------

    def register_llm_agent(self, name: str, agent_or_factory: Any) -> None:
        """Register an LLM agent, or a factory ``f(ExecutionContext) -> agent``, by name."""
        self._llm_agent_providers[name] = agent_or_factory

    def register_handler(self, handler_type: str, handler: TaskHandler) -> None:
        """Register a custom :class:`TaskHandler` used by ``@task(handler=handler_type)``.

        The handler is used by :meth:`execute` and inside parallel groups.
        """
        self._handlers[handler_type] = handler

    # -- running -------------------------------------------------------------------------------

    def _resolve_start_node(self, start_node: str | None) -> str:
        graph = self.graph
        if start_node is not None:
            if not graph.has_node(start_node):
                raise TaskNotFoundError(
                    start_node, f"given as start node of workflow '{self.name}'", list(graph.nodes)
                )
            return start_node
        candidates = graph.get_start_nodes()
        if not candidates:
            raise GraphCompilationError(
                "No start node specified and no nodes with no predecessors found."
                + (
                    f" Workflow '{self.name}' is empty: define tasks inside `with workflow(...)`."
                    if len(graph) == 0
                    else f" Every task of workflow '{self.name}' has a predecessor (a cycle):"
                    " pass start_node=... to execute()."
                )
            )
        if len(candidates) > 1:
            raise GraphCompilationError(
                "Multiple start nodes found, please specify one. "
                f"Workflow '{self.name}' has {len(candidates)} tasks without predecessors: "
                f"{', '.join(repr(c) for c in candidates[:10])}"
                f"{', ...' if len(candidates) > 10 else ''}; pass start_node=... to execute() "
                "or connect them with >>."
            )
        return candidates[0]

    def create_execution_context(
        self,
        start_node: str | None = None,
        max_steps: int = 10000,
        initial_channel: dict[str, Any] | None = None,
        *,
        workflow_run_id: str | None = None,
    ) -> ExecutionContext:
        """A fresh :class:`ExecutionContext` for a run of this workflow.

        ``workflow_run_id`` names the run (default: its session id), see
        :attr:`ExecutionContext.workflow_run_id`.
        """
        from graflow_core.core.context import ExecutionContext

        start = self._resolve_start_node(start_node)
        exec_context = ExecutionContext.create(
            self.graph,
            start,
            max_steps=max_steps,
            tracer=self._tracer,
            prompt_manager=self._prompt_manager,
            workflow_run_id=workflow_run_id,
        )
        exec_context.workflow_name = self.name
        exec_context.workflow_version = self.version
        if self.retry_policy is not None:
            exec_context.default_max_retries = self.retry_policy.max_retries
            exec_context.retry_controller.set_default_policy(self.retry_policy)
        if self.dead_letter_store is not None:
            exec_context.dead_letter_store = self.dead_letter_store
        if initial_channel:
            channel = exec_context.channel
            for key, value in initial_channel.items():
                channel.set(key, value)
        self._attach_llm_agents(exec_context)
        return exec_context

    def create_engine(self) -> WorkflowEngine:
        """A :class:`WorkflowEngine` with this workflow's registered handlers."""
        from graflow_core.core.engine import WorkflowEngine

        engine = WorkflowEngine()
        for name, handler in self._handlers.items():
            engine.register_handler(name, handler)
        return engine

    def execute(
        self,
        start_node: str | None = None,
        max_steps: int = 10000,
        ret_context: bool = False,
        initial_channel: dict[str, Any] | None = None,
        *,
        plugins: Sequence[object] = (),
        workflow_run_id: str | None = None,
    ) -> Any:
        """Run the workflow and return the result of the last task executed.

        ``start_node`` defaults to the single task without predecessors; ``initial_channel``
        pre-fills the channel; with ``ret_context=True`` returns ``(result, ExecutionContext)``.
        ``plugins`` are hook implementations for this run only (on top of the installed ones).
        ``workflow_run_id`` names the run for plugins (default: the session id).
        """
        exec_context = self.create_execution_context(
            start_node, max_steps, initial_channel, workflow_run_id=workflow_run_id
        )
        if plugins:
            exec_context.use_plugins(*plugins)
        result = self.create_engine().execute(exec_context)
        return (result, exec_context) if ret_context else result

    def _attach_llm_agents(self, exec_context: ExecutionContext) -> None:
        for name, provider in self._llm_agent_providers.items():
            agent = provider
            if callable(provider) and not hasattr(provider, "run"):
                agent = provider(exec_context)
            exec_context.register_llm_agent(name, agent)

    # -- display -------------------------------------------------------------------------------

    def show_info(self) -> None:
        """Print the graph drawing and whether it has cycles."""
        print(f"=== Workflow '{self.name}' Information ===")
        print(self.graph)
        cycles = self.graph.detect_cycles()
        print(f"Cycles detected: {cycles}" if cycles else "No cycles detected")

    def visualize_dependencies(self) -> None:
        """Print one line per task: ``task >> successor >> ...``."""
        print(f"=== Workflow '{self.name}' Dependencies ===")
        for node in self.graph.nodes:
            successors = self.graph.successors(node)
            if successors:
                print(f"{node} >> {' >> '.join(successors)}")
            else:
                print(f"{node} (no dependencies)")

    def __repr__(self) -> str:
        return f"WorkflowContext(name={self.name!r}, tasks={len(self.graph)})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_tokens"] = []
        state["_redis_client"] = None
        return state


def get_current_workflow_context(create_if_not_exist: bool = False) -> WorkflowContext | None:
    """The active workflow context, or None (or a new one with ``create_if_not_exist``)."""
    ctx = _current_context.get()
    if ctx is None and create_if_not_exist:
        ctx = current_workflow_context()
    return ctx


def current_workflow_context() -> WorkflowContext:
    """The active workflow context; creates and installs one when none is active."""
    ctx = _current_context.get()
    if ctx is None:
        ctx = WorkflowContext(_new_name())
        ctx._implicit = True
        _current_context.set(ctx)
    return ctx


def require_workflow_context() -> WorkflowContext:
    """The active workflow context; raises :class:`GraflowRuntimeError` when none is active."""
    ctx = _current_context.get()
    if ctx is None:
        raise GraflowRuntimeError("No current workflow context exists")
    return ctx


def set_current_workflow_context(context: WorkflowContext) -> None:
    """Make ``context`` the active workflow context."""
    _current_context.set(context)


def clear_workflow_context() -> None:
    """Deactivate any workflow context."""
    _current_context.set(None)


def workflow(
    name: str,
    tracer: Any = None,
    prompt_manager: Any = None,
    *,
    version: str | None = None,
    retry_policy: RetryPolicy | None = None,
    dead_letter_store: Any = None,
) -> WorkflowContext:
    """Create a :class:`WorkflowContext`; use it as ``with workflow("name") as wf:``.

    Args:
        name: the workflow's name.
        tracer: a ``Tracer`` receiving run events (default: none).
        prompt_manager: handed to tasks through the context.
        version: the workflow's version (recorded in specs, exports and tracking plugins).
        retry_policy: the default :class:`RetryPolicy` of tasks that have none of their own.
        dead_letter_store: where tasks that fail for good are recorded (a ``DeadLetterStore``).
    """
    return WorkflowContext(
        name,
        tracer=tracer,
        prompt_manager=prompt_manager,
        version=version,
        retry_policy=retry_policy,
        dead_letter_store=dead_letter_store,
    )


def _registration_target() -> WorkflowContext | None:
    """Where a newly created task registers: the active workflow, unless a run is going on."""
    if _dynamic_context() is not None:
        return None
    return _current_context.get()


__all__ = [
    "WorkflowContext",
    "clear_workflow_context",
    "current_workflow_context",
    "get_current_workflow_context",
    "require_workflow_context",
    "set_current_workflow_context",
    "workflow",
]
