"""Hand-written Prefect flows that the from_prefect_flow tests record (importable module)."""

from __future__ import annotations

from datetime import date

from prefect import flow, task, unmapped


@task(retries=3, retry_delay_seconds=[1, 2, 4])
def extract(n: int) -> list[int]:
    return list(range(n))


@task(timeout_seconds=30)
def transform(rows: list[int], factor: int = 2) -> list[int]:
    return [r * factor for r in rows]


@task(task_run_name="load-{table}")
def load(rows: list[int], table: str) -> dict:
    return {"table": table, "count": len(rows), "total": sum(rows)}


@flow
def etl(n: int = 5, table: str = "facts") -> dict:
    rows = extract(n)
    doubled = transform(rows, factor=3)
    return load(doubled, table)


@task
def numbers(n: int) -> list[int]:
    return list(range(1, n + 1))


@task
def scale(x: int, offset: int) -> int:
    return x * 1000 + offset


@task
def summarize(values: list[int]) -> dict:
    return {"n": len(values), "sum": sum(values)}


@flow
def fan_out(n: int = 3) -> dict:
    xs = numbers(n)
    scaled = scale.map(xs, offset=unmapped(7))
    return summarize(scaled)


@task
def create_table() -> str:
    return "created"


@task
def insert_rows(count: int) -> str:
    return f"inserted {count}"


@task
def audit() -> str:
    return "audited"


@task
def report(a: str, b: str) -> str:
    return f"{a}; {b}"


@flow
def ordered(count: int = 4) -> str:
    first = create_table.submit()
    second = insert_rows.submit(count, wait_for=[first])
    check = audit()
    return report(second.result(), check)


@flow
def child(rows: list[int]) -> dict:
    return summarize(rows)


@flow
def parent(n: int = 4) -> dict:
    xs = numbers(n)
    return child(xs)


@task
def big(x: int) -> str:
    return f"big {x}"


@task
def small(x: int) -> str:
    return f"small {x}"


@flow
def branching(x: int) -> str:
    if x > 10:
        return big(x)
    return small(x)


@task
def stamp(day: object) -> str:
    return str(day)


@flow
def computed_in_body() -> str:
    return stamp(date(2026, 1, 1))


@task
def inner(x: int) -> int:
    return x + 1


@task
def outer(x: int) -> int:
    return inner(x) * 2


@flow
def nesting(x: int = 1000) -> int:
    return outer(x)
