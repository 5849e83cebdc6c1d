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


@task(inject_context=True)
def jump_to_second(ctx: Any) -> str:
    """Jumps (goto) to its second successor."""
    ctx.next_task(ctx.graph.get_node("n2"), goto=True)
    return "n2"


@task(inject_context=True)
def mark(ctx: Any) -> str:
    ctx.get_channel().set(f"seen.{ctx.task_id}", True)
    return ctx.task_id


def build_goto_past_a_join() -> WorkflowContext:
    """A random differential draw: ``n0`` jumps to ``n2``; ``n4`` follows both ``n0`` and
    ``n2``, so the jump skips it (n0's other successors n1, n3 too): the result is n2's."""
    with workflow("goto_past_a_join") as wf:
        n0 = jump_to_second(task_id="n0")
        n1, n2, n3, n4 = (mark(task_id=f"n{i}") for i in range(1, 5))
        n0 >> n1
        n0 >> n2
        n0 >> n3
        n0 >> n4
        n2 >> n4
    return wf
