"""Task handlers: how one task is executed, and the per-member outcome of a parallel group."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable


class TaskResult:
    """Outcome of one parallel-group member (status only; values live in the channel)."""

    __slots__ = ("duration", "error", "error_message", "success", "task_id", "timestamp")

    def __init__(
        self,
        task_id: str,
        success: bool,
        error: BaseException | None = None,
        error_message: str | None = None,
        duration: float = 0.0,
        timestamp: float = 0.0,
    ) -> None:
        self.task_id = task_id
        self.success = success
        self.error = error
        self.error_message = error_message
        self.duration = duration
        self.timestamp = timestamp

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TaskResult):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"TaskResult(task_id={self.task_id!r}, success={self.success!r}, "
            f"error_message={self.error_message!r}, duration={self.duration!r})"
        )


class TaskHandler(ABC):
    """Strategy for executing a single task, selected with ``@task(handler="name")``.

    ``execute_task`` must run the task, store its result (or the exception it raised) with
    ``context.set_result(task.task_id, value)`` and return the result, re-raising on failure.
    Register handlers with ``WorkflowEngine.register_handler`` or
    ``WorkflowContext.register_handler``; unlike Graflow, registered handlers are honoured by
    ``wf.execute()`` and inside parallel groups.
    """

    def get_name(self) -> str:
        """Name used for registration; defaults to the class name."""
        return self.__class__.__name__

    @abstractmethod
    def execute_task(self, task: Executable, context: ExecutionContext) -> Any:
        """Execute ``task``, store its result in ``context`` and return it."""
        raise NotImplementedError
