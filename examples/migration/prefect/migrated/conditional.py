"""Conditional logic: validate a batch, then publish it or quarantine it.

The branch depends on a task result (``report["ok"]``); both branches call tasks, and the
flow continues after the ``if`` with the branch's result.
"""

import logging

from graflow_core import task, workflow


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


def build_validate_and_publish():
    """Build the graflow workflow of the Prefect flow ``validate-and-publish``.

    Parameters (channel keys): batch_id, limit.
    """
    logger = logging.getLogger(__name__)
    with workflow("validate-and-publish") as wf:
        load_batch_task = load_batch(task_id="load_batch")

        @task(id="validate", inject_context=True)
        def validate_task(ctx, limit):
            rows = ctx.get_result("load_batch")
            return validate.func(rows, limit)

        @task(id="branch", inject_context=True)
        def branch_task(ctx, batch_id):
            """Choose the tasks to run (was an if statement)."""
            report = ctx.get_result("validate")
            chosen = {}
            if report["ok"]:
                logger.info("batch %s is valid", batch_id)
                chosen["outcome"] = ctx.next_task(publish(task_id="publish", rows=report["rows"]))
            else:
                chosen["outcome"] = ctx.next_task(
                    quarantine(task_id="quarantine", bad=report["bad"]),
                )
            return chosen

        @task(id="notify", inject_context=True)
        def notify_task(ctx):
            outcome = ctx.get_result(ctx.get_result("branch").get("outcome"))
            return notify.func(outcome)

        load_batch_task >> validate_task >> branch_task >> notify_task
    return wf


def validate_and_publish(batch_id: int = 1, limit: int = 100) -> str:
    """Run the workflow ``validate-and-publish`` and return the flow's result."""
    _, ctx = build_validate_and_publish().execute(
        ret_context=True,
        initial_channel={"batch_id": batch_id, "limit": limit},
    )
    return ctx.get_result("notify")


if __name__ == "__main__":
    print(validate_and_publish())
    print(validate_and_publish(batch_id=98))
