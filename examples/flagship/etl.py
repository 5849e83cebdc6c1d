"""The flagship workflow: yesterday's orders, cleaned, enriched in parallel, aggregated, published.

::

    extract >> clean >> (to_usd | customer_segment | geo_region) >> join_enriched
            >> aggregate >> publish

* ``extract`` reads the bundled CSV export of orders (``data/orders.csv``);
* ``clean`` drops what a real export contains — a missing customer, an unparsable or
  non-positive amount, a cancelled order, a duplicate order id — and normalises country and
  currency codes; the reason per rejected order goes to the channel (``rejected``);
* the ``enrich`` group (policy ``strict``: every enrichment is needed) runs three lookups in
  parallel against bundled tables: ``to_usd`` (exchange rates; the "rates service" times out on
  the first attempt of every run and the task's ``RetryPolicy`` retries it), ``customer_segment``
  and ``geo_region``;
* ``join_enriched`` combines them (orders in a currency without a rate are set aside) and
  checkpoints the run: everything after it can resume from there;
* ``aggregate`` computes the KPIs (also written to the channel as ``kpis``) and ``publish``
  writes the report file and returns the run's summary.

Every task is a module-level function and takes its inputs by keyword resolution (a parameter
named like an upstream task receives its result; ``min_amount`` and ``scratch_dir`` come from the
run parameters), so the workflow is importable as ``flagship.etl:build`` (with ``examples/`` on
``sys.path``) and every bridge can run it. Run parameters: :data:`PARAMS` plus ``scratch_dir``,
where attempts, the checkpoint and the report of each run are kept, keyed by the run's
``workflow_run_id`` (so an orchestrator's retry in another process sees the first attempt).

With MLflow tracking on (``GRAFLOW_MLFLOW=1``, see docs/mlflow.md) every task gets a child run
of the workflow run's parent run, and ``publish`` logs the KPIs as metrics of its child run.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from graflow_core import RetryPolicy, TaskExecutionContext, task, workflow
from graflow_core.core.task import ParallelGroup
from graflow_core.core.workflow import WorkflowContext

DATA_DIR = Path(__file__).resolve().parent / "data"

#: The run parameters besides ``scratch_dir`` (orders below this many USD are not counted).
PARAMS: dict[str, Any] = {"min_amount": 5.0}

#: The task ids, in the order they run (the parallel group ``enrich`` is not a task).
TASKS = (
    "extract",
    "clean",
    "to_usd",
    "customer_segment",
    "geo_region",
    "join_enriched",
    "aggregate",
    "publish",
)

Order = dict[str, Any]


class RatesServiceTimeout(ConnectionError):
    """The simulated exchange-rate service timing out (first attempt of every run)."""


def _table(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def run_dir(scratch_dir: str | os.PathLike[str], workflow_run_id: str) -> Path:
    """Where one run keeps its attempt counter, checkpoint and report."""
    return Path(scratch_dir) / "runs" / _safe(workflow_run_id)


def _run_dir(ctx: TaskExecutionContext) -> Path:
    scratch = ctx.get_channel().get("scratch_dir") or tempfile.gettempdir()
    path = run_dir(scratch, ctx.execution_context.workflow_run_id)
    path.mkdir(parents=True, exist_ok=True)
    return path


def attempts_of(scratch_dir: str | os.PathLike[str], workflow_run_id: str, task_id: str) -> int:
    """How many attempts ``task_id`` made in the run (0 if it never ran)."""
    path = run_dir(scratch_dir, workflow_run_id) / f"{task_id}.attempts"
    return int(path.read_text()) if path.exists() else 0


# -- extract and clean -------------------------------------------------------------------------


@task
def extract() -> list[dict[str, str]]:
    """The raw orders export, one dict of strings per CSV row."""
    return _table("orders.csv")


def _problem(row: dict[str, str], amount: float | None, seen: set[str], min_amount: float) -> str:
    if row["order_id"] in seen:
        return "duplicate order id"
    if not row["customer_id"].strip():
        return "missing customer"
    if row["status"] != "paid":
        return f"status {row['status']}"
    if amount is None:
        return f"unparsable amount {row['amount']!r}"
    if amount < min_amount:
        return f"amount {amount:g} below {min_amount:g}"
    return ""


def _amount(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@task(inject_context=True)
def clean(
    ctx: TaskExecutionContext, extract: list[dict[str, str]], min_amount: float = 5.0
) -> list[Order]:
    """Typed, normalised orders; the reason for each rejected one goes to ``rejected``."""
    good: list[Order] = []
    rejected: dict[str, str] = {}
    seen: set[str] = set()
    for row in extract:
        amount = _amount(row["amount"])
        problem = _problem(row, amount, seen, min_amount)
        seen.add(row["order_id"])
        if problem:
            rejected[row["order_id"]] = problem
            continue
        good.append(
            {
                "order_id": int(row["order_id"]),
                "customer_id": row["customer_id"].strip(),
                "order_date": row["order_date"],
                "country": row["country"].strip().upper(),
                "currency": row["currency"].strip().upper(),
                "amount": amount,
            }
        )
    ctx.get_channel().set("rejected", rejected)
    return good


# -- the parallel enrichment group -------------------------------------------------------------


def _count_attempt(ctx: TaskExecutionContext) -> int:
    path = _run_dir(ctx) / f"{ctx.task_id}.attempts"
    attempt = (int(path.read_text()) if path.exists() else 0) + 1
    path.write_text(str(attempt))
    return attempt


@task(inject_context=True, retry_policy=RetryPolicy(max_retries=2, initial_interval=0.0))
def to_usd(ctx: TaskExecutionContext, clean: list[Order]) -> dict[str, float | None]:
    """Each order's amount in USD (``None``: no rate for its currency)."""
    attempt = _count_attempt(ctx)
    if attempt == 1:
        raise RatesServiceTimeout(f"exchange-rate service timed out (attempt {attempt})")
    rates = {r["currency"]: float(r["usd_per_unit"]) for r in _table("fx_rates.csv")}
    ctx.get_channel().set("fx_as_of", _table("fx_rates.csv")[0]["as_of"])
    return {
        str(o["order_id"]): (
            round(o["amount"] * rates[o["currency"]], 2) if o["currency"] in rates else None
        )
        for o in clean
    }


