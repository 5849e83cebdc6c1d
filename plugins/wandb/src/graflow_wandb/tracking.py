"""Weights & Biases tracking of graflow runs: one W&B run per workflow run, tasks as logged steps.

:class:`WandbTracking` is a graflow plugin. It is active only where it is switched on —
``wf.execute(plugins=[WandbTracking(...)])``, :func:`enable`, or ``GRAFLOW_WANDB=1`` in the
environment (orchestrator workers) — never merely because graflow-wandb is installed.

Continuity on orchestrators
---------------------------
The W&B run id is derived from the run's ``workflow_run_id`` (:func:`wandb_run_id`:
``"gf-"`` + a hash), and every process that executes a part of the workflow run calls
``wandb.init(id=..., resume="allow")``: all Airflow tasks / Dagster ops / Prefect task runs of one
workflow run write into the same W&B run. Online, W&B resumes the run (history continues after
the last step). Offline (``WANDB_MODE=offline``), each process writes its own
``offline-run-<time>-<id>`` directory with the same run id; ``wandb sync`` uploads them into that
one run (sync them oldest first).

What is logged
--------------
Every finished task attempt logs one history row::

    {"graflow/task": task_id, "graflow/status": "success" | "failed" | "retrying",
     "graflow/attempt": n, "graflow/duration_seconds": s,
     "task/<task_id>/duration_seconds": s}

and sets ``task/<task_id>/status`` in the run summary. The run's config holds the workflow
name, ``workflow_run_id``, run scope and version under ``graflow``; its summary
``graflow/status``. With ``per_task_runs=True`` each task gets a W&B run of its own instead
(``group`` = the workflow run's id, ``job_type`` = the task id, id derived from the workflow run
and task, so an orchestrator retry resumes it) — the grouped-runs view of W&B.

Run state
---------
``run_scope == "workflow"``: the run finishes with exit code 0 when the workflow succeeded, 1
when it failed. ``run_scope == "step"`` (one step of a run split over orchestrator tasks): each
process finishes its part of the run with the step's exit code; the next step resumes it, so the
W&B state shows the latest step's outcome, and ``graflow/status`` in the summary is ``"running"``
after a successful step (only the orchestrator knows which step is the last) and ``"failed"``
after a failed one.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graflow_core.exceptions import describe_error
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

__all__ = [
    "EnvWandbTracking",
    "TrackingWarning",
    "WandbTracking",
    "active_task_run",
    "disable",
    "enable",
    "wandb_run_id",
    "workflow_run_id",
]

ENABLE_ENV = "GRAFLOW_WANDB"
PER_TASK_RUNS_ENV = "GRAFLOW_WANDB_PER_TASK_RUNS"


def wandb_run_id(run_id: str, task: str | None = None) -> str:
    """The deterministic W&B run id of a workflow run (or of one task of it)."""
    source = run_id if task is None else f"{run_id}\x00{task}"
    return "gf-" + hashlib.sha256(source.encode()).hexdigest()[:29]


@dataclass
class _Attempt:
    started: float
    number: int


@dataclass
class _RunState:
    key: str
    scope: str
    run: Any  # the workflow's wandb Run (None with per_task_runs)
    started: float
    workflow_name: str = ""
    failed: bool = False
    attempts: dict[str, int] = field(default_factory=dict)
    current: dict[str, _Attempt] = field(default_factory=dict)
    task_runs: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)  # written once, at the run's end
    lock: threading.Lock = field(default_factory=threading.Lock)


# (workflow_run_id, task_id) -> the wandb Run a task's attempt logs into (``wandb`` task type).
_active_task_runs: dict[tuple[str, str], Any] = {}


def active_task_run(context: Any, task_id: str) -> Any:
    """The wandb ``Run`` that ``task_id``'s attempt logs into when tracking is on, else None."""
    return _active_task_runs.get((workflow_run_id(context), task_id))


