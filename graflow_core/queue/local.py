"""The in-process FIFO queue.

The engine pops task ids straight from ``_ids`` (a deque); ``TaskSpec`` records are made only
when asked for (checkpoints, introspection), so queueing costs one ``deque.append``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from graflow_core.queue.base import TaskQueue, TaskSpec

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext


class LocalTaskQueue(TaskQueue):
    """FIFO of task ids for one execution context."""

    def __init__(self, execution_context: ExecutionContext, start_node: str | None = None) -> None:
        super().__init__()
        self.execution_context = execution_context
        self._ids: deque[str] = deque()
        if start_node is not None:
            self._ids.append(start_node)

    def enqueue(self, task_spec: TaskSpec) -> bool:
        """Queue a spec's task id at the tail."""
        self._ids.append(task_spec.task_id)
        self._task_specs[task_spec.task_id] = task_spec
        if self.enable_metrics:
            self.metrics["enqueued"] += 1
        return True

    def dequeue(self) -> TaskSpec | None:
        """Remove the head and return its spec."""
        if not self._ids:
            return None
        task_id = self._ids.popleft()
        if self.enable_metrics:
            self.metrics["dequeued"] += 1
        return self._task_specs.pop(task_id, None) or self._spec_for(task_id)

    def _spec_for(self, task_id: str) -> TaskSpec:
        ctx = self.execution_context
        from graflow_core.core.task import Task

        try:
            executable = ctx.graph.get_node(task_id)
        except KeyError:
            executable = Task(task_id, register_to_context=False)
        return TaskSpec(executable, ctx, trace_id=ctx.trace_id)

    def is_empty(self) -> bool:
        """True when nothing is queued."""
        return not self._ids

    def get_next_task(self) -> str | None:
        """Dequeue and return the next task id."""
        return self._ids.popleft() if self._ids else None

    def size(self) -> int:
        """Number of queued task ids."""
        return len(self._ids)

    def peek_next_node(self) -> str | None:
        """The id at the head, without removing it."""
        return self._ids[0] if self._ids else None

    def to_list(self) -> list[str]:
        """The queued ids in order."""
        return list(self._ids)

    def get_pending_task_specs(self) -> list[TaskSpec]:
        """Specs of every queued task, in order."""
        return [self._task_specs.get(i) or self._spec_for(i) for i in self._ids]

    def get_task_spec(self, task_id: str) -> TaskSpec | None:
        """The spec of a queued id (None if not queued)."""
        if task_id not in self._ids:
            return None
        return self._task_specs.get(task_id) or self._spec_for(task_id)

    def retry_failed_task(self, task_spec: TaskSpec) -> bool:
        """Re-queue a failed spec at the tail."""
        task_spec.increment_retry(task_spec.last_error)
        return self.enqueue(task_spec)

    def clear(self) -> None:
        """Drop everything queued."""
        self._ids.clear()
        self._task_specs.clear()

    def cleanup(self) -> None:
        """Same as :meth:`clear`."""
        self.clear()

    def __len__(self) -> int:
        return len(self._ids)
