"""Predefined TypedDict message schemas, registered with :class:`ChannelTypeRegistry`."""

from __future__ import annotations

from typing import Any, TypedDict

from graflow_core.channels.typed import ChannelTypeRegistry


class TaskResultMessage(TypedDict):
    """A task's result."""

    task_id: str
    result: Any
    timestamp: float
    status: str


class TaskProgressMessage(TypedDict):
    """Progress report of a running task."""

    task_id: str
    progress: float
    message: str
    timestamp: float


class TaskErrorMessage(TypedDict):
    """A task's error."""

    task_id: str
    error_type: str
    error_message: str
    timestamp: float


class WorkflowStateMessage(TypedDict):
    """A change of workflow state."""

    workflow_id: str
    state: str
    current_task: str
    completed_tasks: list[str]
    timestamp: float


class DataTransferMessage(TypedDict):
    """Data handed from one task to another."""

    from_task: str
    to_task: str
    data: Any
    data_type: str
    timestamp: float


class CycleNotificationMessage(TypedDict):
    """Notification about one cycle of a looping task."""

    task_id: str
    cycle_count: int
    max_cycles: int
    data: Any


ChannelTypeRegistry.register("task_result", TaskResultMessage)
ChannelTypeRegistry.register("task_progress", TaskProgressMessage)
ChannelTypeRegistry.register("task_error", TaskErrorMessage)
ChannelTypeRegistry.register("workflow_state", WorkflowStateMessage)
ChannelTypeRegistry.register("data_transfer", DataTransferMessage)
ChannelTypeRegistry.register("cycle_notification", CycleNotificationMessage)
