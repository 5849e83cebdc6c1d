"""The shared machinery of run-tracking plugins (graflow-mlflow, graflow-wandb, your own).

A tracking plugin logs each *workflow run* somewhere — once, even when the run is split over
several orchestrator tasks in several processes. :class:`RunTracker` does the graflow side:

* the hooks: ``workflow_start``/``workflow_end``/``workflow_failure`` open and close the tracked
  run, ``task_start``/``task_end``/``task_failure`` report task attempts (parallel group nodes
  skipped unless ``log_groups``);
* the run's identity: :func:`workflow_run_id` (``context.workflow_run_id`` — the
  orchestrator's run id on a bridge, shared by parallel branches — else the session id) and
  :func:`run_scope` (``"workflow"`` or ``"step"``);
* one tracked run per ``workflow_run_id`` in a process, reference-counted (several step runs of
  one workflow run in one process share it), and never two trackers for one run (an
  :func:`enable`-d tracker plus the same kind of tracker as a run plugin: the first one wins);
* errors: a tracking failure never breaks the workflow — one :class:`TrackingWarning` per
  tracker — unless ``strict=True``.

A subclass implements :meth:`RunTracker.open_run`, :meth:`~RunTracker.close_run`,
:meth:`~RunTracker.start_task` and :meth:`~RunTracker.end_task`. Importing this module imports
pluggy (like every plugin module), not a tracking library.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from typing import Any, ClassVar

from graflow_core.core.task import ParallelGroup
from graflow_core.exceptions import describe_error
from graflow_core.plugins import hookimpl


class TrackingWarning(RuntimeWarning):
    """A tracking plugin could not log; the workflow run goes on (``strict=True`` raises)."""


def workflow_run_id(context: Any) -> str:
    """The id every part of one workflow run shares (``context.workflow_run_id``: parallel
    branches inherit their root's, so no walk to the root is needed on the per-task path)."""
    value = getattr(context, "workflow_run_id", None)
    return str(value) if value else str(context.session_id)


def run_scope(context: Any) -> str:
    """``"workflow"`` (a whole run in one engine) or ``"step"`` (one step of a split run)."""
    return str(getattr(context, "run_scope", None) or "workflow")


def task_key(task_id: str, context: Any) -> str:
    """``task_id``, or ``"task_id#n"`` for the n-th execution of a task in a loop."""
    count = context.cycle_controller.cycle_counts.get(task_id, 1)
    return task_id if count <= 1 else f"{task_id}#{count}"


class _Entry:
    __slots__ = ("state", "users")

    def __init__(self, state: Any) -> None:
        self.state = state
        self.users = 1


# Root context -> the tracker that owns it, per tracker class (two MLflow trackers never track
# one run twice; an MLflow and a W&B tracker both do).
_owners: weakref.WeakKeyDictionary[Any, dict[type, RunTracker]] = weakref.WeakKeyDictionary()
_owners_lock = threading.Lock()


class RunTracker:
    """Base class of tracking plugins (see the module docs)."""

    #: Names the plugin in warnings (``"graflow-mlflow"``).
    label: ClassVar[str] = "tracking"
    #: The class whose instances exclude each other on one run (default: the subclass).
    exclusive_class: ClassVar[type | None] = None

    def __init__(self, *, log_groups: bool = False, strict: bool = False) -> None:
        self.log_groups = log_groups
        self.strict = strict
        self._entries: dict[str, _Entry] = {}
        self._entries_lock = threading.Lock()
        self._warned = False

    # -- what a tracker implements -------------------------------------------------------------

    def open_run(self, context: Any, workflow_name: str, run_id: str, scope: str) -> Any:
        """Start (or resume) tracking ``run_id``; returns the tracker's state for the run."""
        raise NotImplementedError

    def close_run(self, state: Any, error: BaseException | None) -> None:
        """The last engine run of ``state`` in this process ended (``error`` if it failed)."""
        raise NotImplementedError

    def start_task(self, state: Any, task: Any, task_id: str, context: Any) -> None:
        """An attempt of ``task_id`` starts."""
        raise NotImplementedError

    def end_task(
        self,
        state: Any,
        task_id: str,
        context: Any,
        error: BaseException | None,
        final: bool,
    ) -> None:
        """An attempt of ``task_id`` ended (``error``: it failed; ``final``: no retry follows)."""
        raise NotImplementedError

    def where(self) -> str:
        """Where the tracker logs, for warnings (``" to http://..."``)."""
        return ""

    # -- hooks ---------------------------------------------------------------------------------

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        self.guard(self._open, context, workflow_name)

    @hookimpl
    def workflow_end(self, context: Any, workflow_name: str, result: Any) -> None:
        self.guard(self._close, context, None)

    @hookimpl
    def workflow_failure(self, context: Any, workflow_name: str, error: BaseException) -> None:
        self.guard(self._close, context, error)

    @hookimpl
    def task_start(self, task: Any, task_id: str, context: Any) -> None:
        entry = self._entries.get(workflow_run_id(context)) if self._entries else None
        if entry is not None and (self.log_groups or not isinstance(task, ParallelGroup)):
            self.guard(self.start_task, entry.state, task, task_id, context)

    @hookimpl
    def task_end(self, task: Any, task_id: str, context: Any, result: Any) -> None:
        entry = self._entries.get(workflow_run_id(context)) if self._entries else None
        if entry is not None:
            self.guard(self.end_task, entry.state, task_id, context, None, True)

    @hookimpl
    def task_failure(
        self, task: Any, task_id: str, context: Any, error: BaseException, final: bool
    ) -> None:
        entry = self._entries.get(workflow_run_id(context)) if self._entries else None
        if entry is not None:
            self.guard(self.end_task, entry.state, task_id, context, error, final)

    # -- runs ----------------------------------------------------------------------------------

    def _open(self, context: Any, workflow_name: str) -> None:
        kind = self.exclusive_class or type(self)
        with _owners_lock:
            owners = _owners.setdefault(context, {})
            owner = owners.get(kind)
            if owner is not None and owner is not self:
                return  # another tracker of this kind tracks the run already
            owners[kind] = self
        run_id = workflow_run_id(context)
        with self._entries_lock:
            entry = self._entries.get(run_id)
            if entry is not None:
                entry.users += 1
                return
            state = self.open_run(context, workflow_name, run_id, run_scope(context))
            self._entries[run_id] = _Entry(state)

    def _close(self, context: Any, error: BaseException | None) -> None:
        kind = self.exclusive_class or type(self)
        with _owners_lock:
            owners = _owners.get(context)
            if owners is not None and owners.get(kind) is self:
                del owners[kind]
        run_id = workflow_run_id(context)
        with self._entries_lock:
            entry = self._entries.get(run_id)
            if entry is None:
                return
            entry.users -= 1
            if entry.users > 0:
                return
            del self._entries[run_id]
        self.close_run(entry.state, error)

    # -- errors --------------------------------------------------------------------------------

    def guard(self, fn: Any, *args: Any) -> None:
        """Call ``fn(*args)``; a failure warns once (raises with ``strict``)."""
        try:
            fn(*args)
        except Exception as exc:
            if self.strict:
                raise
            self.report(exc)

    def report(self, exc: BaseException) -> None:
        """Warn about a tracking failure (once per tracker)."""
        if self._warned:
            return
        self._warned = True
        warnings.warn(
            f"{self.label} could not log{self.where()}: {describe_error(exc)} (the workflow "
            "goes on; further tracking errors of this plugin are not reported; pass "
            "strict=True to raise them)",
            TrackingWarning,
            stacklevel=3,
        )


def enable_tracker(name: str, tracker: RunTracker) -> RunTracker:
    """Register ``tracker`` process-wide under ``name`` (replacing an earlier one)."""
    from graflow_core.plugins import get_plugin_manager

    disable_tracker(name)
    get_plugin_manager().register(tracker, name=name)
    return tracker


def disable_tracker(name: str) -> None:
    """Unregister the tracker :func:`enable_tracker` registered under ``name`` (if any)."""
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    if manager.get_plugin(name) is not None:
        manager.unregister(name=name)
