"""Concurrency with .submit(): three independent stock reads run concurrently, an audit
task waits for two of them without using their results (``wait_for``), then a merge step
combines the futures' results.
"""

from prefect import flow, task
from prefect.futures import wait

AUDIT_LOG: list[str] = []


@task(retries=2, retry_delay_seconds=1)
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


@flow(name="inventory-sync")
def inventory_sync(threshold: int = 50) -> dict:
    north = read_stock.submit("north")
    south = read_stock.submit("south")
    east = read_stock.submit("east")
    note = audit.submit("north and south read", wait_for=[north, south])
    wait([north, south, east])
    totals = merge([north.result(), south.result(), east.result()])
    low = sorted(item for item, count in totals.items() if count < threshold)
    return {"totals": totals, "low": low, "audit": note.result()}


if __name__ == "__main__":
    print(inventory_sync())
