"""A classic DAG with PythonOperators: op_kwargs, XCom pulls through ``ti``, DAG params,
``>>`` / ``set_downstream`` dependencies, retries and an execution timeout.
"""


from graflow_core import RetryPolicy, task, workflow


def fetch(city: str, days: int) -> list[float]:
    base = {"berlin": 10.0, "oslo": 2.0}[city]
    return [base + d * 0.5 for d in range(days)]


def average(ti) -> float:
    berlin = ti.get_result("fetch_berlin")
    oslo = ti.get_result("fetch_oslo")
    values = berlin + oslo
    return round(sum(values) / len(values), 3)


def report(ti, params) -> str:
    avg = ti.get_result("average")
    return f"{params['label']}: {avg}"


def build_weather_report():
    """Build the graflow workflow of the Airflow DAG ``weather_report``.

    Parameters (channel keys): label.
    """
    with workflow(
        "weather_report",
        retry_policy=RetryPolicy(
            max_retries=2,
            initial_interval=1,
            backoff_factor=1,
            max_interval=1,
        ),
    ) as wf:
        @task(id="start")
        def start_task():
            return None

        @task(id="fetch_berlin", timeout=30)
        def fetch_berlin_task():
            return fetch(city="berlin", days=3)

        @task(id="fetch_oslo")
        def fetch_oslo_task():
            return fetch("oslo", 2)

        @task(id="average", inject_context=True)
        def average_task(ctx):
            return average(ti=ctx)

        @task(id="report", inject_context=True)
        def report_task(ctx, label):
            return report(ti=ctx, params={"label": label})

        start_task >> (fetch_berlin_task | fetch_oslo_task) >> average_task >> report_task
    return wf


def weather_report(label="mean temperature"):
    """Run the workflow ``weather_report`` and return each task's result by task id."""
    _, ctx = build_weather_report().execute(ret_context=True, initial_channel={"label": label})
    return {
        "start": ctx.get_result("start"),
        "fetch_berlin": ctx.get_result("fetch_berlin"),
        "fetch_oslo": ctx.get_result("fetch_oslo"),
        "average": ctx.get_result("average"),
        "report": ctx.get_result("report"),
    }
