"""The exception hierarchy of graflow_core.

Names, constructor signatures and messages match Graflow's ``graflow.exceptions`` so that
``except`` clauses in ported code keep working.  The classes below the marked line are our
own additions for bad input that Graflow silently accepts; each is a subclass of the Graflow
class a caller would already catch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class GraflowError(Exception):
    """Base class of every error raised by graflow_core.

    ``cause`` keeps the original exception; ``str()`` appends ``(caused by …)``.
    """

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause

    def __str__(self) -> str:
        text = super().__str__()
        if self.cause is not None:
            return f"{text} (caused by {self.cause})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without calling ``__init__`` again: subclasses take other arguments than
        ``args`` (a stored exception result travels pickled between native tasks)."""
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[GraflowError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class GraflowRuntimeError(GraflowError):
    """An error while a workflow runs."""


class CycleLimitExceededError(GraflowRuntimeError):
    """A task asked for more cycles (iterations, loop re-runs) than its ``max_cycles``."""

    def __init__(self, task_id: str, cycle_count: int, max_cycles: int) -> None:
        super().__init__(
            f"Cycle limit exceeded for task {task_id}: {cycle_count}/{max_cycles} cycles"
        )
        self.task_id = task_id
        self.cycle_count = cycle_count
        self.max_cycles = max_cycles

    def __str__(self) -> str:
        return (
            f"CycleLimitExceededError(task_id={self.task_id}, "
            f"cycle_count={self.cycle_count}, max_cycles={self.max_cycles})"
        )


class RetryLimitExceededError(GraflowRuntimeError):
    """A task failed more often than its retry budget allows; ``cause`` is the last error."""

    def __init__(
        self,
        task_id: str,
        retry_count: int,
        max_retries: int,
        last_error: BaseException | None = None,
    ) -> None:
        super().__init__(
            f"Retry limit exceeded for task {task_id}: {retry_count}/{max_retries} retries",
            cause=last_error,
        )
        self.task_id = task_id
        self.retry_count = retry_count
        self.max_retries = max_retries
        self.last_error = last_error

    def __str__(self) -> str:
        return (
            f"RetryLimitExceededError(task_id={self.task_id}, "
            f"retry_count={self.retry_count}, max_retries={self.max_retries})"
        )


class TaskError(GraflowRuntimeError):
    """An error attributed to one task."""

    def __init__(self, task_id: str, message: str, cause: BaseException | None = None) -> None:
        super().__init__(f"Error in task '{task_id}': {message}", cause)
        self._task_id = task_id

    @property
    def task_id(self) -> str:
        """The id of the task that failed."""
        return self._task_id


class GraphCompilationError(GraflowError):
    """The workflow graph is not valid (bad start node, duplicate ids, …)."""


class DuplicateTaskError(GraphCompilationError):
    """Two tasks of one workflow share an id."""

    def __init__(self, task_id: str, hint: str | None = None) -> None:
        message = f"Duplicate task ID: Node '{task_id}' already exists in graph"
        if hint:
            message = f"{message}. {hint}"
        super().__init__(message)
        self.task_id = task_id


class ConfigError(GraflowError):
    """A configuration value is not valid (unknown backend, bad policy, …)."""


class ParallelGroupError(GraflowRuntimeError):
    """A parallel group failed according to its execution policy.

    ``failed_tasks`` holds ``(task_id, error_message)`` pairs, ``successful_tasks`` the ids of
    members that succeeded.
    """

    def __init__(
        self,
        message: str,
        group_id: str,
        failed_tasks: Sequence[tuple[str, str | None]],
        successful_tasks: Sequence[str],
    ) -> None:
        super().__init__(message)
        self.group_id = group_id
        self.failed_tasks = failed_tasks
        self.successful_tasks = successful_tasks


class GraflowWorkflowCanceledError(GraflowRuntimeError):
    """A task called ``cancel_workflow(message)``."""

    def __init__(self, message: str, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id

    def __str__(self) -> str:
        if self.task_id:
            return f"Workflow canceled by task '{self.task_id}': {self.args[0]}"
        return f"Workflow canceled: {self.args[0]}"


def as_runtime_error(ex: BaseException) -> GraflowRuntimeError:
    """Return ``ex`` if it already is a :class:`GraflowRuntimeError`, else wrap it in one."""
    if isinstance(ex, GraflowRuntimeError):
        return ex
    return GraflowRuntimeError(f"An error occurred: {ex}", cause=ex)


# --- graflow_core's own additions (Graflow accepts these inputs silently) -------------------


class MaxStepsExceededError(GraflowRuntimeError):
    """The run reached ``max_steps`` with work still queued (an unbounded loop, usually).

    Graflow stops silently here; graflow_core raises so that a runaway loop is never mistaken
    for a finished workflow.
    """

    def __init__(self, max_steps: int, next_task_id: str, pending: int) -> None:
        super().__init__(
            f"Workflow stopped after max_steps={max_steps} with {pending} task(s) still queued "
            f"(next: '{next_task_id}'). This is usually an unbounded loop: end it with "
            f"ctx.terminate_workflow(...), bound it with @task(max_cycles=...) and "
            f"ctx.can_iterate(), or pass a larger max_steps to execute()."
        )
        self.max_steps = max_steps
        self.next_task_id = next_task_id
        self.pending = pending


class TaskNotFoundError(GraphCompilationError):
    """A task id (a start node, a goto target, ...) is not part of the workflow."""

    def __init__(self, task_id: str, where: str, known: Sequence[str] = ()) -> None:
        listed = ", ".join(repr(k) for k in sorted(known)[:10])
        more = f" (known tasks: {listed}{', ...' if len(known) > 10 else ''})" if known else ""
        super().__init__(f"Unknown task '{task_id}' {where}{more}.")
        self.task_id = task_id


class InvalidBackendError(ConfigError, ValueError):
    """A parallel group names a coordination backend that does not exist."""


class WorkflowDefinitionError(GraphCompilationError, TypeError):
    """A workflow is built wrongly (a non-callable task, an edge across workflows, ...).

    Also a ``TypeError``, which is what Graflow raises for the same mistakes.
    """


class TaskTimeoutError(GraflowRuntimeError, TimeoutError):
    """A task attempt ran longer than its ``@task(timeout=...)`` (the attempt then fails)."""

    def __init__(self, task_id: str, timeout: float) -> None:
        super().__init__(
            f"Task '{task_id}' timed out after {timeout:g} s (@task(timeout={timeout:g})). The "
            "attempt counts as failed (retries apply); its thread cannot be interrupted and "
            "finishes in the background, so make long-running work cancellable or raise the "
            "timeout."
        )
        self.task_id = task_id
        self.timeout = timeout


class PluginError(GraflowRuntimeError):
    """A plugin broke the hook contract (e.g. ``execute_task`` returned a bare value)."""


def describe_error(error: BaseException) -> str:
    """``"TypeName: message"`` on one line (whitespace collapsed); the type alone if empty."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
