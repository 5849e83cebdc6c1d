"""The ``@task`` decorator."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from graflow_core.core.task import TaskWrapper

if TYPE_CHECKING:
    from graflow_core.core.retry import RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])


@overload
def task(id_or_func: F) -> TaskWrapper: ...


@overload
def task(
    id_or_func: str | None = None,
    *,
    id: str | None = None,
    inject_context: bool = False,
    inject_llm_client: bool = False,
    inject_llm_agent: str | None = None,
    handler: str | None = None,
    resolve_keyword_args: bool = True,
    max_cycles: int | None = None,
    max_retries: int | None = None,
    retry_policy: RetryPolicy | None = None,
    type: str | None = None,
    type_options: dict[str, Any] | None = None,
    timeout: float | None = None,
    circuit_breaker: Any = None,
) -> Callable[[Any], TaskWrapper]: ...


def task(
    id_or_func: Any = None,
    *,
    id: str | None = None,
    inject_context: bool = False,
    inject_llm_client: bool = False,
    inject_llm_agent: str | None = None,
    handler: str | None = None,
    resolve_keyword_args: bool = True,
    max_cycles: int | None = None,
    max_retries: int | None = None,
    retry_policy: RetryPolicy | None = None,
    type: str | None = None,
    type_options: dict[str, Any] | None = None,
    timeout: float | None = None,
    circuit_breaker: Any = None,
) -> Any:
    """Turn a function into a task.

    Forms: ``@task``, ``@task()``, ``@task("my_id")``, ``@task(id="my_id", ...)``.

    Args:
        id_or_func: the function (bare ``@task``) or the task id.
        id: the task id (default: the function's ``__name__``).
        inject_context: pass the ``TaskExecutionContext`` as first positional argument.
        inject_llm_client: pass the context's LLM client as ``llm_client=``.
        inject_llm_agent: pass the agent registered under this name as ``llm_agent=``.
        handler: name of the :class:`TaskHandler` that executes the task (default "direct").
        resolve_keyword_args: fill parameters from the channel (``"<name>.__result__"``,
            then ``"<name>"``).
        max_cycles: how many times the task may run in one workflow run.
        max_retries: retries after a failure (ignored when ``retry_policy`` is given).
        retry_policy: a :class:`RetryPolicy` with backoff; its ``max_retries`` wins.
        type: a task type registered by a plugin (``"langchain"``, ``"mlflow"`` ...); the
            decorated object may then be whatever that type accepts (e.g. a ``Runnable``).
            See :mod:`graflow_core.core.task_types`.
        type_options: options for the task type (JSON-serialisable).
        timeout: seconds one attempt may take before it fails with ``TaskTimeoutError``.
        circuit_breaker: a ``CircuitBreaker`` (or the name of a registered one) guarding the
            task; while it is open the task fails fast with ``CircuitOpenError``.
    """

    def make(target: Any, task_id: str | None) -> TaskWrapper:
        func = target
        if type is not None:
            from graflow_core.core.task_types import get_task_type

            task_type = get_task_type(type)
            options = dict(type_options or {})
            task_type.validate_options(task_id, options)
            func = task_type.build(target, task_id=task_id, options=options)
        if task_id is None:
            task_id = getattr(func, "__name__", None)
            if not task_id or task_id == "<lambda>":
                import uuid

                task_id = str(uuid.uuid4().int) if not task_id else f"lambda_{uuid.uuid4().hex[:8]}"
        return TaskWrapper(
            task_id,
            func,
            inject_context=inject_context,
            inject_llm_client=inject_llm_client,
            inject_llm_agent=inject_llm_agent,
            handler_type=handler,
            resolve_keyword_args=resolve_keyword_args,
            max_cycles=max_cycles,
            max_retries=max_retries,
            retry_policy=retry_policy,
            task_type=type,
            type_options=type_options,
            timeout=timeout,
            circuit_breaker=circuit_breaker,
            type_target=target if type is not None else None,
        )

    if id_or_func is not None and not isinstance(id_or_func, str):
        if not callable(id_or_func) and type is None:
            from graflow_core.exceptions import WorkflowDefinitionError

            raise WorkflowDefinitionError(
                f"@task needs a function or a task id string, got {id_or_func!r} "
                f"({id_or_func.__class__.__name__})."
            )
        return make(id_or_func, id)

    task_id = id_or_func if id_or_func is not None else id

    def decorator(func: Any) -> TaskWrapper:
        return make(func, task_id)

    return decorator
