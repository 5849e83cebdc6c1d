"""Every hook specification of graflow, grouped by domain.

Plugins implement them with :data:`graflow_core.plugins.hookimpl` (pluggy's marker for the
``graflow`` project) on a module or an object, and are found through the ``graflow`` entry-point
group or registered explicitly with ``get_plugin_manager().register(plugin)``. All hooks are
called with keyword arguments; an implementation may accept any subset of them.

Domains:

* :class:`WorkflowLifecycleSpecs` — a run starts, ends, fails.
* :class:`TaskLifecycleSpecs` — a task starts, ends, fails, is retried; a task is added at run time.
* :class:`TaskExecutionSpecs` — *how* one task is executed (a bridge hosts the engine and makes
  every task a native task run of its orchestrator).
* :class:`TaskTypeSpecs` — task types usable as ``@task(type="...")``.
* :class:`CheckpointSpecs` — where checkpoints are stored; checkpoint written / resumed.
* :class:`BridgeSpecs` — orchestrator targets and what they can express.
* :class:`DiagnosticsSpecs` — what ``graflow doctor`` reports about a plugin's set-up.

Lifecycle hooks of a parallel group's members are called from the member's branch, which may be
a worker thread (the threading backend): implementations must be thread-safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable
    from graflow_core.core.task_types import TaskType
    from graflow_core.diagnostics import Check
    from graflow_core.plugins.outcome import TaskOutcome
    from graflow_core.spec.targets import Bridge

PROJECT_NAME = "graflow"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


class WorkflowLifecycleSpecs:
    """A workflow run (the root context; parallel branches do not start a new run)."""

    @hookspec
    def workflow_start(self, context: ExecutionContext, workflow_name: str) -> None:
        """A run of ``workflow_name`` is about to execute its first task.

        Also called when a run continues from a checkpoint (``context.last_checkpoint_path`` is
        then set).
        """

    @hookspec
    def workflow_end(self, context: ExecutionContext, workflow_name: str, result: Any) -> None:
        """The run finished normally; ``result`` is the last task's result."""

    @hookspec
    def workflow_failure(
        self, context: ExecutionContext, workflow_name: str, error: BaseException
    ) -> None:
        """The run stopped with ``error`` (which then propagates to the caller)."""


class TaskLifecycleSpecs:
    """One execution attempt of one task (group members included)."""

    @hookspec
    def task_start(self, task: Executable, task_id: str, context: ExecutionContext) -> None:
        """``task`` is about to run (every attempt, retries included)."""

    @hookspec
    def task_end(
        self, task: Executable, task_id: str, context: ExecutionContext, result: Any
    ) -> None:
        """``task`` returned ``result`` (already stored in the channel)."""

    @hookspec
    def task_failure(
        self,
        task: Executable,
        task_id: str,
        context: ExecutionContext,
        error: BaseException,
        final: bool,
    ) -> None:
        """``task`` raised ``error``; ``final`` is False when a retry follows."""

    @hookspec
    def task_retry(
        self,
        task: Executable,
        task_id: str,
        context: ExecutionContext,
        error: BaseException,
        attempt: int,
        delay: float,
    ) -> None:
        """``task`` will run again: retry number ``attempt`` (1-based) after ``delay`` seconds."""

    @hookspec
    def dynamic_task_added(
        self, task: Executable, task_id: str, context: ExecutionContext, goto: bool
    ) -> None:
        """A task was queued at run time (``next_task``, ``next_iteration``)."""


class TaskExecutionSpecs:
    """How one task attempt is executed."""

    @hookspec(firstresult=True)
    def execute_task(
        self,
        task: Executable,
        task_id: str,
        context: ExecutionContext,
        invoke: Callable[[], Any],
    ) -> TaskOutcome | None:
        """Execute one task attempt, or return ``None`` to leave it to the next plugin / the core.

        ``invoke()`` runs the task body in this process (keyword resolution, injection, task
        type, timeout and circuit breaker included) and returns its value or raises. A bridge
        typically calls it inside a native task run of its orchestrator and returns
        ``TaskOutcome(value)``; raising propagates as the task's failure (the core's retry
        policy then applies). The core stores the value as the task's result.
        """


class TaskTypeSpecs:
    """Task types: ``@task(type="name")``."""

    @hookspec
    def register_task_types(self) -> list[TaskType]:
        """Return the :class:`~graflow_core.core.task_types.TaskType` objects this plugin adds."""
        raise NotImplementedError


class CheckpointSpecs:
    """Checkpoint storage and checkpoint events."""

    @hookspec(firstresult=True)
    def checkpoint_store(self, location: str) -> Any:
        """Return a ``CheckpointStore`` for ``location`` (a path or URL), or ``None``.

        ``None`` from every plugin selects the core's default: a local directory, or an fsspec
        store for URLs with a scheme (``s3://``, ``gcs://``, ``memory://`` ...).
        """

    @hookspec
    def checkpoint_written(
        self, context: ExecutionContext, path: str, metadata: dict[str, Any]
    ) -> None:
        """A checkpoint of ``context`` was written (and verified) at ``path``."""

    @hookspec
    def checkpoint_resumed(
        self, context: ExecutionContext, path: str, metadata: dict[str, Any]
    ) -> None:
        """``context`` was restored from the checkpoint at ``path``."""


class BridgeSpecs:
    """Orchestrator targets (Airflow, Prefect, Dagster ...)."""

    @hookspec
    def register_bridges(self) -> list[Bridge]:
        """Return :class:`graflow_core.spec.Bridge` objects (name, capabilities, render/parse)."""
        raise NotImplementedError


class DiagnosticsSpecs:
    """``graflow doctor``: is a plugin's configuration usable here."""

    @hookspec
    def diagnose(self) -> list[Check]:
        """Return :class:`~graflow_core.diagnostics.Check` findings about this plugin's set-up
        (is its store writable, its server reachable, its mode sensible), each ``area`` named
        after the plugin (``"mlflow"``), with a ``fix`` for anything not ``ok``.

        Must be fast (well under a second or two), must not start servers and must not use the
        network beyond a URL the user configured, with a short timeout. Each implementation is
        called on its own: one that raises is shown as a ``fail`` check, the others still run.
        """
        raise NotImplementedError


SPEC_CLASSES: tuple[type, ...] = (
    WorkflowLifecycleSpecs,
    TaskLifecycleSpecs,
    TaskExecutionSpecs,
    TaskTypeSpecs,
    CheckpointSpecs,
    BridgeSpecs,
    DiagnosticsSpecs,
)
