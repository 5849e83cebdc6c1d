"""Queue interface and the ``TaskSpec`` record (Graflow-compatible names)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable


class TaskStatus(Enum):
    """Lifecycle state of a queued task."""

    READY = "ready"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"


class TaskSpec:
    """A queued task: the executable, its context and retry bookkeeping."""

    def __init__(
        self,
        executable: Executable,
        execution_context: ExecutionContext,
        status: TaskStatus = TaskStatus.READY,
        created_at: float | None = None,
        retry_count: int = 0,
        max_retries: int = 3,
        last_error: str | None = None,
        group_id: str | None = None,
        trace_id: str | None = None,
        parent_span_id: str | None = None,
    ) -> None:
        self.executable = executable
        self.execution_context = execution_context
        self.status = status
        self.created_at = time.time() if created_at is None else created_at
        self.retry_count = retry_count
        self.max_retries = max_retries
        self.last_error = last_error
        self.group_id = group_id
        self.trace_id = trace_id
        self.parent_span_id = parent_span_id

    @property
    def task_id(self) -> str:
        """The queued task's id."""
        return self.executable.task_id

    def __lt__(self, other: TaskSpec) -> bool:
        return self.created_at < other.created_at

    def can_retry(self) -> bool:
        """True while retries are left."""
        return self.retry_count < self.max_retries

    def increment_retry(self, error_message: str | None = None) -> None:
        """Count a retry and mark the spec ready again."""
        self.retry_count += 1
        self.last_error = error_message
        self.status = TaskStatus.READY

    def get_task(self) -> Executable | None:
        """The executable (looked up in the context's graph when possible)."""
        graph = self.execution_context.graph
        try:
            return graph.get_node(self.task_id)
        except KeyError:
            return self.executable

    def __repr__(self) -> str:
        return f"TaskSpec(task_id={self.task_id!r}, status={self.status.value!r})"


class TaskQueue(ABC):
    """Interface of a task queue."""

    def __init__(self) -> None:
        self._task_specs: dict[str, TaskSpec] = {}
        self.enable_retry = False
        self.enable_metrics = False
        self.metrics: dict[str, int] = {"enqueued": 0, "dequeued": 0, "retries": 0, "failures": 0}

    @abstractmethod
    def enqueue(self, task_spec: TaskSpec) -> bool:
        """Add a spec at the tail; True on success."""

    @abstractmethod
    def dequeue(self) -> TaskSpec | None:
        """Remove and return the head spec."""

    @abstractmethod
    def is_empty(self) -> bool:
        """True when nothing is queued."""

    def cleanup(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def get_next_task(self) -> str | None:
        """Dequeue and return the next task id."""
        spec = self.dequeue()
        return spec.task_id if spec is not None else None

    def size(self) -> int:
        """Number of queued tasks."""
        return 0

    def get_task_spec(self, task_id: str) -> TaskSpec | None:
        """The spec of a queued task id, if known."""
        return self._task_specs.get(task_id)

    def configure(self, enable_retry: bool = False, enable_metrics: bool = False) -> None:
        """Switch queue-level retry and metrics on or off."""
        self.enable_retry = enable_retry
        self.enable_metrics = enable_metrics

    def handle_task_failure(self, task_spec: TaskSpec, error_message: str) -> bool:
        """Record a failure; re-queue and return True when queue-level retry allows it."""
        task_spec.status = TaskStatus.ERROR
        if self.enable_metrics:
            self.metrics["failures"] += 1
        if self.enable_retry and task_spec.can_retry():
            task_spec.increment_retry(error_message)
            if self.enable_metrics:
                self.metrics["retries"] += 1
            return self.enqueue(task_spec)
        return False

    def get_metrics(self) -> dict[str, int]:
        """Counters (when metrics are enabled)."""
        return dict(self.metrics)

    def reset_metrics(self) -> None:
        """Zero the counters."""
        for key in self.metrics:
            self.metrics[key] = 0

    def notify_task_completion(  # noqa: B027 - optional hook, deliberately a no-op
        self,
        task_id: str,
        success: bool,
        group_id: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Hook for distributed queues; the local queue ignores it."""
