"""The example workflow of docs/mlflow.md and docs/wandb.md (``tracked_pipeline:build_mlflow``).

``prepare`` reads the run parameter ``rows``, two feature tasks run in parallel, ``train``
returns its metrics — logged by the ``mlflow`` (or ``wandb``) task type — and ``publish``
reports. Module-level tasks, so a static orchestrator (or ``run_plan(processes=True)``) can load
the workflow by reference in another process.
"""

from __future__ import annotations

from graflow_core import task, workflow
from graflow_core.core.workflow import WorkflowContext


@task
def prepare(rows: int) -> list[float]:
    return [float(i % 7) for i in range(rows)]


@task
def mean_feature(prepare: list[float]) -> float:
    return sum(prepare) / len(prepare)


@task
def max_feature(prepare: list[float]) -> float:
    return max(prepare)


def _train(mean_feature: float, max_feature: float, lr: float = 0.1) -> dict:
    loss = [round(1.0 / (epoch + 1) + lr * mean_feature / 10, 4) for epoch in range(3)]
    return {
        "metrics": {"loss": loss, "spread": max_feature - mean_feature},
        "params": {"lr": lr, "epochs": 3},
    }


def _train_wandb(mean_feature: float, max_feature: float, lr: float = 0.1) -> dict:
    result = _train(mean_feature, max_feature, lr)
    return {"metrics": result["metrics"], "summary": {"final_loss": result["metrics"]["loss"][-1]}}


train_mlflow = task(id="train", type="mlflow")(_train)
train_wandb = task(id="train", type="wandb")(_train_wandb)


@task
def publish(train: dict) -> str:
    return f"final loss {train['metrics']['loss'][-1]}"


def build_mlflow() -> WorkflowContext:
    """The pipeline with an ``mlflow`` training task."""
    with workflow("tracked_pipeline") as wf:
        prepare >> (mean_feature | max_feature) >> train_mlflow >> publish
    return wf


def build_wandb() -> WorkflowContext:
    """The pipeline with a ``wandb`` training task."""
    with workflow("tracked_pipeline") as wf:
        prepare >> (mean_feature | max_feature) >> train_wandb >> publish
    return wf
