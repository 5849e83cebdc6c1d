"""The ``mlflow`` task type: log what a task returns as MLflow metrics, params and artifacts.

::

    @task(type="mlflow")
    def train(lr: float) -> dict:
        ...
        return {"metrics": {"rmse": 0.71}, "params": {"depth": 6}, "artifacts": ["model.pkl"]}

What the task returns (the value itself stays the task's result):

* a dict with any of the keys ``metrics``, ``params``, ``tags``, ``artifacts`` — each is logged,
  other keys are ignored:

  - ``metrics``: ``{name: number}``; a list of numbers is logged as steps 0, 1, 2 …
  - ``params``: ``{name: value}`` (values as text);
  - ``tags``: ``{name: value}``;
  - ``artifacts``: a path, a list of paths (files or directories), or
    ``{artifact_dir: path}``;
* any other dict: its number values (and lists of numbers) are metrics;
* a number: one metric named ``type_options["metric"]`` (default: the task id).

Where it is logged: into the task's child run when MLflow tracking is on for the run
(:class:`graflow_mlflow.MlflowTracking`); otherwise into a run of its own named after the task,
started with MLflow's fluent API (nested in the active run if there is one), i.e. MLflow's usual
``MLFLOW_TRACKING_URI`` / ``MLFLOW_EXPERIMENT_NAME`` apply.

``type_options``: ``metric`` (name for a bare number), ``prefix`` (prepended to metric names),
``step`` (step of single-number metrics, default 0).
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from graflow_core.core.task_types import TaskType
from graflow_core.exceptions import ConfigError
from graflow_mlflow.tracking import active_task_run

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import TaskWrapper

LOGGING_KEYS = ("metrics", "params", "tags", "artifacts")


class MlflowTaskType(TaskType):
    """``@task(type="mlflow")``: logs the returned metrics / params / tags / artifacts."""

    name = "mlflow"
    options = ("metric", "prefix", "step")

    def execute(
        self, task: TaskWrapper, context: ExecutionContext, invoke: Callable[[], Any]
    ) -> Any:
        value = invoke()
        task_id = context.current_task_id or task.task_id
        payload = to_payload(value, task_id, dict(task.type_options))
        if not any(payload.values()):
            return value
        active = active_task_run(context, task_id)
        if active is not None:
            client, run_id = active
            log_payload(client, run_id, payload)
            return value
        import mlflow

        nested = mlflow.active_run() is not None
        with mlflow.start_run(run_name=task_id, nested=nested) as run:
            log_payload(mlflow.MlflowClient(), run.info.run_id, payload)
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real)


def _metric_values(value: Any) -> list[float] | None:
    if _is_number(value):
        return [float(value)]
    if isinstance(value, (list, tuple)) and value and all(_is_number(v) for v in value):
        return [float(v) for v in value]
    return None


def to_payload(value: Any, task_id: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """What to log for a task's return value: ``{"metrics", "params", "tags", "artifacts"}``.

    ``metrics`` maps a name to a list of ``(step, value)``; ``artifacts`` is a list of
    ``(artifact_dir or None, path)``. Raises :class:`ConfigError` for malformed entries.
    """
    prefix = str(options.get("prefix") or "")
    step = int(options.get("step") or 0)
    metrics: dict[str, list[tuple[int, float]]] = {}
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    artifacts: list[tuple[str | None, str]] = []

    def add_metrics(source: Any, where: str) -> None:
        if not isinstance(source, Mapping):
            raise ConfigError(
                f"Task '{task_id}' (type mlflow) returned {where} {source!r}; expected a dict "
                "of metric name -> number (or list of numbers)."
            )
        for name, raw in source.items():
            values = _metric_values(raw)
            if values is None:
                if where == "metrics":
                    raise ConfigError(
                        f"Task '{task_id}' (type mlflow): metric '{name}' is {raw!r}; a metric "
                        "must be a number or a list of numbers."
                    )
                continue
            if len(values) == 1:
                metrics[prefix + str(name)] = [(step, values[0])]
            else:
                metrics[prefix + str(name)] = list(enumerate(values))

    if isinstance(value, bool) or value is None:
        return {"metrics": metrics, "params": params, "tags": tags, "artifacts": artifacts}
    if _is_number(value):
        name = str(options.get("metric") or task_id)
        metrics[prefix + name] = [(step, float(value))]
    elif isinstance(value, Mapping) and any(k in value for k in LOGGING_KEYS):
        if value.get("metrics") is not None:
            add_metrics(value["metrics"], "metrics")
        for key, target in (("params", params), ("tags", tags)):
            entries = value.get(key)
            if entries is None:
                continue
            if not isinstance(entries, Mapping):
                raise ConfigError(
                    f"Task '{task_id}' (type mlflow) returned {key}={entries!r}; expected a "
                    "dict of name -> value."
                )
            target.update({str(k): str(v) for k, v in entries.items()})
        artifacts.extend(_artifact_list(value.get("artifacts"), task_id))
    elif isinstance(value, Mapping):
        add_metrics(value, "a dict")
    return {"metrics": metrics, "params": params, "tags": tags, "artifacts": artifacts}


def _artifact_list(entries: Any, task_id: str) -> list[tuple[str | None, str]]:
    if entries is None:
        return []
    if isinstance(entries, (str, os.PathLike)):
        entries = [entries]
    pairs: list[tuple[str | None, str]]
    if isinstance(entries, Mapping):
        pairs = [(str(k), os.fspath(v)) for k, v in entries.items()]
    elif isinstance(entries, (list, tuple)):
        pairs = [(None, os.fspath(v)) for v in entries]
    else:
        raise ConfigError(
            f"Task '{task_id}' (type mlflow) returned artifacts={entries!r}; expected a path, a "
            "list of paths or a dict artifact_dir -> path."
        )
    for _, path in pairs:
        if not os.path.exists(path):
            raise ConfigError(
                f"Task '{task_id}' (type mlflow) returned the artifact path '{path}', which does "
                "not exist."
            )
    return pairs


def log_payload(client: Any, run_id: str, payload: Mapping[str, Any]) -> None:
    """Log a :func:`to_payload` result into ``run_id`` (metrics, params and tags in one batch)."""
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    metrics = [
        Metric(name, value, now, step)
        for name, points in payload["metrics"].items()
        for step, value in points
    ]
    params = [Param(k, v) for k, v in payload["params"].items()]
    if params:
        # MLflow parameters cannot change: skip those the run has already (e.g. a task input
        # of the same name logged by the tracking plugin, or an earlier attempt).
        existing = client.get_run(run_id).data.params
        conflicts = sorted(p.key for p in params if existing.get(p.key, p.value) != p.value)
        if conflicts:
            import warnings

            warnings.warn(
                f"MLflow run {run_id} already has the parameter(s) {conflicts} with other "
                "values; MLflow parameters cannot change, so the returned values are not "
                "logged (return them as metrics or tags, or rename them).",
                RuntimeWarning,
                stacklevel=3,
            )
        params = [p for p in params if p.key not in existing]
    tags = [RunTag(k, v) for k, v in payload["tags"].items()]
    if metrics or params or tags:
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    for artifact_dir, path in payload["artifacts"]:
        if os.path.isdir(path):
            client.log_artifacts(run_id, path, artifact_dir)
        else:
            client.log_artifact(run_id, path, artifact_dir)
