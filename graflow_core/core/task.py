"""Executables and the operator algebra: ``>>`` (sequence), ``<<`` (mirror) and ``|`` (parallel).

``Task`` is a no-op placeholder, ``TaskWrapper`` wraps a function (what ``@task`` returns),
``ParallelGroup`` is a graph node whose members run concurrently, and ``SequentialTask`` is the
bookkeeping value that ``>>`` returns (never a graph node).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from graflow_core.core.workflow import (
    WorkflowContext,
    _dynamic_context,
    _registration_target,
    current_workflow_context,
)
from graflow_core.exceptions import (
    ConfigError,
    DuplicateTaskError,
    GraflowRuntimeError,
    InvalidBackendError,
    WorkflowDefinitionError,
)
from graflow_core.utils.names import lookup

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.engine import WorkflowEngine
    from graflow_core.core.retry import RetryPolicy


class Executable(ABC):
    """Base class of everything that can be put in a workflow."""

    handler_type: str = "direct"
    # False when the task has a task type, a timeout or a circuit breaker: the engine then takes
    # its extended execution path instead of the direct fast path.
    _plain: bool = True
    task_type: str | None = None
    timeout: float | None = None
    circuit_breaker: Any = None
    # The workflow a task was created in (None for tasks defined outside any workflow block,
    # which may then be connected into any number of workflows).
    _owner: WorkflowContext | None = None
    _pending_registration: bool = False

    @property
    @abstractmethod
    def task_id(self) -> str:
        """The task's id, unique within its workflow."""

    @abstractmethod
    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Execute this executable."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run()

    # -- execution context ---------------------------------------------------------------------

    def set_execution_context(self, context: ExecutionContext) -> None:
        """Attach the execution context the task runs in."""
        self._execution_context = context

    def get_execution_context(self) -> ExecutionContext:
        """The attached execution context (raises :class:`GraflowRuntimeError` if none)."""
        try:
            return self._execution_context
        except AttributeError:
            raise GraflowRuntimeError(
                "Execution context not set. Call set_execution_context() first."
            ) from None

    # -- registration --------------------------------------------------------------------------

    def _register_to_context(self) -> None:
        target = _registration_target()
        if target is None:
            self._pending_registration = True
            return
        target.add_node(self.task_id, self)
        self._owner = None if target._implicit else target
        self._pending_registration = False

    def _ensure_registered(self, wf: WorkflowContext) -> None:
        graph = wf.graph
        existing = graph._tasks.get(self.task_id, _ABSENT)
        if existing is self:
            return
        if existing is not _ABSENT and existing is not None:
            if isinstance(self, ParallelGroup) and self._auto_named:
                # A group built outside this workflow got its id from another context.
                self._task_id = _free_group_id(wf)
                graph.add_node(self, self._task_id)
                self._pending_registration = False
                return
            raise DuplicateTaskError(
                self.task_id,
                f"Workflow '{wf.name}' already has a different task with this id; give the new "
                "task another id",
            )
        owner = self._owner
        if owner is not None and owner is not wf:
            instance_hint = (
                f", or create a separate instance with {self.task_id}(task_id='...')"
                if isinstance(self, TaskWrapper)
                else ""
            )
            raise WorkflowDefinitionError(
                f"Task '{self.task_id}' was defined in workflow '{owner.name}' and cannot be "
                f"connected in workflow '{wf.name}'. Define it outside any `with workflow()` "
                f"block to reuse it{instance_hint}."
            )
        graph.add_node(self, self.task_id, skip_if_exists=True)
        self._pending_registration = False

    def _add_dependency_edge(self, to_task: Executable) -> None:
        running = _dynamic_context()
        if running is not None:
            # Chaining inside a running task builds a dynamic sub-workflow in the running
            # graph; its tasks still count as new for next_task().
            for t in (self, to_task):
                running._add_dynamic_node(t)
            running.graph.add_edge(self.task_id, to_task.task_id)
            return
        wf = current_workflow_context()
        self._ensure_registered(wf)
        to_task._ensure_registered(wf)
        wf.graph.add_edge(self.task_id, to_task.task_id)

    # -- operators -----------------------------------------------------------------------------

    def __rshift__(self, other: Executable) -> SequentialTask:
        _check_operand(other, ">>")
        if isinstance(other, SequentialTask):
            self._add_dependency_edge(other.leftmost)
            return SequentialTask([self, *other._view()])
        self._add_dependency_edge(other)
        return SequentialTask([self, other])

    def __lshift__(self, other: Executable) -> SequentialTask:
        _check_operand(other, "<<")
        if isinstance(other, SequentialTask):
            other.rightmost._add_dependency_edge(self)
            return other._extended(self)
        other._add_dependency_edge(self)
        return SequentialTask([other, self])

    def __or__(self, other: Executable) -> ParallelGroup:
        _check_operand(other, "|")
        if isinstance(other, SequentialTask):
            return ParallelGroup([self, other.leftmost])
        if isinstance(other, ParallelGroup):
            other._insert_front(self)
            return other
        return ParallelGroup([self, other])

    # -- pickling ------------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_execution_context", None)
        state.pop("_owner", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _check_operand(other: object, op: str) -> None:
    if not isinstance(other, Executable):
        raise WorkflowDefinitionError(
            f"Cannot use {op} with {other!r} ({type(other).__name__}): both sides must be tasks "
            "(decorate the function with @task), parallel groups or chains."
        )


class Task(Executable):
    """A placeholder task that does nothing (``run()`` returns None)."""

    def __init__(self, task_id: str, register_to_context: bool = True) -> None:
        self._task_id = task_id
        if register_to_context:
            self._register_to_context()

    @property
    def task_id(self) -> str:
        return self._task_id

    def run(self, *args: Any, **kwargs: Any) -> Any:
        return None

    def __repr__(self) -> str:
        return f"Task({self._task_id})"


# -- keyword resolution plans -----------------------------------------------------------------

_COPIED_FUNCTION_ATTRIBUTES = (
    "__name__",
    "__doc__",
    "__module__",
    "__qualname__",
    "__annotations__",
)
_plan_cache: dict[Any, tuple[str, ...]] = {}


def _parameter_names(func: Callable[..., Any]) -> tuple[str, ...]:
    """Names of the positional-or-keyword and keyword-only parameters of ``func``.

    Read straight from the code object for plain functions (``inspect.signature`` costs more
    than our whole per-task budget); other callables fall back to ``inspect``.
    """
    code = getattr(func, "__code__", None)
    if code is not None and not hasattr(func, "__wrapped__") and not hasattr(func, "__signature__"):
        cached = _plan_cache.get(code)
        if cached is not None:
            return cached
        names = code.co_varnames
        positional = names[code.co_posonlyargcount : code.co_argcount]
        kwonly = names[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
        if getattr(func, "__self__", None) is not None:  # bound method: drop ``self``
            positional = positional[1:]
        result = tuple(positional) + tuple(kwonly)
        _plan_cache[code] = result
        return result
    import inspect

    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return ()
    return tuple(
        p.name
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )


class TaskWrapper(Executable):
    """A function made into a task (what ``@task`` returns).

    Calling it with keyword arguments outside a run creates a new *instance* with those
    arguments bound (``fetch(task_id="tokyo", city="Tokyo")``); calling it with no arguments
    outside a run executes it (a testing convenience); during a run it executes with keyword
    arguments resolved from the channel.
    """

    #: Options of the task's type (read-only when empty; ``@task(type_options=...)``).
    type_options: Mapping[str, Any] = MappingProxyType({})
    #: The object given to ``@task(type=...)`` before the task type built the function.
    type_target: Any = None

    def __init__(
        self,
        task_id: str,
        func: Callable[..., Any],
        inject_context: bool = False,
        inject_llm_client: bool = False,
        inject_llm_agent: str | None = None,
        register_to_context: bool = True,
        handler_type: str | None = None,
        resolve_keyword_args: bool = True,
        max_cycles: int | None = None,
        max_retries: int | None = None,
        retry_policy: RetryPolicy | None = None,
        task_type: str | None = None,
        type_options: dict[str, Any] | None = None,
        timeout: float | None = None,
        circuit_breaker: Any = None,
        type_target: Any = None,
    ) -> None:
        if not callable(func):
            raise WorkflowDefinitionError(
                f"Task '{task_id}' needs a callable, got {func!r} ({type(func).__name__}). "
                "Decorate a function with @task or pass a function to TaskWrapper."
            )
        if not isinstance(task_id, str) or not task_id:
            raise WorkflowDefinitionError(
                f"Task ids must be non-empty strings, got {task_id!r} for {func!r}."
            )
        if max_cycles is not None and (not isinstance(max_cycles, int) or max_cycles < 1):
            raise ConfigError(
                f"Task '{task_id}': max_cycles must be an int >= 1, got {max_cycles!r}"
            )
        if max_retries is not None and (not isinstance(max_retries, int) or max_retries < 0):
            raise ConfigError(
                f"Task '{task_id}': max_retries must be an int >= 0, got {max_retries!r}"
            )
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
        ):
            raise ConfigError(
                f"Task '{task_id}': timeout must be a number of seconds > 0, got {timeout!r}"
            )
        if circuit_breaker is not None and not isinstance(circuit_breaker, str):
            # The same rule circuit_breaker_for() applies at run time: an object must be a
            # CircuitBreaker (the module is loaded already when one was built).
            from graflow_core.resilience.circuit_breaker import CircuitBreaker

            if not isinstance(circuit_breaker, CircuitBreaker):
                raise ConfigError(
                    f"Task '{task_id}': circuit_breaker must be a CircuitBreaker or the name "
                    f"of a registered one, got {circuit_breaker!r}"
                )
        if task_type is not None and (not isinstance(task_type, str) or not task_type):
            raise ConfigError(
                f"Task '{task_id}': type must be a task type name (str), got {task_type!r}"
            )
        self._task_id = task_id
        self.func = func
        self._original_func: Callable[..., Any] = getattr(func, "__wrapped__", func)
        # The extensions are set on the instance only when used (class defaults otherwise):
        # a 100,000-task workflow should not pay five attributes and a dict per task for them.
        if task_type is not None or timeout is not None or circuit_breaker is not None:
            self._plain = False
            self.task_type = task_type
            self.timeout = float(timeout) if timeout is not None else None
            self.circuit_breaker = circuit_breaker
        if type_options:
            self.type_options = dict(type_options)
        if type_target is not None:
            self.type_target = type_target
        self.inject_context = inject_context
        self.inject_llm_client = inject_llm_client
        self.inject_llm_agent = inject_llm_agent
        self.resolve_keyword_args = resolve_keyword_args
        self.max_cycles = max_cycles
        self.retry_policy = retry_policy
        self.max_retries = retry_policy.max_retries if retry_policy is not None else max_retries
        if handler_type is not None:
            self.handler_type = handler_type
        self._bound_kwargs: dict[str, Any] = {}
        self._plan: tuple[tuple[str, str], ...] | None = None
        # Look like the function (functools.wraps-style), straight into the instance dict.
        attrs = self.__dict__
        for attr in _COPIED_FUNCTION_ATTRIBUTES:
            value = getattr(func, attr, _ABSENT)
            if value is not _ABSENT:
                attrs[attr] = value
        if register_to_context:
            self._register_to_context()

    @property
    def task_id(self) -> str:
        return self._task_id

    # -- calling -------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        exec_context = self.__dict__.get("_execution_context")
        if exec_context is None:
            if not args and not kwargs:
                return self.run()
            if args:
                raise TypeError(
                    "TaskWrapper instance creation does not support positional arguments. "
                    f"Please use keyword arguments only. Got {len(args)} positional args."
                )
            return self._new_instance(kwargs)
        return self._invoke(exec_context, args, kwargs)

    def _new_instance(self, kwargs: dict[str, Any]) -> TaskWrapper:
        if "task_id" in kwargs:
            new_id = kwargs.pop("task_id")
        else:
            import uuid

            new_id = f"{getattr(self.func, '__name__', 'task')}_{uuid.uuid4().hex[:8]}"
        instance = TaskWrapper(new_id, self.func, **self._flags())
        if kwargs:
            instance._bound_kwargs = kwargs
        return instance

    def _flags(self) -> dict[str, Any]:
        """The constructor keyword arguments that reproduce this task (new instances, pickling)."""
        return {
            "inject_context": self.inject_context,
            "inject_llm_client": self.inject_llm_client,
            "inject_llm_agent": self.inject_llm_agent,
            "handler_type": self.__dict__.get("handler_type"),
            "resolve_keyword_args": self.resolve_keyword_args,
            "max_cycles": self.max_cycles,
            "max_retries": self.max_retries,
            "retry_policy": self.retry_policy,
            "task_type": self.task_type,
            "type_options": self.type_options,
            "timeout": self.timeout,
            "circuit_breaker": self.circuit_breaker,
            "type_target": self.type_target,
        }

    def resolved_inputs(self, exec_context: ExecutionContext) -> dict[str, Any]:
        """The keyword arguments a run in ``exec_context`` would pass (channel, then bound).

        Injected objects (context, LLM client, agent) are not included.
        """
        call_kwargs: dict[str, Any] = {}
        if self.resolve_keyword_args:
            plan = self._plan if self._plan is not None else self._resolution_plan()
            if plan:
                exec_context._resolve_into(plan, call_kwargs)
        if self._bound_kwargs:
            call_kwargs.update(self._bound_kwargs)
        return call_kwargs

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Execute the function with keyword resolution and injection.

        Without an execution context a throw-away one (empty channel) is used.
        """
        exec_context = self.__dict__.get("_execution_context")
        if exec_context is not None:
            return self._invoke(exec_context, args, kwargs)
        from graflow_core.core.context import ExecutionContext
        from graflow_core.core.graph import TaskGraph

        graph = TaskGraph()
        graph.add_node(self, self.task_id)
        temp = ExecutionContext.create(graph, start_node=self.task_id)
        self._execution_context = temp
        try:
            return self._invoke(temp, args, kwargs)
        finally:
            self.__dict__.pop("_execution_context", None)

    def _resolution_plan(self) -> tuple[tuple[str, str], ...]:
        plan = self._plan
        if plan is None:
            names = _parameter_names(self._original_func)
            skip = set()
            if self.inject_context and names:
                skip.add(names[0])
            if self.inject_llm_client:
                skip.add("llm_client")
            if self.inject_llm_agent:
                skip.add("llm_agent")
            plan = tuple((n, f"{n}.__result__") for n in names if n not in skip)
            self._plan = plan
        return plan

    def _invoke(
        self, exec_context: ExecutionContext, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Call the function inside ``exec_context``: channel < bound < injected < explicit."""
        # The same steps as resolved_inputs(), inlined: this runs once per task, and the extra
        # call measured +3% on the per-task benchmark.
        call_kwargs: dict[str, Any] = {}
        if self.resolve_keyword_args:
            plan = self._plan if self._plan is not None else self._resolution_plan()
            if plan:
                exec_context._resolve_into(plan, call_kwargs)
        if self._bound_kwargs:
            call_kwargs.update(self._bound_kwargs)
        if self.inject_llm_client:
            call_kwargs["llm_client"] = exec_context.llm_client
        if self.inject_llm_agent:
            try:
                call_kwargs["llm_agent"] = exec_context.get_llm_agent(self.inject_llm_agent)
            except KeyError as exc:
                raise RuntimeError(
                    f"Task '{self._task_id}' needs LLM agent '{self.inject_llm_agent}', which is "
                    f"not registered: call wf.register_llm_agent('{self.inject_llm_agent}', ...)"
                ) from exc
        if kwargs:
            call_kwargs.update(kwargs)
        if self.inject_context:
            task_ctx = exec_context.current_task_context
            if task_ctx is None:
                with exec_context.executing_task(self) as temp_ctx:
                    return self.func(temp_ctx, *args, **call_kwargs)
            return self.func(task_ctx, *args, **call_kwargs)
        return self.func(*args, **call_kwargs)

    # -- pickling ------------------------------------------------------------------------------

    def __reduce__(self) -> Any:
        module = self.__dict__.get("__module__")
        qualname = self.__dict__.get("__qualname__")
        if (
            module
            and qualname
            and module != "__main__"
            and "<locals>" not in qualname
            and lookup(module, qualname) is self
        ):
            return (_import_task, (module, qualname))

        return (
            _rebuild_task_wrapper,
            (self._task_id, self.func, self._flags(), dict(self._bound_kwargs)),
        )

    def __repr__(self) -> str:
        return f"TaskWrapper({self._task_id})"


def _import_task(module: str, qualname: str) -> Any:
    import importlib

    found = lookup(module, qualname)
    if found is None:
        importlib.import_module(module)
        found = lookup(module, qualname)
    if found is None:
        raise GraflowRuntimeError(f"Cannot import task {module}:{qualname} while unpickling")
    return found


def _rebuild_task_wrapper(
    task_id: str, func: Callable[..., Any], flags: dict[str, Any], bound: dict[str, Any]
) -> TaskWrapper:
    wrapper = TaskWrapper(task_id, func, register_to_context=False, **flags)
    wrapper._bound_kwargs = bound
    return wrapper


class SequentialTask(Executable):
    """What ``a >> b >> c`` returns: the chain's tasks in order (not a graph node).

    Chains share their item list when extended at the end, so building a long chain with
    repeated ``>>`` is linear rather than quadratic.
    """

    def __init__(self, tasks: list[Executable]) -> None:
        if not tasks:
            raise ValueError("SequentialTask requires at least one task")
        self._items = list(tasks)
        self._n = len(self._items)

    @classmethod
    def _sharing(cls, items: list[Executable], n: int) -> SequentialTask:
        seq = cls.__new__(cls)
        seq._items = items
        seq._n = n
        return seq

    def _view(self) -> list[Executable]:
        return self._items[: self._n]

    def _extended(self, task: Executable) -> SequentialTask:
        items = self._items
        if len(items) == self._n:
            items.append(task)
            return SequentialTask._sharing(items, self._n + 1)
        return SequentialTask([*self._view(), task])

    @property
    def tasks(self) -> list[Executable]:
        """The chain's tasks, leftmost first."""
        return self._view()

    @property
    def leftmost(self) -> Executable:
        """The first task of the chain."""
        return self._items[0]

    @property
    def rightmost(self) -> Executable:
        """The last task of the chain."""
        return self._items[self._n - 1]

    @property
    def task_id(self) -> str:
        return self.leftmost.task_id

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the leftmost task only (the engine runs the rest by following edges)."""
        return self.leftmost.run()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(*args, **kwargs)

    def __rshift__(self, other: Executable) -> SequentialTask:
        _check_operand(other, ">>")
        if isinstance(other, SequentialTask):
            self.rightmost._add_dependency_edge(other.leftmost)
            return SequentialTask(self._view() + other._view())
        self.rightmost._add_dependency_edge(other)
        return self._extended(other)

    def __lshift__(self, other: Executable) -> SequentialTask:
        _check_operand(other, "<<")
        if isinstance(other, SequentialTask):
            other.rightmost._add_dependency_edge(self.leftmost)
            return SequentialTask(other._view() + self._view())
        other._add_dependency_edge(self.leftmost)
        return SequentialTask([other, *self._view()])

    def __or__(self, other: Executable) -> ParallelGroup:
        _check_operand(other, "|")
        if isinstance(other, SequentialTask):
            return ParallelGroup([self.leftmost, other.leftmost])
        if isinstance(other, ParallelGroup):
            other._insert_front(self.leftmost)
            return other
        return ParallelGroup([self.leftmost, other])

    def __ror__(self, other: Executable) -> ParallelGroup:
        return other | self.leftmost

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: int) -> Executable:
        return self._view()[index]

    def __iter__(self) -> Iterator[Executable]:
        return iter(self._view())

    def __repr__(self) -> str:
        return f"SequentialTask([{' >> '.join(t.task_id for t in self._view())}])"


class ParallelGroup(Executable):
    """Tasks that run concurrently; a single graph node (``ParallelGroup_<n>``)."""

    # True until set_group_name(): the id came from a workflow's ParallelGroup_<n> counter.
    _auto_named: bool = True

    def __init__(self, tasks: list[Executable], name: str | None = None) -> None:
        for t in tasks:
            _check_operand(t, "|")
        running = _dynamic_context()
        if running is not None:
            self._task_id = running._new_group_id()
        else:
            self._task_id = current_workflow_context().get_next_group_name()
        self._auto_named = True

        self.tasks: list[Executable] = list(tasks)
        self._execution_config: dict[str, Any] = {
            "backend": None,
            "backend_config": {},
            "policy": "strict",
        }
        self._register_to_context()
        if name is not None:
            self.set_group_name(name)

    @property
    def task_id(self) -> str:
        return self._task_id

    def set_group_name(self, name: str) -> ParallelGroup:
        """Rename the group's node (``ValueError`` if the name is taken); returns self."""
        wf = current_workflow_context()
        if self._task_id in wf.graph._tasks:
            wf.rename_node(self._task_id, name)
        elif name in wf.graph._tasks:
            raise ValueError(f"Task {name} already exists in graph")
        self._task_id = name
        self._auto_named = False
        return self

    def with_execution(
        self,
        backend: Any = None,
        backend_config: dict[str, Any] | None = None,
        policy: Any = "strict",
    ) -> ParallelGroup:
        """Choose the backend (threading, direct), its config and the group policy; returns self.

        ``policy`` is ``"strict"``, ``"best_effort"``, a ``CriticalGroupPolicy``, an
        ``AtLeastNGroupPolicy`` or any ``GroupExecutionPolicy`` instance.
        """
        from graflow_core.coordination.coordinator import CoordinationBackend
        from graflow_core.core.handlers.group_policy import canonicalize_group_policy

        if backend is not None:
            try:
                CoordinationBackend(backend)
            except ValueError:
                valid = ", ".join(repr(b.value) for b in CoordinationBackend)
                raise InvalidBackendError(
                    f"Parallel group '{self._task_id}': unknown backend {backend!r}; "
                    f"use one of {valid}"
                ) from None
            self._execution_config["backend"] = backend
        if backend_config is not None:
            cleaned = {k: v for k, v in backend_config.items() if k != "redis_client"}
            self._execution_config["backend_config"].update(cleaned)
        self._execution_config["policy"] = canonicalize_group_policy(policy)
        return self

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Execute every member (in its own branch) and apply the group policy."""
        return self._run_with(self.get_execution_context(), None)

    def _run_with(self, exec_context: ExecutionContext, engine: WorkflowEngine | None) -> None:
        """Run the members with ``engine`` (so its registered handlers apply to them)."""
        from graflow_core.coordination.executor import GroupExecutor

        config = self._execution_config
        GroupExecutor.execute_parallel_group(
            self._task_id,
            self.tasks,
            exec_context,
            backend=config["backend"],
            backend_config=config["backend_config"],
            policy=config["policy"],
            engine=engine,
        )
        return None

    # -- membership ----------------------------------------------------------------------------

    def _insert_front(self, task: Executable) -> None:
        self.tasks.insert(0, task)

    def _members_for_lookup(self, task_id: str) -> Executable | None:
        for member in self.tasks:
            if member.task_id == task_id:
                return member
            nested = getattr(member, "_members_for_lookup", None)
            if nested is not None:
                found = nested(task_id)
                if found is not None:
                    return found
        return None

    def _collect_member_ids(self, ids: set[str]) -> None:
        for member in self.tasks:
            ids.add(member.task_id)
            nested = getattr(member, "_collect_member_ids", None)
            if nested is not None:
                nested(ids)

    def __or__(self, other: Executable) -> ParallelGroup:
        _check_operand(other, "|")
        if isinstance(other, SequentialTask):
            self.tasks.append(other.leftmost)
            return self
        if isinstance(other, ParallelGroup):
            wf = current_workflow_context()
            graph = wf.graph
            connected = any(
                graph._succ.get(g._task_id) or graph._pred.get(g._task_id) for g in (self, other)
            )
            if not connected:
                self.tasks.extend(other.tasks)
                if graph._tasks.get(other._task_id) is other:
                    graph.remove_node(other._task_id)
                return self
            return ParallelGroup([self, other])
        self.tasks.append(other)
        return self

    def __repr__(self) -> str:
        return f"ParallelGroup({[t.task_id for t in self.tasks]!r})"


def _free_group_id(wf: WorkflowContext) -> str:
    while True:
        candidate = wf.get_next_group_name()
        if candidate not in wf.graph._tasks:
            return candidate


def chain(*tasks: Executable) -> SequentialTask:
    """``chain(a, b, c)`` is ``a >> b >> c``; ``chain(x)`` is a one-task chain."""
    if not tasks:
        raise ValueError("chain requires at least one task")
    first, *rest = tasks
    if not rest:
        return first if isinstance(first, SequentialTask) else SequentialTask([first])
    seq = first >> rest[0]
    for t in rest[1:]:
        seq = seq >> t
    return seq


def parallel(*tasks: Executable) -> ParallelGroup:
    """``parallel(a, b, c)`` is ``a | b | c`` (at least two tasks)."""
    if len(tasks) < 2:
        raise ValueError("parallel requires at least two tasks")
    first, *rest = tasks
    group = first | rest[0]
    for t in rest[1:]:
        group = group | t
    return group


class _Absent:
    pass


_ABSENT: Any = _Absent()