class WandbTracking(RunTracker):
    """Track workflow runs in Weights & Biases: one W&B run per workflow run.

    Args:
        project: W&B project; default ``$WANDB_PROJECT``, else the workflow's name.
        entity: W&B entity (team/user); default W&B's (``$WANDB_ENTITY``).
        group: W&B group of the run (default: none; with ``per_task_runs`` the workflow run).
        mode: ``"online"`` / ``"offline"`` / ``"disabled"``; default W&B's (``$WANDB_MODE``).
        dir: where W&B writes its files (default W&B's: ``$WANDB_DIR`` or ``./wandb``).
        config: extra config values of the run.
        tags: W&B tags of the run.
        per_task_runs: one W&B run per task (grouped by workflow run) instead of task steps
            in one run (``GRAFLOW_WANDB_PER_TASK_RUNS=1``). Slower: a ``wandb.init`` per task.
        log_groups: also log parallel group nodes as tasks.
        settings: extra ``wandb.Settings`` fields (default: ``console="off"``, ``silent=True``,
            so W&B does not capture the process's output).
        strict: raise tracking errors instead of warning (:class:`TrackingWarning`).
    """

    def __init__(
        self,
        project: str | None = None,
        entity: str | None = None,
        *,
        group: str | None = None,
        mode: str | None = None,
        dir: str | os.PathLike[str] | None = None,
        config: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        per_task_runs: bool | None = None,
        log_groups: bool = False,
        settings: Mapping[str, Any] | None = None,
        strict: bool = False,
    ) -> None:
        self.project = project or os.environ.get("WANDB_PROJECT") or None
        self.entity = entity
        self.group = group
        self.mode = mode
        self.dir = os.fspath(dir) if dir is not None else None
        self.config = dict(config or {})
        self.tags = list(tags or [])
        self.per_task_runs = env_flag(PER_TASK_RUNS_ENV) if per_task_runs is None else per_task_runs
        self.settings = {"console": "off", "silent": True, **dict(settings or {})}
        super().__init__(log_groups=log_groups, strict=strict)

    def __repr__(self) -> str:
        return f"WandbTracking(project={self.project!r}, per_task_runs={self.per_task_runs})"

    label = "graflow-wandb"

    # -- runs ----------------------------------------------------------------------------------

    def _init(self, *, run_id: str, name: str, project: str, **extra: Any) -> Any:
        import wandb

        return wandb.init(
            id=run_id,
            resume="allow",
            name=name,
            project=project,
            entity=self.entity,
            mode=self.mode,  # type: ignore[arg-type]
            dir=self.dir,
            tags=self.tags or None,
            reinit="create_new",
            settings=wandb.Settings(**self.settings),
            **extra,
        )

    def open_run(self, context: Any, workflow_name: str, run_id: str, scope: str) -> _RunState:
        run = None
        if not self.per_task_runs:
            info = {
                "workflow_name": workflow_name,
                "workflow_run_id": run_id,
                "run_scope": scope,
                "workflow_version": getattr(context, "workflow_version", None),
            }
            run = self._init(
                run_id=wandb_run_id(run_id),
                name=workflow_name or "graflow",
                project=self._project(workflow_name),
                group=self.group,
                job_type=scope,
                config={**self.config, "graflow": info},
            )
            run.summary["graflow/status"] = "running"
        return _RunState(
            key=run_id,
            scope=scope,
            run=run,
            started=time.perf_counter(),
            workflow_name=workflow_name,
        )

    def close_run(self, state: _RunState, error: BaseException | None) -> None:
        key = state.key
        for active in [k for k in _active_task_runs if k[0] == key]:
            _active_task_runs.pop(active, None)
        failed = state.failed or error is not None
        for task_run in state.task_runs.values():
            task_run.finish(exit_code=1 if failed else 0)
        run = state.run
        if run is None:
            return
        status = "failed" if failed else "running" if state.scope == "step" else "succeeded"
        run.summary.update(state.summary)
        run.summary["graflow/status"] = status
        if state.scope != "step":
            run.summary["graflow/duration_seconds"] = time.perf_counter() - state.started
        if error is not None:
            run.summary["graflow/error"] = describe_error(error)[:4000]
        run.finish(exit_code=1 if failed else 0)

    # -- tasks ---------------------------------------------------------------------------------

    def start_task(self, state: _RunState, task: Any, task_id: str, context: Any) -> None:
        key = task_key(task_id, context)
        with state.lock:
            number = state.attempts.get(key, 0) + 1
            state.attempts[key] = number
            state.current[key] = _Attempt(time.perf_counter(), number)
            run = state.run
            if self.per_task_runs:
                run = state.task_runs.get(key)
        if run is None:  # per_task_runs: a run per task, resumed by an orchestrator retry
            run = self._init(
                run_id=wandb_run_id(state.key, key),
                name=task_id,
                project=self._project(state.workflow_name),
                group=self.group or wandb_run_id(state.key),
                job_type=task_id,
                config={**self.config, "graflow": {"workflow_run_id": state.key}},
            )
            with state.lock:
                state.task_runs[key] = run
        _active_task_runs[(state.key, task_id)] = run

    def end_task(
        self,
        state: _RunState,
        task_id: str,
        context: Any,
        error: BaseException | None,
        final: bool,
    ) -> None:
        key = task_key(task_id, context)
        with state.lock:
            attempt = state.current.pop(key, None)
            if attempt is None:
                return
            run: Any = state.task_runs.get(key) if self.per_task_runs else state.run
        if run is None:
            return
        if error is None:
            status = "success"
        elif final:
            status = "failed"
            state.failed = True
        else:
            status = "retrying"
        duration = time.perf_counter() - attempt.started
        row: dict[str, Any] = {
            "graflow/task": task_id,
            "graflow/status": status,
            "graflow/attempt": attempt.number,
            "graflow/duration_seconds": duration,
            f"task/{task_id}/duration_seconds": duration,
        }
        summary = {f"task/{task_id}/status": status}
        if error is not None:
            summary[f"task/{task_id}/error"] = describe_error(error)[:4000]
        with state.lock:
            run.log(row)
            state.summary.update(summary)
        if status != "retrying":
            _active_task_runs.pop((state.key, task_id), None)
            if self.per_task_runs:
                with state.lock:
                    state.task_runs.pop(key, None)
                run.summary.update(summary)
                run.finish(exit_code=0 if error is None else 1)

    # -- plumbing ------------------------------------------------------------------------------

    def _project(self, workflow_name: str) -> str:
        return self.project or workflow_name or "graflow"


class EnvWandbTracking(LazyDiagnosis, WandbTracking):
    """The entry-point plugin when ``GRAFLOW_WANDB=1``: tracking plus the ``wandb`` task type
    (and ``graflow doctor``'s ``diagnose`` hook)."""

    diagnosis = "graflow_wandb.doctor:diagnose"

    @hookimpl
    def register_task_types(self) -> list[Any]:
        from graflow_wandb.task_type import WandbTaskType

        return [WandbTaskType()]


_ENABLED_NAME = "graflow-wandb-tracking"


def enable(project: str | None = None, **options: Any) -> WandbTracking:
    """Track every workflow run of this process (replaces an earlier :func:`enable`).

    Takes the arguments of :class:`WandbTracking` and returns the registered instance.
    """
    tracking = WandbTracking(project, **options)
    enable_tracker(_ENABLED_NAME, tracking)
    return tracking


def disable() -> None:
    """Undo :func:`enable`."""
    disable_tracker(_ENABLED_NAME)
