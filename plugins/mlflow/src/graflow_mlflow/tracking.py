"""MLflow tracking of graflow runs: one parent run per workflow run, a child run per task.

:class:`MlflowTracking` is a graflow plugin (hook implementations). It is active only where it is
switched on — ``wf.execute(plugins=[MlflowTracking(...)])``, :func:`enable`, or the environment
variable ``GRAFLOW_MLFLOW=1`` — never merely because graflow-mlflow is installed.

Continuity on orchestrators
---------------------------
The parent run is keyed on the run's ``workflow_run_id`` (the orchestrator's run identity, set by
the bridges; the graflow session id for a plain run): every process that executes a part of one
workflow run — an Airflow task, a Dagster op, a Prefect flow run — finds the same parent by the
tag ``graflow.workflow_run_key`` (a hash of the id; ``graflow.workflow_run_id`` holds the id
itself) and adds its tasks as children (tag ``mlflow.parentRunId``). A task that runs again in
the same workflow run (a retry by graflow or by the orchestrator, a resumed run) logs into its
existing child run: attempts are counted and each failed attempt leaves its traceback.

Concurrent creators: with a local store (``sqlite:///`` file, ``file:`` directory) the
find-or-create of the parent holds an exclusive file lock next to the store, so exactly one parent
exists. With a remote server each creator creates its run, searches again and keeps the earliest
(``start_time``, then run id); the others delete theirs. A creator that searched before a second
one with the *same millisecond* start time and a smaller run id created its run can still end up
with a different parent than that second one; use a local store, or let the first orchestrator
task run alone, where that matters.

Parent status
-------------
``run_scope == "workflow"`` (the whole run in one engine): RUNNING from ``workflow_start``,
FINISHED at ``workflow_end``, FAILED at ``workflow_failure`` (KILLED when the run was cancelled).

``run_scope == "step"`` (one step of a run split over orchestrator tasks): a step never ends the
parent as if the whole run had ended. At the end of each step the parent's status is derived from
all its task children: RUNNING while any child is running, else FAILED if any child failed for
good, else FINISHED; its end time is that of the latest step. A task that the orchestrator retries
successfully turns its child — and so the parent — back to FINISHED. Between two steps a
finished-looking parent only means "no step is running and none has failed".
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import queue
import threading
import time
import traceback
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import GraflowWorkflowCanceledError, describe_error
from graflow_core.plugins import env_flag, hookimpl
from graflow_core.plugins.diagnosis import LazyDiagnosis
from graflow_core.plugins.tracking import (
    RunTracker,
    TrackingWarning,
    disable_tracker,
    enable_tracker,
    task_key,
    workflow_run_id,
)
from graflow_mlflow import config

__all__ = [
    "EnvMlflowTracking",
    "MlflowTracking",
    "TrackingWarning",
    "active_task_run",
    "disable",
    "enable",
    "is_enabled",
    "workflow_run_id",
]

if TYPE_CHECKING:
    from mlflow import MlflowClient

TAG_WORKFLOW_RUN_ID = "graflow.workflow_run_id"
TAG_WORKFLOW_RUN_KEY = "graflow.workflow_run_key"
TAG_WORKFLOW_NAME = "graflow.workflow_name"
TAG_RUN_SCOPE = "graflow.run_scope"
TAG_TASK_ID = "graflow.task_id"
TAG_TASK_KEY = "graflow.task_key"
TAG_ATTEMPTS = "graflow.attempts"
TAG_STATUS = "graflow.status"
TAG_ERROR = "graflow.error"
TAG_PARENT = "mlflow.parentRunId"

_MAX_TAG = 8000
_FAILED_STATES = ("FAILED", "KILLED")


def run_key(run_id: str) -> str:
    """The lookup tag of a workflow run id (safe in MLflow filter strings)."""
    return hashlib.sha256(run_id.encode()).hexdigest()[:40]


@dataclass
class _Child:
    run_id: str | None
    attempts: int = 0
    status: str = "RUNNING"
    started: float = 0.0
    created: threading.Event = field(default_factory=threading.Event)


@dataclass
class _RunState:
    key: str
    scope: str
    client: Any
    experiment_id: str
    parent_id: str
    started: float
    children: dict[str, _Child] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    writer: _Writer | None = None

    def submit(self, fn: Any, *args: Any) -> None:
        """Run a store write: on the run's writer thread, or now (synchronous tracking)."""
        if self.writer is None:
            fn(*args)
        else:
            self.writer.submit(fn, *args)


