"""Coordination backends and the coordinator interface."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from enum import Enum
from typing import TYPE_CHECKING, Any

from graflow_core.core.handler import TaskResult

if TYPE_CHECKING:
    from collections.abc import Callable

    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.engine import WorkflowEngine
    from graflow_core.core.handlers.group_policy import GroupExecutionPolicy
    from graflow_core.core.task import Executable


class CoordinationBackend(Enum):
    """Where parallel-group members run.

    ``REDIS`` exists for Graflow compatibility; graflow_core scales out through the
    orchestrator bridges instead and rejects it with a clear error.
    """

    REDIS = "redis"
    THREADING = "threading"
    DIRECT = "direct"


class TaskCoordinator(ABC):
    """Runs the members of one parallel group and applies the group policy."""

    @abstractmethod
    def execute_group(
        self,
        group_id: str,
        tasks: list[Executable],
        execution_context: ExecutionContext,
        policy: GroupExecutionPolicy,
        engine: WorkflowEngine | None = None,
    ) -> None:
        """Run ``tasks`` of group ``group_id``; raise ``ParallelGroupError`` per ``policy``."""


def run_member(task_id: str, run: Callable[..., object], *args: Any) -> TaskResult:
    """Call ``run(*args)`` for group member ``task_id``; return its timed :class:`TaskResult`.

    An ``Exception`` from ``run`` becomes a failed result holding it (and its message).
    """
    started = time.time()
    try:
        run(*args)
    except Exception as exc:
        now = time.time()
        return TaskResult(task_id, False, exc, str(exc), now - started, now)
    now = time.time()
    return TaskResult(task_id, True, None, None, now - started, now)
