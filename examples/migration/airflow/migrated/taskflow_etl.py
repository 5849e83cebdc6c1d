"""A TaskFlow DAG: extract two sources in parallel, join them, fan out per row with
``.expand()``, and summarise. Retries come from ``default_args`` and one task's options.
"""

from datetime import timedelta

from graflow_core import RetryPolicy, parallel, task, workflow

default_args = {"retries": 1, "retry_delay": timedelta(seconds=1)}


@task(
    retry_policy=RetryPolicy(max_retries=2, initial_interval=2, backoff_factor=1, max_interval=2),
    timeout=300,
)
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


def build_taskflow_etl():
    """Build the graflow workflow of the Airflow DAG ``taskflow_etl``.

    Parameters (channel keys): scale.
    """
    with workflow(
        "taskflow_etl",
        retry_policy=RetryPolicy(
            max_retries=1,
            initial_interval=1,
            backoff_factor=1,
            max_interval=1,
        ),
    ) as wf:
        extract_users_task = extract_users(task_id="extract_users")

        extract_orders_task = extract_orders(task_id="extract_orders")

        @task(id="join", inject_context=True)
        def join_task(ctx):
            extract_orders_result = ctx.get_result("extract_orders")
            extract_users_result = ctx.get_result("extract_users")
            return join.func(extract_users_result, extract_orders_result)

        @task(id="score", inject_context=True)
        def score_task(ctx):
            """Run ``score`` once per item, in parallel."""
            joined = ctx.get_result("join")
            tasks = [
                score(task_id=f"score[{i}]", row=row_item, factor=2)
                for i, row_item in enumerate(joined)
            ]
            if len(tasks) > 1:
                ctx.next_task(parallel(*tasks))
            elif tasks:
                ctx.next_task(tasks[0])
            return [t.task_id for t in tasks]

        @task(id="summarise", inject_context=True)
        def summarise_task(ctx):
            scores = [ctx.get_result(task_id) for task_id in ctx.get_result("score")]
            return summarise.func(scores)

        (extract_users_task | extract_orders_task) >> join_task >> score_task >> summarise_task
    return wf


def taskflow_etl(scale=3):
    """Run the workflow ``taskflow_etl`` and return each task's result by task id."""
    _, ctx = build_taskflow_etl().execute(ret_context=True, initial_channel={"scale": scale})
    return {
        "extract_users": ctx.get_result("extract_users"),
        "extract_orders": ctx.get_result("extract_orders"),
        "join": ctx.get_result("join"),
        "score": [ctx.get_result(task_id) for task_id in ctx.get_result("score")],
        "summarise": ctx.get_result("summarise"),
    }
