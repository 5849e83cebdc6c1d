"""The ``wandb`` task type: log what a task returns as W&B metrics.

::

    @task(type="wandb")
    def train() -> dict:
        return {"loss": 0.12, "accuracy": 0.97}

What the task returns (the value itself stays the task's result):

* a dict with a ``metrics`` and/or ``summary`` key: ``metrics`` (``{name: number}``, a list of
  numbers logs one row per element) go to the history, ``summary`` (``{name: value}``) to the
  run summary; other keys are ignored;
* any other dict: its number values are logged as metrics in one history row;
* a number: one metric named ``type_options["metric"]`` (default: the task id).

Where: into the workflow's W&B run when :class:`graflow_wandb.WandbTracking` tracks the run (or
the task's own run with ``per_task_runs``); otherwise into the active ``wandb.run`` if there is
one, else into a run of its own named after the task (W&B's usual ``WANDB_*`` settings apply).
``type_options``: ``metric``, ``prefix`` (prepended to metric names).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from graflow_core.core.task_types import TaskType
from graflow_core.exceptions import ConfigError
from graflow_wandb.tracking import active_task_run

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import TaskWrapper


class WandbTaskType(TaskType):
    """``@task(type="wandb")``: logs the returned metrics into the W&B run."""

    name = "wandb"
    options = ("metric", "prefix")

    def execute(
        self, task: TaskWrapper, context: ExecutionContext, invoke: Callable[[], Any]
    ) -> Any:
        value = invoke()
        task_id = context.current_task_id or task.task_id
        rows, summary = to_rows(value, task_id, task.type_options)
        if not rows and not summary:
            return value
        run = active_task_run(context, task_id)
        if run is not None:
            _log(run, rows, summary)
            return value
        import wandb

        if wandb.run is not None:
            _log(wandb.run, rows, summary)
            return value
        own = wandb.init(name=task_id, reinit="create_new", settings=wandb.Settings(silent=True))
        try:
            _log(own, rows, summary)
        finally:
            own.finish()
        return value


def _log(run: Any, rows: list[dict[str, float]], summary: dict[str, Any]) -> None:
    for row in rows:
        run.log(row)
    for key, val in summary.items():
        run.summary[key] = val


def to_rows(
    value: Any, task_id: str, options: Mapping[str, Any]
) -> tuple[list[dict[str, float]], dict[str, Any]]:
    """History rows and summary values for a task's return value (see the module docs)."""
    prefix = str(options.get("prefix") or "")
    if value is None or isinstance(value, bool):
        return [], {}
    if isinstance(value, numbers.Real):
        return [{prefix + str(options.get("metric") or task_id): float(value)}], {}
    if not isinstance(value, Mapping):
        return [], {}
    explicit = "metrics" in value or "summary" in value
    metrics = value.get("metrics") if explicit else value
    summary = value.get("summary") if explicit else None
    if metrics is not None and not isinstance(metrics, Mapping):
        raise ConfigError(
            f"Task '{task_id}' (type wandb) returned metrics={metrics!r}; expected a dict of "
            "metric name -> number (or list of numbers)."
        )
    if summary is not None and not isinstance(summary, Mapping):
        raise ConfigError(
            f"Task '{task_id}' (type wandb) returned summary={summary!r}; expected a dict."
        )
    rows: list[dict[str, float]] = [{}]
    for name, raw in (metrics or {}).items():
        key = prefix + str(name)
        if isinstance(raw, numbers.Real) and not isinstance(raw, bool):
            rows[0][key] = float(raw)
        elif isinstance(raw, (list, tuple)) and all(isinstance(v, numbers.Real) for v in raw):
            while len(rows) < len(raw):
                rows.append({})
            for i, v in enumerate(raw):
                rows[i][key] = float(v)
        elif explicit:
            raise ConfigError(
                f"Task '{task_id}' (type wandb): metric '{name}' is {raw!r}; a metric must be "
                "a number or a list of numbers."
            )
    return [row for row in rows if row], dict(summary or {})
