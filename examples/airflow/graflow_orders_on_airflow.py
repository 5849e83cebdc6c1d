"""A graflow workflow to run on Airflow, one Airflow task per graflow task (docs/airflow.md).

Natively::

    python examples/airflow/graflow_orders_on_airflow.py

On Airflow: check what Airflow expresses, then write a DAG file into Airflow's DAGs folder::

    graflow preflight examples/airflow/graflow_orders_on_airflow.py --target airflow
    graflow export examples/airflow/graflow_orders_on_airflow.py --to airflow -o ~/airflow/dags \\
        --option schedule=@daily
    airflow dags trigger graflow_orders --conf '{"day": "2026-11-28"}'

What you see in Airflow: ``load_orders`` → the TaskGroup ``checks_members`` (three checks in
parallel, one of them allowed to fail: policy ``best_effort``) → the join task ``checks`` →
``route`` (a branching task: ``ship`` or ``hold``, the other one *skipped*) → ``notify`` after
``ship``. ``load_orders`` retries twice with a 1 s delay doubling each time (Airflow's retries).
"""

from __future__ import annotations

from typing import Any

from graflow_core import ParallelGroup, RetryPolicy, task, workflow


@task(retry_policy=RetryPolicy(max_retries=2, initial_interval=1.0, backoff_factor=2.0))
def load_orders(day: str = "2026-11-28") -> list[dict[str, Any]]:
    """The day's orders (a stand-in for a query)."""
    return [{"id": i, "day": day, "amount": 40 * i} for i in range(1, 6)]


@task(inject_context=True)
def check(ctx: Any, load_orders: list[dict[str, Any]], rule: str) -> bool:
    """One data-quality check; writes its verdict to the channel as ``check.<rule>``."""
    if rule == "positive":
        ok = all(o["amount"] > 0 for o in load_orders)
    elif rule == "ids_unique":
        ok = len({o["id"] for o in load_orders}) == len(load_orders)
    else:  # "flaky_external": a check against a service that is down today
        raise ConnectionError("the fraud-check service is unreachable")
    ctx.get_channel().set(f"check.{rule}", ok)
    return ok


@task(inject_context=True)
def route(ctx: Any, load_orders: list[dict[str, Any]]) -> str:
    """Ship when every check that ran passed, else hold (a goto: the other branch is skipped)."""
    channel = ctx.get_channel()
    passed = all(channel.get(k) for k in channel.keys() if k.startswith("check."))  # noqa: SIM118
    target = ship if passed and load_orders else hold
    ctx.next_task(target, goto=True)
    return target.task_id


@task
def ship(load_orders: list[dict[str, Any]]) -> int:
    return sum(o["amount"] for o in load_orders)


@task
def hold() -> str:
    return "held for review"


@task
def notify(ship: int) -> str:
    return f"shipped orders worth {ship}"


with workflow("graflow_orders") as wf:
    checks = ParallelGroup(
        [
            check(task_id="positive", rule="positive"),
            check(task_id="ids_unique", rule="ids_unique"),
            check(task_id="fraud", rule="flaky_external"),
        ],
        name="checks",
    ).with_execution(policy="best_effort")
    load_orders >> checks >> route
    route >> ship >> notify
    route >> hold


if __name__ == "__main__":
    print(wf.execute(initial_channel={"day": "2026-11-28"}))
