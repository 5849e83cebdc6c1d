"""A TaskFlow DAG: extract two sources in parallel, join them, fan out per row with
``.expand()``, and summarise. Retries come from ``default_args`` and one task's options.
"""

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

default_args = {"retries": 1, "retry_delay": timedelta(seconds=1)}


@dag(
    dag_id="taskflow_etl",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    default_args=default_args,
    params={"scale": 3},
    tags=["example"],
)
def taskflow_etl():
    @task(retries=2, retry_delay=timedelta(seconds=2), execution_timeout=timedelta(minutes=5))
    def extract_users() -> list[dict]:
        return [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]

    @task
    def extract_orders() -> list[dict]:
        return [{"user": 1, "amount": 10}, {"user": 2, "amount": 5}, {"user": 1, "amount": 7}]

    @task
    def join(users: list[dict], orders: list[dict]) -> list[dict]:
        totals: dict[int, int] = {}
        for order in orders:
            totals[order["user"]] = totals.get(order["user"], 0) + order["amount"]
        return [{"name": u["name"], "total": totals.get(u["id"], 0)} for u in users]

    @task
    def score(row: dict, factor: int) -> int:
        return row["total"] * factor

    @task
    def summarise(scores: list[int]) -> dict:
        return {"rows": len(scores), "score": sum(scores)}

    joined = join(extract_users(), extract_orders())
    scores = score.partial(factor=2).expand(row=joined)
    summary = summarise(scores)
    joined >> summary


taskflow_etl()
