"""The workflow / run / task a log line belongs to, kept in a context variable.

The metrics plugin (and :class:`LogContextPlugin`, which ``configure_json_logging`` registers)
set it from the run's hooks; :class:`graflow_metrics.JsonFormatter` reads it for every record.
One context variable holds a ``(workflow, workflow_run_id, task_id)`` tuple, so entering a task
is one ``ContextVar.set``.

Several plugins may call :func:`enter_task` for the same attempt: the first one enters, the
others find the attempt already entered and do nothing, and the first :func:`exit_task` restores
the previous value.
"""

from __future__ import annotations

import contextvars
from typing import Any

from graflow_core.plugins import hookimpl
from graflow_core.plugins.tracking import workflow_run_id

#: ``(workflow name, workflow run id, task id)`` of the code running now, or ``None``.
current: contextvars.ContextVar[tuple[str | None, str | None, str | None] | None] = (
    contextvars.ContextVar("graflow_log_context", default=None)
)

# (id(context), task_id or None) -> token of the set() that entered it.
_entered: dict[tuple[int, str | None], contextvars.Token[Any]] = {}

#: True once a :class:`~graflow_metrics.JsonFormatter` exists: the metrics plugin keeps the log
#: context only then (unless told otherwise), so metrics without JSON logs pay nothing for it.
wanted = False


def enter_workflow(context: Any, workflow_name: str | None) -> None:
    """Mark the code that follows as part of ``context``'s run (until :func:`exit_workflow`)."""
    key = (id(context), None)
    if key in _entered:
        return
    _entered[key] = current.set((workflow_name or None, workflow_run_id(context), None))


def exit_workflow(context: Any) -> None:
    """Undo :func:`enter_workflow`."""
    _reset(_entered.pop((id(context), None), None))


def enter_task(context: Any, task_id: str) -> None:
    """Mark the code that follows as running task ``task_id`` of ``context``'s run."""
    key = (id(context), task_id)
    if key in _entered:
        return
    _entered[key] = current.set((context.workflow_name or None, workflow_run_id(context), task_id))


def exit_task(context: Any, task_id: str) -> None:
    """Undo :func:`enter_task`."""
    _reset(_entered.pop((id(context), task_id), None))


def _reset(token: contextvars.Token[Any] | None) -> None:
    if token is None:
        return
    try:
        current.reset(token)
    except ValueError:  # set in another thread's context: nothing to restore here
        current.set(token.old_value if token.old_value is not contextvars.Token.MISSING else None)


class LogContextPlugin:
    """Run hooks that only maintain the log context (JSON logging without metrics).

    Registered by :func:`graflow_metrics.configure_json_logging` (``track_runs=True``) or by
    hand: ``wf.execute(plugins=[LogContextPlugin()])``.
    """

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        """Enter the run."""
        enter_workflow(context, workflow_name)

    @hookimpl
    def workflow_end(self, context: Any) -> None:
        """Leave the run."""
        exit_workflow(context)

    @hookimpl
    def workflow_failure(self, context: Any) -> None:
        """Leave the run."""
        exit_workflow(context)

    @hookimpl
    def task_start(self, task_id: str, context: Any) -> None:
        """Enter the task."""
        enter_task(context, task_id)

    @hookimpl
    def task_end(self, task_id: str, context: Any) -> None:
        """Leave the task."""
        exit_task(context, task_id)

    @hookimpl
    def task_failure(self, task_id: str, context: Any) -> None:
        """Leave the task."""
        exit_task(context, task_id)
