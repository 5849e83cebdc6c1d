"""The ``orders`` DAG of orders_dag.py ported to graflow by hand (docs/airflow-migration.md).

Run parameters are channel keys (``n``, ``region``); a task's parameter named like an upstream
task receives that task's result (keyword resolution), so no XCom plumbing is needed. The branch
is a ``goto`` to one of two successors. A graflow task with two predecessors is a join that waits
for both, and after a ``goto`` one of them never runs; so instead of one ``notify`` joining both
branches (Airflow's ``none_failed_min_one_success``), each branch gets its own instance of it.

    python examples/airflow_migration/orders_graflow.py
"""

from __future__ import annotations

from typing import Any

from graflow_core import RetryPolicy, TaskExecutionContext, task, workflow
from graflow_core.core.workflow import WorkflowContext

TAX_RATES = {"eu": 0.2, "us": 0.1}


@task(retry_policy=RetryPolicy(max_retries=3, initial_interval=1.0))
def fetch_orders(n: int = 3) -> list[dict[str, Any]]:
    return [{"id": i, "amount": 40 * i} for i in range(1, n + 1)]


@task
def totals(fetch_orders: list[dict[str, Any]]) -> dict[str, int]:
    return {"gross": sum(o["amount"] for o in fetch_orders), "count": len(fetch_orders)}


@task
def tax_rate(region: str = "eu") -> float:
    return TAX_RATES.get(region, 0.0)


@task(inject_context=True)
def route(ctx: TaskExecutionContext, totals: dict[str, int]) -> str:
    target = big_batch if totals["gross"] >= 200 else small_batch
    ctx.next_task(target, goto=True)  # like @task.branch: only the chosen successor runs
    return target.task_id


@task(inject_context=True)
def big_batch(ctx: TaskExecutionContext, totals: dict[str, int], tax_rate: float) -> str:
    message = f"big batch: {totals['gross'] * (1 + tax_rate):.2f}"
    ctx.get_channel().set("message", message)
    return message


@task(inject_context=True)
def small_batch(ctx: TaskExecutionContext, totals: dict[str, int]) -> str:
    message = f"small batch of {totals['count']}"
    ctx.get_channel().set("message", message)
    return message


@task
def notify(message: str) -> str:
    return f"sent: {message}"


def build() -> WorkflowContext:
    with workflow("orders") as wf:
        fetch_orders >> totals >> tax_rate >> route
        route >> big_batch >> notify(task_id="notify_big")
        route >> small_batch >> notify(task_id="notify_small")
    return wf


if __name__ == "__main__":
    print(build().execute(initial_channel={"n": 4}))
