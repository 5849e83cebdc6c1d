"""Workflows the GraflowOperator tests import by reference ("airflow_operator_workflows:...").

Every task appends its id to ``<scratch_dir>/runs.log`` so a test can count executions across
Airflow attempts (each attempt is a new ``execute()`` call).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from graflow_core.core.decorators import task
from graflow_core.core.workflow import WorkflowContext, workflow

log = logging.getLogger(__name__)


def _record(ctx: Any) -> None:
    with open(os.path.join(ctx.get_channel().get("scratch_dir"), "runs.log"), "a") as fh:
        fh.write(f"{ctx.task_id}\n")


@task(inject_context=True)
def step1(ctx: Any, n: int) -> int:
    _record(ctx)
    return n + 1


@task(inject_context=True)
def step2(ctx: Any, step1: int) -> int:
    _record(ctx)
    return step1 * 2


@task(inject_context=True)
def step3(ctx: Any, step2: int) -> int:
    """Fails on its first execution in a scratch dir (a marker file), succeeds afterwards."""
    _record(ctx)
    marker = os.path.join(ctx.get_channel().get("scratch_dir"), "step3.failed-once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("step3 fails on its first attempt")
    return step2 + 100


@task(inject_context=True)
def step4(ctx: Any, step3: int) -> str:
    _record(ctx)
    log.info("graflow-log-line from step4: %s", step3)
    print(f"graflow-print-line from step4: {step3}")
    return f"done {step3} ({ctx.execution_context.workflow_run_id})"


def build_flaky_chain() -> WorkflowContext:
    with workflow("flaky_chain") as wf:
        step1 >> step2 >> step3 >> step4
    return wf


@task
def scale(x: int, factor: int = 1) -> int:
    return x * factor


def build_scale() -> WorkflowContext:
    with workflow("scale") as wf:
        scale(task_id="scaled")
    return wf


not_a_workflow = 42
