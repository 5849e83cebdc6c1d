"""Run the flagship workflow once on one engine, in a process of its own (the demo starts one per
engine)::

    python -m flagship.engine_run TARGET SCRATCH_DIR [--deadline SECONDS] [--parent PID]

The environment (``AIRFLOW_HOME``, ``PREFECT_HOME``, ``MLFLOW_TRACKING_URI`` ...) is set by the
caller, ``examples/demo.py``. Runs go through ``graflow_core.spec.run_on(TARGET, ...)``: the
``graflow`` engine itself, or a bridge's local run on the real orchestrator (Airflow
``dag.test()``, a Prefect flow run against a temporary local server, Dagster
``execute_in_process()``).

1. Set-up: the MLflow store, then a one-task warm-up workflow on TARGET, which pays what a
   process pays once (imports, Airflow's database and in-process API, Prefect's server).
2. Wait until ``SCRATCH_DIR/progress/TARGET.go`` exists: the demo lets the engines run one at a
   time, so that run times are not measured while another engine competes for the CPU.
3. Run the flagship workflow, then read its MLflow parent run back.

The process never outlives the demo: when its parent is gone (``os.getppid()`` is no longer
PID, default: the parent it started with) or ``--deadline`` seconds (default :data:`DEADLINE`)
have passed, it kills its own process group (the demo starts it as a session leader),
Prefect's server included.

Progress goes to ``SCRATCH_DIR/progress/TARGET.jsonl`` (one JSON line per phase and task
event); the outcome (the :class:`~graflow_core.spec.TargetRun` fields, set-up time, retries seen
by the attempt counter, MLflow run) to ``TARGET.outcome`` as a signed pickle.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()

from flagship import etl  # noqa: E402
from graflow_core import task, workflow  # noqa: E402
from graflow_core.core.workflow import WorkflowContext  # noqa: E402
from graflow_core.plugins import get_plugin_manager, hookimpl  # noqa: E402
from graflow_core.signing import dumps_signed  # noqa: E402
from graflow_core.spec.target_run import TargetRun, run_on  # noqa: E402

REFERENCE = "flagship.etl:build"
EXPERIMENT = "flagship_etl"  # MLflow's default experiment: the workflow's name
#: Seconds the process lives at most (set-up, its turn, the run) unless told otherwise.
DEADLINE = 1800.0


def files(scratch: str | os.PathLike[str], target: str) -> dict[str, Path]:
    """The progress, outcome and go files of ``target``'s process."""
    base = Path(scratch) / "progress"
    return {kind: base / f"{target}.{kind}" for kind in ("jsonl", "outcome", "go")}


@task
def ping() -> str:
    return "pong"


def build_warm_up() -> WorkflowContext:
    """A one-task workflow run during set-up (MLflow logs it under the experiment ``warm_up``)."""
    with workflow("warm_up") as wf:
        ping(task_id="ping")
    return wf


