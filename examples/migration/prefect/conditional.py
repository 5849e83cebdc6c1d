"""Conditional logic: validate a batch, then publish it or quarantine it.

The branch depends on a task result (``report["ok"]``); both branches call tasks, and the
flow continues after the ``if`` with the branch's result.
"""

from prefect import flow, get_run_logger, task


@task
def load_batch(batch_id: int) -> list[int]:
    return list(range(batch_id, batch_id + 5))


@task
def validate(rows: list[int], limit: int) -> dict:
    bad = [r for r in rows if r > limit]
    return {"ok": not bad, "bad": bad, "rows": rows}


@task
def publish(rows: list[int]) -> str:
    return f"published {len(rows)} rows"


@task
def quarantine(bad: list[int]) -> str:
    return f"quarantined {len(bad)} rows"


@task
def notify(message: str, channel: str = "#data") -> str:
    return f"{channel}: {message}"


@flow(name="validate-and-publish")
def validate_and_publish(batch_id: int = 1, limit: int = 100) -> str:
    logger = get_run_logger()
    rows = load_batch(batch_id)
    report = validate(rows, limit)
    if report["ok"]:
        logger.info("batch %s is valid", batch_id)
        outcome = publish(report["rows"])
    else:
        outcome = quarantine(report["bad"])
    return notify(outcome)


if __name__ == "__main__":
    print(validate_and_publish())
    print(validate_and_publish(batch_id=98))
