"""ETL with retries: extract orders, clean them, load them into a summary.

A typical Prefect flow: a flaky extract step retried with backoff, a transform with a
timeout, and a load step; the flow returns a summary dict.
"""


import logging

from graflow_core import RetryPolicy, task, workflow

ORDERS = [
    {"id": 1, "amount": "12.50", "country": "de"},
    {"id": 2, "amount": "3.20", "country": "fr"},
    {"id": 3, "amount": "bad", "country": "de"},
    {"id": 4, "amount": "48.00", "country": "it"},
]

_attempts = {"extract": 0}


@task(
    id="extract",
    retry_policy=RetryPolicy(
        max_retries=3,
        initial_interval=0.01,
        backoff_factor=2,
        max_interval=0.04,
    ),
)
def extract(source: str) -> list[dict]:
    """Read the raw orders (fails on the first attempt, like a flaky API)."""
    _attempts["extract"] += 1
    if _attempts["extract"] == 1:
        raise ConnectionError(f"{source} not reachable")
    return [dict(row) for row in ORDERS]


# TODO(graflow-migrate): @task(cache_key_fn=task_input_hash) was dropped: Prefect result caching has
#     no graflow counterpart
# TODO(graflow-migrate): @task(cache_expiration=timedelta(hours=1)) was dropped: Prefect result
#     caching has no graflow counterpart
@task(timeout=30)
def transform(rows: list[dict], min_amount: float) -> list[dict]:
    """Parse amounts, drop bad rows and rows below min_amount."""
    logger = logging.getLogger(__name__)
    clean = []
    for row in rows:
        try:
            amount = float(row["amount"])
        except ValueError:
            logger.warning("dropping row %s", row["id"])
            continue
        if amount >= min_amount:
            clean.append({**row, "amount": amount, "country": row["country"].upper()})
    return clean


@task(
    retry_policy=RetryPolicy(
        max_retries=3,
        initial_interval=1,
        backoff_factor=5.477226,
        max_interval=30,
    ),
)
def load(rows: list[dict]) -> int:
    """Pretend to write the rows; return how many were written."""
    return len(rows)


def build_orders_etl():
    """Build the graflow workflow of the Prefect flow ``orders-etl``.

    Parameters (channel keys): source, min_amount.
    """
    logger = logging.getLogger(__name__)
    with workflow("orders-etl") as wf:
        extract_task = extract(task_id="extract")

        @task(id="transform", timeout=30, inject_context=True)
        def transform_task(ctx, min_amount):
            raw = ctx.get_result("extract")
            return transform.func(raw, min_amount)

        # load, then summarise
        @task(
            id="load",
            retry_policy=RetryPolicy(
                max_retries=3,
                initial_interval=1,
                backoff_factor=5.477226,
                max_interval=30,
            ),
            inject_context=True,
        )
        def load_task(ctx):
            cleaned = ctx.get_result("transform")
            return load.func(cleaned)

        @task(id="orders_etl_step", inject_context=True)
        def orders_etl_step_task(ctx):
            written = ctx.get_result("load")
            logger.info("loaded %d rows", written)

        extract_task >> transform_task >> load_task >> orders_etl_step_task
    return wf


def orders_etl(source: str = "s3://orders/today.json", min_amount: float = 5.0) -> dict:
    """Run the workflow ``orders-etl`` and return the flow's result."""
    _, ctx = build_orders_etl().execute(
        ret_context=True,
        initial_channel={"source": source, "min_amount": min_amount},
    )
    cleaned = ctx.get_result("transform")
    written = ctx.get_result("load")
    return {"written": written, "total": sum(r["amount"] for r in cleaned)}


if __name__ == "__main__":
    print(orders_etl())
