"""ETL with retries: extract orders, clean them, load them into a summary.

A typical Prefect flow: a flaky extract step retried with backoff, a transform with a
timeout, and a load step; the flow returns a summary dict.
"""

from datetime import timedelta

from prefect import flow, get_run_logger, task
from prefect.tasks import task_input_hash

ORDERS = [
    {"id": 1, "amount": "12.50", "country": "de"},
    {"id": 2, "amount": "3.20", "country": "fr"},
    {"id": 3, "amount": "bad", "country": "de"},
    {"id": 4, "amount": "48.00", "country": "it"},
]

_attempts = {"extract": 0}


@task(name="extract", retries=3, retry_delay_seconds=[0.01, 0.02, 0.04])
def extract(source: str) -> list[dict]:
    """Read the raw orders (fails on the first attempt, like a flaky API)."""
    _attempts["extract"] += 1
    if _attempts["extract"] == 1:
        raise ConnectionError(f"{source} not reachable")
    return [dict(row) for row in ORDERS]


@task(timeout_seconds=30, cache_key_fn=task_input_hash, cache_expiration=timedelta(hours=1))
def transform(rows: list[dict], min_amount: float) -> list[dict]:
    """Parse amounts, drop bad rows and rows below min_amount."""
    logger = get_run_logger()
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


@task(retries=3, retry_delay_seconds=[1, 5, 30])
def load(rows: list[dict]) -> int:
    """Pretend to write the rows; return how many were written."""
    return len(rows)


@flow(name="orders-etl", log_prints=True)
def orders_etl(source: str = "s3://orders/today.json", min_amount: float = 5.0) -> dict:
    logger = get_run_logger()
    raw = extract(source)
    cleaned = transform(raw, min_amount)
    # load, then summarise
    written = load(cleaned)
    logger.info("loaded %d rows", written)
    return {"written": written, "total": sum(r["amount"] for r in cleaned)}


if __name__ == "__main__":
    print(orders_etl())