class _Writer:
    """Performs one workflow run's MLflow writes in order on a background thread.

    Tasks then pay microseconds, not the store's milliseconds; the run's end waits until every
    write is done (:meth:`close`), so a finished ``execute()`` has logged everything.
    """

    def __init__(self, on_error: Any) -> None:
        self._queue: queue.SimpleQueue[tuple[Any, tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._on_error = on_error
        self._thread = threading.Thread(target=self._loop, name="graflow-mlflow", daemon=True)
        self._thread.start()
        _writers.add(self)

    def submit(self, fn: Any, *args: Any) -> None:
        self._queue.put((fn, args))

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception as exc:
                self._on_error(exc)

    def close(self) -> None:
        """Wait until every submitted write is done, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        _writers.discard(self)


_writers: weakref.WeakSet[_Writer] = weakref.WeakSet()


@atexit.register
def _flush_writers() -> None:  # a process ending mid-run still logs what its tasks did
    for writer in list(_writers):
        writer.close()


# (workflow_run_id, task_id) -> (client, child) while the task's attempt runs; the ``mlflow``
# task type logs into it.
_active_task_runs: dict[tuple[str, str], tuple[Any, _Child]] = {}


def active_task_run(context: Any, task_id: str) -> tuple[Any, str] | None:
    """``(MlflowClient, run_id)`` of the child run of ``task_id`` if tracking is on, else None.

    Waits until the tracking writer has created the child run.
    """
    active = _active_task_runs.get((workflow_run_id(context), task_id))
    if active is None:
        return None
    client, child = active
    child.created.wait(120)
    return None if child.run_id is None else (client, child.run_id)


class MlflowTracking(RunTracker):
    """Track workflow runs in MLflow: a parent run per workflow run, a child run per task.

    Args:
        tracking_uri: the MLflow tracking store or server; default ``$MLFLOW_TRACKING_URI``, else
            ``sqlite:///<cwd>/mlflow.db``.
        experiment: experiment name; default ``$MLFLOW_EXPERIMENT_NAME``, else the workflow's
            name (``"graflow"`` for an unnamed workflow). Created when missing.
        log_inputs: log a task's small inputs (scalars and short containers) as parameters of
            its child run (default True; ``GRAFLOW_MLFLOW_LOG_INPUTS=0`` turns it off).
        max_param_length: inputs whose text is longer are not logged (default 250).
        log_groups: also create a child run for each parallel group node.
        log_tracebacks: store each failed attempt's traceback as ``errors/attempt_<n>.txt``.
        run_name: name of the parent run (default: the workflow's name).
        tags: extra tags on the parent run.
        artifact_location: artifact root of experiments this plugin creates.
        asynchronous: write task runs on a background thread (default, unless ``strict``):
            a task waits for no store write; the end of the workflow run waits for all.
        strict: raise tracking errors instead of warning (:class:`TrackingWarning`); implies
            synchronous writes.

    Use it for one run (``wf.execute(plugins=[MlflowTracking()])``), for every run of the
    process (:func:`enable`), or on workers without code (``GRAFLOW_MLFLOW=1``).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str | None = None,
        *,
        log_inputs: bool | None = None,
        max_param_length: int = 250,
        log_groups: bool = False,
        log_tracebacks: bool = True,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        artifact_location: str | None = None,
        asynchronous: bool | None = None,
        strict: bool = False,
    ) -> None:
        import os

        self.tracking_uri = tracking_uri or config.default_tracking_uri()
        self.experiment = experiment or os.environ.get(config.EXPERIMENT_ENV) or None
        self.log_inputs = (
            env_flag(config.LOG_INPUTS_ENV, True) if log_inputs is None else log_inputs
        )
        self.max_param_length = max_param_length
        self.log_tracebacks = log_tracebacks
        self.run_name = run_name
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        self.artifact_location = artifact_location or os.environ.get(config.ARTIFACT_LOCATION_ENV)
        super().__init__(log_groups=log_groups, strict=strict)
        self.asynchronous = (not strict) if asynchronous is None else asynchronous
        self._client: MlflowClient | None = None
        self._experiments: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"MlflowTracking(tracking_uri={self.tracking_uri!r}, experiment={self.experiment!r})"

    label = "graflow-mlflow"

    def where(self) -> str:
        return f" to {self.tracking_uri}"

    # -- workflow runs -------------------------------------------------------------------------

    def open_run(self, context: Any, workflow_name: str, run_id: str, scope: str) -> _RunState:
        client = self._get_client()
        experiment_id = self._experiment_id(client, workflow_name)
        parent, created = self._find_or_create_parent(
            client, experiment_id, run_id, scope, workflow_name, context
        )
        state = _RunState(
            key=run_id,
            scope=scope,
            client=client,
            experiment_id=experiment_id,
            parent_id=parent.info.run_id,
            started=time.perf_counter(),
        )
        if not created:
            for run in _search_all(client, experiment_id, _children_filter(state.parent_id)):
                key = run.data.tags.get(TAG_TASK_KEY)
                if key:
                    state.children[key] = _loaded_child(run)
            if parent.info.status != "RUNNING":
                client.update_run(state.parent_id, status="RUNNING")
        if self.asynchronous:
            state.writer = _Writer(self.report)
        return state

    def close_run(self, state: _RunState, error: BaseException | None) -> None:
        if error is None:
            status = "FINISHED"
        else:
            status = "KILLED" if isinstance(error, GraflowWorkflowCanceledError) else "FAILED"
        for active in [k for k in _active_task_runs if k[0] == state.key]:
            _active_task_runs.pop(active, None)
        duration = time.perf_counter() - state.started
        try:
            state.submit(self._finish_parent, state, status, duration)
        finally:
            if state.writer is not None:
                state.writer.close()

    def _finish_parent(self, state: _RunState, status: str, duration: float) -> None:
        from mlflow.entities import Metric, RunTag

        client = state.client
        if state.scope == "step":
            status = self._derived_status(state, status)
            metrics = []
        else:
            metrics = [Metric("duration_seconds", duration, _now_ms(), 0)]
        tags = [RunTag(TAG_STATUS, status.lower())]
        client.log_batch(state.parent_id, metrics=metrics, tags=tags)
        if status == "RUNNING":
            client.update_run(state.parent_id, status="RUNNING")
        else:
            client.set_terminated(state.parent_id, status)

    def _derived_status(self, state: _RunState, own: str) -> str:
        """Parent status after a step: from all task children of every process."""
        if own == "KILLED":
            return own
        statuses = {
            run.info.status
            for run in _search_all(
                state.client, state.experiment_id, _children_filter(state.parent_id)
            )
        }
        if "RUNNING" in statuses or "SCHEDULED" in statuses:
            return "RUNNING"
        if statuses & set(_FAILED_STATES) or own == "FAILED":
            return "FAILED"
        return "FINISHED"

    def _find_or_create_parent(
        self,
        client: MlflowClient,
        experiment_id: str,
        key: str,
        scope: str,
        workflow_name: str,
        context: Any,
    ) -> tuple[Any, bool]:
        lookup = _parent_filter(run_key(key))
        with _store_lock(self.tracking_uri) as locked:
            found = _search_all(client, experiment_id, lookup)
            if found:
                return _earliest(found), False
            tags = {
                TAG_WORKFLOW_RUN_ID: key[:_MAX_TAG],
                TAG_WORKFLOW_RUN_KEY: run_key(key),
                TAG_WORKFLOW_NAME: workflow_name or "",
                TAG_RUN_SCOPE: scope,
                "graflow.session_id": str(context.session_id),
                **self.tags,
            }
            version = getattr(context, "workflow_version", None)
            if version:
                tags["graflow.workflow_version"] = str(version)
            run = client.create_run(
                experiment_id, tags=tags, run_name=self.run_name or workflow_name or "graflow"
            )
            if locked:
                return run, True
        # A remote store: the earliest of the concurrent creators wins, the others step back.
        winner = _earliest(_search_all(client, experiment_id, lookup) or [run])
        if winner.info.run_id != run.info.run_id:
            client.delete_run(run.info.run_id)
            return winner, False
        return run, True

    # -- tasks ---------------------------------------------------------------------------------

    def start_task(self, state: _RunState, task: Any, task_id: str, context: Any) -> None:
        key = task_key(task_id, context)
        with state.lock:
            child = state.children.get(key)
            new = child is None
            if child is None:
                child = state.children[key] = _Child(run_id=None)
            reopen = child.status in ("FINISHED", *_FAILED_STATES)
            child.attempts += 1
            child.status = "RUNNING"
            child.started = time.perf_counter()
        if new:
            tags = {
                TAG_PARENT: state.parent_id,
                TAG_WORKFLOW_RUN_ID: state.key[:_MAX_TAG],
                TAG_TASK_ID: task_id,
                TAG_TASK_KEY: key,
            }
            task_type = getattr(task, "task_type", None)
            if task_type:
                tags["graflow.task_type"] = str(task_type)
            params = self._input_params(task, context) if self.log_inputs else []
            state.submit(_create_child, state, child, task_id, tags, params)
        elif reopen:
            state.submit(_reopen_child, state, child)
        _active_task_runs[(state.key, task_id)] = (state.client, child)

    def end_task(
        self,
        state: _RunState,
        task_id: str,
        context: Any,
        error: BaseException | None,
        final: bool,
    ) -> None:
        child = state.children.get(task_key(task_id, context))
        if child is None or child.status != "RUNNING":
            return
        _active_task_runs.pop((state.key, task_id), None)
        duration = time.perf_counter() - child.started
        if error is None:
            status, label, text = "FINISHED", "success", None
        else:
            status = "FAILED" if final else "RUNNING"
            label = "failed" if final else "retrying"
            text = (
                "".join(traceback.format_exception(type(error), error, error.__traceback__))
                if self.log_tracebacks
                else None
            )
        child.status = status if error is None or final else "RETRYING"
        error_text = None if error is None else describe_error(error)[:_MAX_TAG]
        state.submit(
            _finish_child, state, child, child.attempts, duration, status, label, error_text, text
        )

    def _input_params(self, task: Any, context: Any) -> list[Any]:
        resolved = getattr(task, "resolved_inputs", None)
        if resolved is None:
            return []
        from mlflow.entities import Param

        params = []
        for name, value in resolved(context).items():
            if value is None or isinstance(value, (str, int, float, bool)):
                text = str(value)
            elif isinstance(value, (list, tuple, dict)):
                text = repr(value)
            else:
                continue
            if len(text) <= self.max_param_length and len(name) <= 250:
                params.append(Param(name, text))
        return params

    # -- plumbing ------------------------------------------------------------------------------

    def _get_client(self) -> MlflowClient:
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri)
        return self._client

    def _experiment_id(self, client: MlflowClient, workflow_name: str) -> str:
        name = self.experiment or workflow_name or "graflow"
        cached = self._experiments.get(name)
        if cached is not None:
            return cached
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            from mlflow.exceptions import MlflowException

            with _store_lock(self.tracking_uri):
                experiment = client.get_experiment_by_name(name)
                if experiment is None:
                    try:
                        experiment_id = client.create_experiment(
                            name, artifact_location=self.artifact_location
                        )
                    except MlflowException:  # created concurrently by another process
                        experiment = client.get_experiment_by_name(name)
                        if experiment is None:
                            raise
                        experiment_id = experiment.experiment_id
                else:
                    experiment_id = experiment.experiment_id
        else:
            experiment_id = experiment.experiment_id
        self._experiments[name] = experiment_id
        return experiment_id


class EnvMlflowTracking(LazyDiagnosis, MlflowTracking):
    """The entry-point plugin when ``GRAFLOW_MLFLOW=1``: tracking plus the ``mlflow`` task type
    (and ``graflow doctor``'s ``diagnose`` hook)."""

    diagnosis = "graflow_mlflow.doctor:diagnose"

    @hookimpl
    def register_task_types(self) -> list[Any]:
        from graflow_mlflow.task_type import MlflowTaskType

        return [MlflowTaskType()]


_ENABLED_NAME = "graflow-mlflow-tracking"


def enable(
    tracking_uri: str | None = None, experiment: str | None = None, **options: Any
) -> MlflowTracking:
    """Track every workflow run of this process (replaces an earlier :func:`enable`).

    Takes the arguments of :class:`MlflowTracking` and returns the registered instance.
    """
    tracking = MlflowTracking(tracking_uri, experiment, **options)
    enable_tracker(_ENABLED_NAME, tracking)
    return tracking


def disable() -> None:
    """Undo :func:`enable` (runs already started finish their tracking)."""
    disable_tracker(_ENABLED_NAME)


def is_enabled() -> bool:
    """True when :func:`enable` is in effect or ``GRAFLOW_MLFLOW=1`` switched tracking on."""
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    if manager.get_plugin(_ENABLED_NAME) is not None:
        return True
    return any(isinstance(p, MlflowTracking) for p in manager.get_plugins())


# -- store writes of task runs (on the run's writer thread) ------------------------------------


def _create_child(
    state: _RunState, child: _Child, task_id: str, tags: dict[str, str], params: list[Any]
) -> None:
    try:
        run = state.client.create_run(state.experiment_id, tags=tags, run_name=task_id)
        child.run_id = run.info.run_id
        if params:
            state.client.log_batch(child.run_id, params=params)
    finally:
        child.created.set()


def _reopen_child(state: _RunState, child: _Child) -> None:
    if child.run_id is not None:
        state.client.update_run(child.run_id, status="RUNNING")


def _finish_child(
    state: _RunState,
    child: _Child,
    attempt: int,
    duration: float,
    status: str,
    label: str,
    error: str | None,
    traceback_text: str | None,
) -> None:
    if child.run_id is None:
        return
    from mlflow.entities import Metric, RunTag

    client = state.client
    tags = [RunTag(TAG_ATTEMPTS, str(attempt)), RunTag(TAG_STATUS, label)]
    if error is not None:
        tags.append(RunTag(TAG_ERROR, error))
    metrics = [Metric("duration_seconds", duration, _now_ms(), attempt)]
    client.log_batch(child.run_id, metrics=metrics, tags=tags)
    if traceback_text is not None:
        client.log_text(child.run_id, traceback_text, f"errors/attempt_{attempt}.txt")
    if status != "RUNNING":
        client.set_terminated(child.run_id, status)


# -- helpers -----------------------------------------------------------------------------------


def _now_ms() -> int:
    return int(time.time() * 1000)


def _parent_filter(key_hash: str) -> str:
    return f"tags.`{TAG_WORKFLOW_RUN_KEY}` = '{key_hash}'"


def _children_filter(parent_id: str) -> str:
    return f"tags.`{TAG_PARENT}` = '{parent_id}'"


def _earliest(runs: list[Any]) -> Any:
    return min(runs, key=lambda r: (r.info.start_time or 0, r.info.run_id))


def _loaded_child(run: Any) -> _Child:
    try:
        attempts = int(run.data.tags.get(TAG_ATTEMPTS, "0"))
    except ValueError:
        attempts = 0
    child = _Child(run_id=run.info.run_id, attempts=attempts, status=run.info.status)
    child.created.set()
    return child


def _search_all(client: MlflowClient, experiment_id: str, filter_string: str) -> list[Any]:
    runs: list[Any] = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string, max_results=1000, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


@contextlib.contextmanager
def _store_lock(uri: str) -> Iterator[bool]:
    """An exclusive lock between processes for a local store; yields whether one is held."""
    path = config.local_store_path(uri)
    try:
        import fcntl
    except ImportError:  # Windows: no lock (documented race)
        fcntl = None  # type: ignore[assignment]
    if path is None or fcntl is None:
        yield False
        return
    if uri.startswith("sqlite:"):
        lock_path = path.with_name(path.name + ".graflow-lock")
    else:
        lock_path = path / ".graflow-lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
