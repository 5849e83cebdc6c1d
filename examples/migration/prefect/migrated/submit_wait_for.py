"""Concurrency with .submit(): three independent stock reads run concurrently, an audit
task waits for two of them without using their results (``wait_for``), then a merge step
combines the futures' results.
"""

from graflow_core import RetryPolicy, task, workflow

AUDIT_LOG: list[str] = []


@task(retry_policy=RetryPolicy(max_retries=2, initial_interval=1, backoff_factor=1, max_interval=1))
def read_stock(warehouse: str) -> dict[str, int]:
    stock = {
        "north": {"bolts": 120, "nuts": 40},
        "south": {"bolts": 15, "washers": 300},
        "east": {"nuts": 5},
    }
    return stock[warehouse]


@task
def audit(message: str) -> str:
    AUDIT_LOG.append(message)
    return message


@task
def merge(parts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for item, count in part.items():
            total[item] = total.get(item, 0) + count
    return dict(sorted(total.items()))


def build_inventory_sync():
    """Build the graflow workflow of the Prefect flow ``inventory-sync``.

    Parameters (channel keys): threshold.
    """
    with workflow("inventory-sync") as wf:
        read_stock_task = read_stock(task_id="read_stock", warehouse="north")

        read_stock_2_task = read_stock(task_id="read_stock_2", warehouse="south")

        read_stock_3_task = read_stock(task_id="read_stock_3", warehouse="east")

        audit_task = audit(task_id="audit", message="north and south read")

        @task(id="merge", inject_context=True)
        def merge_task(ctx):
            east = ctx.get_result("read_stock_3")
            north = ctx.get_result("read_stock")
            south = ctx.get_result("read_stock_2")
            return merge.func([north, south, east])

        @task(id="low", inject_context=True)
        def low_task(ctx, threshold):
            totals = ctx.get_result("merge")
            low = sorted(item for item, count in totals.items() if count < threshold)
            return low

        (
            (read_stock_task | read_stock_2_task | read_stock_3_task)
            >> audit_task
            >> merge_task
            >> low_task
        )
    return wf


def inventory_sync(threshold: int = 50) -> dict:
    """Run the workflow ``inventory-sync`` and return the flow's result."""
    _, ctx = build_inventory_sync().execute(
        ret_context=True,
        initial_channel={"threshold": threshold},
    )
    low = ctx.get_result("low")
    note = ctx.get_result("audit")
    totals = ctx.get_result("merge")
    return {"totals": totals, "low": low, "audit": note}


if __name__ == "__main__":
    print(inventory_sync())
