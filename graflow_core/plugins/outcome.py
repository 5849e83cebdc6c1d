"""The value an ``execute_task`` hook implementation returns when it executed the task."""

from __future__ import annotations

from typing import Any


class TaskOutcome:
    """Wraps the task's value, so that a task returning ``None`` is still "handled".

    (A ``firstresult`` hook treats ``None`` as "not mine, ask the next plugin".)
    """

    __slots__ = ("value",)

    def __init__(self, value: Any = None) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"TaskOutcome({self.value!r})"
