"""The ``Tracer`` interface: callbacks the engine makes while a workflow runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable


class Tracer:
    """Observer of workflow and task events.  Every method is a no-op by default.

    The engine calls ``on_workflow_start``/``on_workflow_end`` for the root run,
    ``on_task_queued``, ``on_task_start``/``on_task_end`` per task, and
    ``on_dynamic_task_added`` for ``next_task``/``next_iteration``.  Parallel branches get a
    ``clone``.
    """

    def on_workflow_start(self, name: str, context: ExecutionContext) -> None:
        """A root run starts."""

    def on_workflow_end(self, name: str, context: ExecutionContext, result: Any = None) -> None:
        """A root run ended (also after a failure)."""

    def on_task_queued(self, task: Executable, context: ExecutionContext) -> None:
        """A task was put on the queue."""

    def on_task_start(self, task: Executable, context: ExecutionContext) -> None:
        """A task starts."""

    def on_task_end(
        self,
        task: Executable,
        context: ExecutionContext,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        """A task ended (``error`` is set when it raised)."""

    def on_dynamic_task_added(
        self,
        task_id: str,
        parent_task_id: str | None = None,
        is_iteration: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """A task was added at run time."""

    def on_parallel_group_start(
        self, group_id: str, member_ids: list[str], context: ExecutionContext
    ) -> None:
        """A parallel group starts its members."""

    def on_parallel_group_end(
        self,
        group_id: str,
        member_ids: list[str],
        context: ExecutionContext,
        results: dict[str, Any] | None = None,
    ) -> None:
        """A parallel group finished (before its policy is applied)."""

    def clone(self, trace_id: str) -> Tracer:
        """A tracer for a parallel branch (default: this tracer)."""
        return self

    def attach_to_trace(self, trace_id: str, parent_span_id: str | None = None) -> None:
        """Join an existing trace (workers)."""

    def flush(self) -> None:
        """Write out buffered events."""

    def shutdown(self) -> None:
        """Release resources."""
