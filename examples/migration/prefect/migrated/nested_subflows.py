"""Nested subflows: a nightly pipeline runs an ingest subflow and a report subflow.

Each subflow is a flow of its own (callable alone); the parent passes results between them.
"""

from graflow_core import task, workflow


@task(max_retries=1)
def fetch(region: str) -> list[int]:
    return {"eu": [5, 3, 9], "us": [7, 1]}[region]


@task
def dedupe(values: list[int]) -> list[int]:
    return sorted(set(values))


@task
def render(values: list[int], title: str) -> str:
    return f"{title}: " + ", ".join(str(v) for v in values)


def build_ingest():
    """Build the graflow workflow of the Prefect flow ``ingest``.

    Parameters (channel keys): region.
    """
    with workflow("ingest") as wf:
        fetch_task = fetch(task_id="fetch")

        @task(id="dedupe", inject_context=True)
        def dedupe_task(ctx):
            raw = ctx.get_result("fetch")
            return dedupe.func(raw)

        fetch_task >> dedupe_task
    return wf


def ingest(region: str = "eu") -> list[int]:
    """Fetch a region's values and de-duplicate them."""
    _, ctx = build_ingest().execute(ret_context=True, initial_channel={"region": region})
    return ctx.get_result("dedupe")


def build_build_report():
    """Build the graflow workflow of the Prefect flow ``build_report``.

    Parameters (channel keys): values, title.
    """
    with workflow("build_report") as wf:
        render(task_id="render")
    return wf


def build_report(values: list[int], title: str = "report") -> str:
    """Run the workflow ``build_report`` and return the flow's result."""
    _, ctx = build_build_report().execute(
        ret_context=True,
        initial_channel={"values": values, "title": title},
    )
    return ctx.get_result("render")


def build_nightly():
    """Build the graflow workflow of the Prefect flow ``nightly``.

    Parameters (channel keys): region, title.
    """
    with workflow("nightly") as wf:
        @task(id="ingest")
        def ingest_task(region):
            """Run the subflow ``ingest`` (a nested graflow workflow)."""
            return ingest(region)

        @task(id="build_report", inject_context=True)
        def build_report_task(ctx, title):
            """Run the subflow ``build_report`` (a nested graflow workflow)."""
            values = ctx.get_result("ingest")
            return build_report(values, title=title)

        ingest_task >> build_report_task
    return wf


def nightly(region: str = "eu", title: str = "Nightly") -> dict:
    """Run the workflow ``nightly`` and return the flow's result."""
    _, ctx = build_nightly().execute(
        ret_context=True,
        initial_channel={"region": region, "title": title},
    )
    text = ctx.get_result("build_report")
    values = ctx.get_result("ingest")
    return {"region": region, "count": len(values), "report": text}


if __name__ == "__main__":
    print(nightly())
