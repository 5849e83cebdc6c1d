"""Nested subflows: a nightly pipeline runs an ingest subflow and a report subflow.

Each subflow is a flow of its own (callable alone); the parent passes results between them.
"""

from prefect import flow, task


@task(retries=1, retry_delay_seconds=0)
def fetch(region: str) -> list[int]:
    return {"eu": [5, 3, 9], "us": [7, 1]}[region]


@task
def dedupe(values: list[int]) -> list[int]:
    return sorted(set(values))


@task
def render(values: list[int], title: str) -> str:
    return f"{title}: " + ", ".join(str(v) for v in values)


@flow
def ingest(region: str = "eu") -> list[int]:
    """Fetch a region's values and de-duplicate them."""
    raw = fetch(region)
    return dedupe(raw)


@flow
def build_report(values: list[int], title: str = "report") -> str:
    return render(values, title)


@flow(name="nightly")
def nightly(region: str = "eu", title: str = "Nightly") -> dict:
    values = ingest(region)
    text = build_report(values, title=title)
    return {"region": region, "count": len(values), "report": text}


if __name__ == "__main__":
    print(nightly())