@task(inject_context=True)
def customer_segment(ctx: TaskExecutionContext, clean: list[Order]) -> dict[str, str]:
    """Each order's customer segment (``unknown`` for customers not in the CRM export)."""
    segments = {r["customer_id"]: r["segment"] for r in _table("customers.csv")}
    unknown = sorted({o["customer_id"] for o in clean} - set(segments))
    ctx.get_channel().set("unknown_customers", unknown)
    return {str(o["order_id"]): segments.get(o["customer_id"], "unknown") for o in clean}


@task
def geo_region(clean: list[Order]) -> dict[str, str]:
    """Each order's sales region from its country."""
    regions = {r["country"]: r["region"] for r in _table("regions.csv")}
    return {str(o["order_id"]): regions.get(o["country"], "OTHER") for o in clean}


# -- join, checkpoint, aggregate, publish ------------------------------------------------------


@task(inject_context=True)
def join_enriched(
    ctx: TaskExecutionContext,
    clean: list[Order],
    to_usd: dict[str, float | None],
    customer_segment: dict[str, str],
    geo_region: dict[str, str],
) -> list[Order]:
    """Enriched orders; checkpoints the run (a resume starts after this task)."""
    enriched: list[Order] = []
    unpriced: list[int] = []
    for order in clean:
        key = str(order["order_id"])
        usd = to_usd[key]
        if usd is None:
            unpriced.append(order["order_id"])
            continue
        segment, region = customer_segment[key], geo_region[key]
        enriched.append({**order, "usd": usd, "segment": segment, "region": region})
    ctx.get_channel().set("unpriced", unpriced)
    ctx.checkpoint(
        {"stage": "enriched", "orders": len(enriched)}, path=str(_run_dir(ctx) / "enriched")
    )
    return enriched


def _totals(orders: list[Order], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for order in orders:
        out[order[key]] = out.get(order[key], 0.0) + order["usd"]
    return {k: round(v, 2) for k, v in sorted(out.items())}


@task(inject_context=True)
def aggregate(ctx: TaskExecutionContext, join_enriched: list[Order]) -> dict[str, Any]:
    """Revenue KPIs of the enriched orders (also written to the channel as ``kpis``)."""
    revenue = round(sum(o["usd"] for o in join_enriched), 2)
    by_customer = _totals(join_enriched, "customer_id")
    top = sorted(by_customer.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    kpis = {
        "orders": len(join_enriched),
        "revenue_usd": revenue,
        "avg_order_usd": round(revenue / len(join_enriched), 2) if join_enriched else 0.0,
        "customers": len(by_customer),
    }
    ctx.get_channel().set("kpis", kpis)
    return {
        **kpis,
        "by_region": _totals(join_enriched, "region"),
        "by_segment": _totals(join_enriched, "segment"),
        "by_day": _totals(join_enriched, "order_date"),
        "top_customers": [c for c, _ in top],
    }


def _log_metrics(ctx: TaskExecutionContext, metrics: dict[str, float]) -> None:
    """Log ``metrics`` into this task's MLflow child run when MLflow tracking is on."""
    tracking = sys.modules.get("graflow_mlflow.tracking")  # loaded only when tracking is on
    active = tracking and tracking.active_task_run(ctx.execution_context, ctx.task_id)
    if active:
        client, run_id = active
        for name, value in metrics.items():
            client.log_metric(run_id, name, float(value))


@task(inject_context=True)
def publish(ctx: TaskExecutionContext, aggregate: dict[str, Any]) -> dict[str, Any]:
    """Write the report file of the run; return its summary."""
    channel = ctx.get_channel()
    summary = {
        "orders": aggregate["orders"],
        "rejected": len(channel.get("rejected")) + len(channel.get("unpriced")),
        "revenue_usd": aggregate["revenue_usd"],
        "top_region": max(aggregate["by_region"].items(), key=lambda kv: kv[1])[0],
        "top_customer": aggregate["top_customers"][0],
    }
    report = _run_dir(ctx) / "report.json"
    report.write_text(json.dumps({"summary": summary, **aggregate}, indent=2), encoding="utf-8")
    _log_metrics(ctx, {k: v for k, v in aggregate.items() if isinstance(v, (int, float))})
    return summary


def build() -> WorkflowContext:
    """A fresh instance of the flagship ETL workflow (``flagship.etl:build``)."""
    with workflow("flagship_etl") as wf:
        enrich = ParallelGroup([to_usd, customer_segment, geo_region], name="enrich")
        extract >> clean >> enrich.with_execution(policy="strict") >> join_enriched
        join_enriched >> aggregate >> publish
    return wf