class Progress:
    """A plugin appending one JSON line per task event to the file the demo reads."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - process-long
        self.muted = False

    def emit(self, **event: Any) -> None:
        if not self.muted:
            line = json.dumps({"t": round(time.perf_counter() - STARTED, 3), **event})
            self._fh.write(line + "\n")

    def phase(self, text: str) -> None:
        self.emit(event="phase", phase=text)

    @hookimpl
    def task_start(self, task: Any, task_id: str, context: Any) -> None:
        self.emit(event="start", task=task_id)

    @hookimpl
    def task_failure(
        self, task: Any, task_id: str, context: Any, error: BaseException, final: bool
    ) -> None:
        self.emit(event="failure", task=task_id, error=type(error).__name__, final=final)


@contextlib.contextmanager
def _store_lock(scratch: str) -> Iterator[None]:
    """Engines set up concurrently: one of them creates the MLflow database, the others wait."""
    with open(Path(scratch) / "mlflow.db.demo-lock", "w") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _open_mlflow_store(scratch: str) -> None:
    """Create the MLflow store and the experiment once (one-offs, not run time).

    The engines set up at once: the first to take the lock creates both, the others find the
    marker file and go on (each opens the store in its warm-up run).
    """
    if not os.environ.get("GRAFLOW_MLFLOW"):
        return
    import graflow_mlflow.tracking  # noqa: F401 - what the first workflow_start imports

    marker = Path(scratch) / "mlflow.db.created"
    with _store_lock(scratch):
        if marker.exists():
            return
        from mlflow import MlflowClient

        client = MlflowClient()
        if client.get_experiment_by_name(EXPERIMENT) is None:
            artifacts = os.environ.get("GRAFLOW_MLFLOW_ARTIFACT_LOCATION")
            location = (Path(artifacts) / EXPERIMENT).as_uri() if artifacts else None
            client.create_experiment(EXPERIMENT, artifact_location=location)
        marker.touch()


def _mlflow_runs(run_id: str) -> tuple[str | None, dict[str, int]]:
    """The MLflow parent run of workflow run ``run_id`` and the attempts per task it logged."""
    if not os.environ.get("GRAFLOW_MLFLOW") or not run_id:
        return None, {}
    from graflow_mlflow.tracking import run_key
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is None:
        return None, {}
    ids = [experiment.experiment_id]
    parents = client.search_runs(ids, f"tags.`graflow.workflow_run_key` = '{run_key(run_id)}'")
    parents = [p for p in parents if "mlflow.parentRunId" not in p.data.tags]
    if not parents:
        return None, {}
    parent = parents[0].info.run_id
    children = client.search_runs(ids, f"tags.`mlflow.parentRunId` = '{parent}'", max_results=500)
    attempts = {
        c.data.tags.get("graflow.task_id", c.info.run_name): int(
            c.data.tags.get("graflow.attempts", 1)
        )
        for c in children
    }
    return parent, attempts


def _outcome(target: str, scratch: str, run: TargetRun, setup: float) -> dict[str, Any]:
    mlflow_run, mlflow_attempts = _mlflow_runs(run.run_id)
    attempts = etl.attempts_of(scratch, run.run_id, "to_usd")
    return {
        "target": target,
        "ok": run.ok,
        "result": run.result,
        "channel": run.channel,
        "error": None if run.error is None else f"{type(run.error).__name__}: {run.error}",
        "native_tasks": run.native_tasks,
        "states": run.states,
        "wall_seconds": run.wall_seconds,
        "setup_seconds": setup,
        "run_id": run.run_id,
        "retries": max(attempts - 1, 0),
        "checkpoint_file": (etl.run_dir(scratch, run.run_id) / "enriched.pkl").exists(),
        "mlflow_run_id": mlflow_run,
        "mlflow_attempts": mlflow_attempts,
    }


def _end() -> None:
    """End this process and, when it leads its process group, everything it started."""
    if hasattr(os, "killpg") and os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)  # our own group: Prefect's server dies with us
    os._exit(1)


def _watchdog(parent: int, deadline: float) -> None:
    """Wait while the demo (``parent``) is alive and ``deadline`` has not passed, then end."""
    while os.getppid() == parent and time.perf_counter() - STARTED < deadline:
        time.sleep(0.2)
    _end()


def main(target: str, scratch: str, deadline: float = DEADLINE, parent: int | None = None) -> int:
    """Set up, wait for the go-file, run; end early when ``parent`` is gone or at ``deadline``."""
    parent = os.getppid() if parent is None else parent
    threading.Thread(
        target=_watchdog, args=(parent, deadline), name="demo-watchdog", daemon=True
    ).start()
    paths = files(scratch, target)
    progress = Progress(paths["jsonl"])
    progress.phase("setting up the MLflow store")
    _open_mlflow_store(scratch)
    progress.phase(f"setting up {target} (warm-up run)")
    get_plugin_manager().register(progress, "flagship-progress")
    progress.muted = True
    warm_up = run_on(target, build_warm_up)
    progress.muted = False
    if not warm_up.ok:
        progress.phase(f"warm-up failed: {warm_up.error!r}")
    ready = time.perf_counter()
    progress.phase("ready, waiting for its turn")
    while not paths["go"].exists():
        time.sleep(0.05)
    progress.phase("running")
    params = {**etl.PARAMS, "scratch_dir": scratch}
    ran_at = time.perf_counter()
    run = run_on(target, REFERENCE, params)
    # Set-up: process start, imports, databases, servers, the warm-up run; plus anything the
    # run itself reported as set-up beyond its wall time (nothing after a warm-up, normally).
    setup = (ready - STARTED) + max(0.0, time.perf_counter() - ran_at - run.wall_seconds)
    progress.phase("reading the MLflow run")
    paths["outcome"].write_bytes(dumps_signed(_outcome(target, scratch, run, setup)))
    return 0 if run.ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("target")
    parser.add_argument("scratch")
    parser.add_argument("--deadline", type=float, default=DEADLINE)
    parser.add_argument("--parent", type=int, default=None)
    args = parser.parse_args()
    sys.exit(main(args.target, args.scratch, args.deadline, args.parent))
