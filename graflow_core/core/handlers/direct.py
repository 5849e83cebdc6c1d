"""The default handler: run the task in this process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graflow_core.core.handler import TaskHandler

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable


class DirectTaskHandler(TaskHandler):
    """Call ``task.run()`` in-process and store the result (or the exception) in the context."""

    def get_name(self) -> str:
        """Return ``"direct"``."""
        return "direct"

    def execute_task(self, task: Executable, context: ExecutionContext) -> Any:
        """Run ``task``; store and return its result, or store and re-raise its exception."""
        task_id = task.task_id
        try:
            result = task.run()
        except Exception as exc:
            context.set_result(task_id, exc)
            raise
        context.set_result(task_id, result)
        return result
