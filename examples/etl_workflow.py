"""A small ETL workflow that uses the whole programming model.

    extract >> (enrich_geo | enrich_fx) >> validate >> load >> report

* ``enrich_geo`` and ``enrich_fx`` run in parallel; ``enrich_fx`` is flaky and retried with
  exponential backoff.
* ``validate`` adds a *dynamic* ``fix_record`` task for every bad record (``next_task``).
* ``load`` writes a deferred checkpoint, so a crash after it resumes at ``report``.

Tasks are defined at module level, so checkpoints refer to them by import path and a run can
be resumed in another process.  Run ``python examples/checkpoint_demo.py`` to see it work.
"""

from __future__ import annotations

import os
from typing import Any

from graflow_core import RetryPolicy, TaskExecutionContext, task, workflow
from graflow_core.core.workflow import WorkflowContext

RAW_ORDERS = [
    {"id": 1, "city": "Tokyo", "amount": 120.0, "currency": "JPY"},
    {"id": 2, "city": "Paris", "amount": 80.0, "currency": "EUR"},
    {"id": 3, "city": "", "amount": 55.0, "currency": "USD"},
    {"id": 4, "city": "Lima", "amount": -5.0, "currency": "PEN"},
    {"id": 5, "city": "Oslo", "amount": 42.0, "currency": "NOK"},
]
RATES = {"JPY": 0.0067, "EUR": 1.08, "USD": 1.0, "PEN": 0.27, "NOK": 0.094}
_fx_attempts = {"count": 0}


@task
def extract() -> list[dict[str, Any]]:
    """Read the raw orders."""
    return [dict(order) for order in RAW_ORDERS]


@task
def enrich_geo(extract: list[dict[str, Any]]) -> dict[int, str]:
    """Region per order (keyword ``extract`` is resolved from the upstream result)."""
    regions = {"Tokyo": "APAC", "Paris": "EMEA", "Lima": "LATAM", "Oslo": "EMEA"}
    return {o["id"]: regions.get(o["city"], "UNKNOWN") for o in extract}


@task(retry_policy=RetryPolicy(max_retries=3, initial_interval=0.01, backoff_factor=2.0))
def enrich_fx(extract: list[dict[str, Any]]) -> dict[int, float]:
    """Amount in USD per order; the rate service fails on the first call."""
    _fx_attempts["count"] += 1
    if _fx_attempts["count"] == 1:
        raise ConnectionError("rate service timed out")
    return {o["id"]: round(o["amount"] * RATES[o["currency"]], 2) for o in extract}


@task
def fix_record(ctx_record_id: int, reason: str) -> dict[str, Any]:
    """A dynamic task created by ``validate`` for one bad record."""
    return {"id": ctx_record_id, "action": "quarantined", "reason": reason}


@task(inject_context=True)
def validate(
    ctx: TaskExecutionContext,
    extract: list[dict[str, Any]],
    enrich_geo: dict[int, str],
    enrich_fx: dict[int, float],
) -> list[dict[str, Any]]:
    """Keep good orders; queue a ``fix_record`` task for each bad one."""
    good = []
    for order in extract:
        problem = None
        if not order["city"]:
            problem = "missing city"
        elif order["amount"] <= 0:
            problem = "non-positive amount"
        if problem:
            fixer = fix_record(
                task_id=f"fix_record_{order['id']}", ctx_record_id=order["id"], reason=problem
            )
            ctx.next_task(fixer)
            continue
        good.append({**order, "region": enrich_geo[order["id"]], "usd": enrich_fx[order["id"]]})
    return good


@task(inject_context=True)
def load(ctx: TaskExecutionContext, validate: list[dict[str, Any]], checkpoint_path: str) -> int:
    """'Load' the good orders, then checkpoint (written after this task completes)."""
    ctx.get_channel().set("loaded_ids", [o["id"] for o in validate])
    ctx.checkpoint(path=checkpoint_path, metadata={"stage": "loaded"})
    return len(validate)


@task
def report(validate: list[dict[str, Any]], load: int) -> dict[str, Any]:
    """Summarise the run (crashes hard once when DEMO_CRASH_IN_REPORT=1, like a kill -9)."""
    if os.environ.pop("DEMO_CRASH_IN_REPORT", None) == "1":
        os._exit(137)
    by_region: dict[str, float] = {}
    for order in validate:
        by_region[order["region"]] = round(by_region.get(order["region"], 0.0) + order["usd"], 2)
    return {"loaded": load, "usd_by_region": dict(sorted(by_region.items()))}


def build() -> WorkflowContext:
    """The ETL workflow (tasks are module-level, so several workflows can reuse them)."""
    with workflow("etl") as wf:
        extract >> (enrich_geo | enrich_fx).set_group_name("enrich") >> validate >> load >> report
    return wf
