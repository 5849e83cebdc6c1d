"""A tracer that prints an indented run log to stdout."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from graflow_core.trace.base import Tracer

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable


class ConsoleTracer(Tracer):
    """Print workflow and task events as they happen."""

    def __init__(
        self,
        enable_runtime_graph: bool = True,
        enable_colors: bool = True,
        show_metadata: bool = True,
        indent_size: int = 2,
    ) -> None:
        self.enable_runtime_graph = enable_runtime_graph
        self.enable_colors = enable_colors
        self.show_metadata = show_metadata
        self.indent_size = indent_size
        self._starts: dict[str, float] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()

    def _print(self, depth: int, text: str) -> None:
        print(" " * (depth * self.indent_size) + text, flush=True)

    def on_workflow_start(self, name: str, context: ExecutionContext) -> None:
        self._print(0, f"workflow {name or context.session_id} started")

    def on_workflow_end(self, name: str, context: ExecutionContext, result: Any = None) -> None:
        self._print(0, f"workflow {name or context.session_id} ended ({context.steps} steps)")

    def on_task_start(self, task: Executable, context: ExecutionContext) -> None:
        with self._lock:
            self._starts[task.task_id] = time.perf_counter()
            self._order.append(task.task_id)
        self._print(1, f"> {task.task_id}")

    def on_task_end(
        self,
        task: Executable,
        context: ExecutionContext,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        started = self._starts.pop(task.task_id, None)
        took = f" {1000 * (time.perf_counter() - started):.1f} ms" if started else ""
        status = f"failed: {error}" if error is not None else "ok"
        self._print(1, f"< {task.task_id} {status}{took}")

    def on_dynamic_task_added(
        self,
        task_id: str,
        parent_task_id: str | None = None,
        is_iteration: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        kind = "iteration" if is_iteration else "dynamic task"
        self._print(2, f"+ {kind} {task_id} (from {parent_task_id})")

    def get_execution_order(self) -> list[str]:
        """Task ids in the order they started."""
        return list(self._order)
