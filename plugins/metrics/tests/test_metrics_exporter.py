"""Prometheus metrics of real runs, scraped from the real HTTP endpoint and parsed with
prometheus_client's parser."""

from __future__ import annotations

import itertools

import pytest
from metrics_test_helpers import ScrapeDuring, sample, scrape

from graflow_core import task, workflow


def test_scrape_during_a_run_sees_running_task_and_queue(served) -> None:
    probe = ScrapeDuring(served.server.url)

    with workflow("etl") as wf:

        @task
        def extract() -> int:
            return 1

        @task
        def load(extract: int) -> int:
            probe.arrive()  # blocks until the test scraped the endpoint
            return extract + 1

        @task
        def report(load: int) -> str:
            return f"loaded {load}"

        extract >> load >> report

    assert wf.execute(plugins=[served]) == "loaded 2"
    during = probe.join()
    assert sample(during, "graflow_tasks_running", workflow="etl") == 1
    assert sample(during, "graflow_workflows_running", workflow="etl") == 1
    assert sample(during, "graflow_queue_depth", workflow="etl") == 0  # report not queued yet
    assert sample(during, "graflow_tasks_total", task="extract", status="success") == 1
    assert sample(during, "graflow_tasks_total", task="load", status="success") is None

    after = scrape(served.server.url)
    for name in ("extract", "load", "report"):
        assert sample(after, "graflow_tasks_total", task=name, status="success") == 1
        assert sample(after, "graflow_task_duration_seconds_count", workflow="etl", task=name) == 1
    assert sample(after, "graflow_tasks_running", workflow="etl") is None
    assert sample(after, "graflow_workflows_total", workflow="etl", status="success") == 1
    assert sample(after, "graflow_workflow_duration_seconds_count", status="success") == 1
    # load blocked until the scrape: its duration is the largest
    load_sum = sample(after, "graflow_task_duration_seconds_sum", task="load")
    extract_sum = sample(after, "graflow_task_duration_seconds_sum", task="extract")
    assert load_sum is not None and extract_sum is not None and load_sum > extract_sum


def test_queue_depth_counts_queued_tasks(served) -> None:
    scraped: dict[str, object] = {}

    # successors are queued after a task ends: scrape from the first of start's successors
    with workflow("queue") as wf:

        @task
        def start() -> None: ...

        @task
        def probe() -> None:
            scraped["families"] = scrape(served.server.url)

        @task
        def x() -> None: ...

        @task
        def y() -> None: ...

        start >> probe
        start >> x
        start >> y

    wf.execute(plugins=[served])
    # probe runs first of start's three successors: x and y wait in the queue
    assert sample(scraped["families"], "graflow_queue_depth", workflow="queue") == 2
    assert sample(scraped["families"], "graflow_tasks_running", workflow="queue") == 1


def test_failure_and_retry_statuses(served, registry) -> None:
    attempts = {"n": 0}

    with workflow("flaky") as wf:

        @task(max_retries=2)
        def unstable() -> str:
            attempts["n"] += 1
            if attempts["n"] < 3:
                raise ValueError("not yet")
            return "ok"

        @task
        def broken(unstable: str) -> None:
            raise RuntimeError("boom")

        unstable >> broken

    with pytest.raises(Exception, match="boom"):
        wf.execute(plugins=[served])
    after = scrape(served.server.url)
    assert sample(after, "graflow_tasks_total", task="unstable", status="retry") == 2
    assert sample(after, "graflow_tasks_total", task="unstable", status="success") == 1
    assert sample(after, "graflow_tasks_total", task="broken", status="failure") == 1
    assert sample(after, "graflow_task_duration_seconds_count", task="unstable") == 3
    assert sample(after, "graflow_workflows_total", workflow="flaky", status="failure") == 1
    assert served.metrics.window.rate() == (0.5, 2)


def test_parallel_members_counted_not_the_group(registry) -> None:
    from graflow_metrics import MetricsPlugin
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    with workflow("par") as wf:

        @task
        def src() -> int:
            return 2

        @task
        def left(src: int) -> int:
            return src + 1

        @task
        def right(src: int) -> int:
            return src * 3

        @task
        def join(left: int, right: int) -> int:
            return left + right

        src >> (left | right) >> join

    assert wf.execute(plugins=[MetricsPlugin(registry=registry)]) == 9
    families = {
        f.name: f.samples
        for f in text_string_to_metric_families(generate_latest(registry).decode())
    }
    tasks = {s.labels["task"] for s in families["graflow_tasks"] if s.name == "graflow_tasks_total"}
    assert tasks == {"src", "left", "right", "join"}


def test_iterations_use_the_base_task_label_and_labels_are_capped(registry) -> None:
    from graflow_metrics import MetricsPlugin

    with workflow("loop") as wf:

        @task(inject_context=True, max_cycles=5)
        def refine(ctx) -> None:  # type: ignore[no-untyped-def]
            if ctx.cycle_count < 4:
                ctx.next_iteration()

    plugin = MetricsPlugin(registry=registry, max_task_labels=3)
    wf.execute(plugins=[plugin])
    assert (
        registry.get_sample_value(
            "graflow_tasks_total", {"workflow": "loop", "task": "refine", "status": "success"}
        )
        == 4
    )

    with workflow("many") as wf:
        tasks = [task(id=f"t{i}")(lambda: None) for i in range(5)]
        for a, b in itertools.pairwise(tasks):
            a >> b
    wf.execute(plugins=[plugin])

    def successes(task_label: str) -> float | None:
        labels = {"workflow": "many", "task": task_label, "status": "success"}
        return registry.get_sample_value("graflow_tasks_total", labels)

    assert (successes("t0"), successes("t1"), successes("t2")) == (1, 1, None)
    assert successes("_other") == 3


def test_same_registry_shares_metrics_and_rejects_other_buckets(registry) -> None:
    from graflow_metrics import MetricsPlugin

    from graflow_core.exceptions import ConfigError

    a = MetricsPlugin(registry=registry)
    b = MetricsPlugin(registry=registry)
    assert a.metrics is b.metrics
    with pytest.raises(ConfigError, match="other buckets"):
        MetricsPlugin(registry=registry, buckets=(1.0, 2.0))


def test_port_in_use_is_a_clear_config_error(served, registry) -> None:
    from graflow_metrics import MetricsServer

    from graflow_core.exceptions import ConfigError

    with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
        MetricsServer(registry, port=served.server.port).start()
    with pytest.raises(ConfigError, match="port must be"):
        MetricsServer(registry, port=-1)


def test_step_contexts_count_tasks_but_not_workflow_runs(registry) -> None:
    from graflow_metrics import MetricsPlugin

    with workflow("split") as wf:

        @task
        def step_task() -> int:
            return 1

    ctx = wf.create_execution_context()
    ctx.run_scope = "step"  # what graflow_core.steps sets for one orchestrator task
    ctx.use_plugins(MetricsPlugin(registry=registry))
    wf.create_engine().execute(ctx)
    labels = {"workflow": "split", "task": "step_task", "status": "success"}
    assert registry.get_sample_value("graflow_tasks_total", labels) == 1
    assert (
        registry.get_sample_value(
            "graflow_workflows_total", {"workflow": "split", "status": "success"}
        )
        is None
    )


def test_interrupted_run_leaves_no_running_task(registry) -> None:
    from graflow_metrics import MetricsPlugin

    with workflow("interrupted") as wf:

        @task
        def stop() -> None:
            raise KeyboardInterrupt

    plugin = MetricsPlugin(registry=registry)
    with pytest.raises(KeyboardInterrupt):
        wf.execute(plugins=[plugin])
    assert plugin.metrics.inflight == {}
    assert registry.get_sample_value("graflow_tasks_running", {"workflow": "interrupted"}) is None
    assert (
        registry.get_sample_value(
            "graflow_workflows_total", {"workflow": "interrupted", "status": "failure"}
        )
        == 1
    )


def test_openmetrics_when_prometheus_asks_for_it(served) -> None:
    import urllib.request

    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om

    with workflow("om") as wf:

        @task
        def only() -> int:
            return 1

    wf.execute(plugins=[served])
    request = urllib.request.Request(
        f"{served.server.url}/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0; charset=utf-8"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = response.read().decode()
    assert text.rstrip().endswith("# EOF")
    totals = {
        (s.labels["task"], s.labels["status"]): s.value
        for family in parse_om(text)
        for s in family.samples
        if s.name == "graflow_tasks_total"
    }
    assert totals[("only", "success")] == 1


def test_parallel_members_running_at_once_are_both_counted(served) -> None:
    probe = ScrapeDuring(served.server.url, parties=2)

    with workflow("fanout") as wf:

        @task
        def src() -> int:
            return 1

        @task
        def left(src: int) -> int:
            probe.arrive()
            return src

        @task
        def right(src: int) -> int:
            probe.arrive()
            return src

        @task
        def join(left: int, right: int) -> int:
            return left + right

        group = (left | right).with_execution(
            backend="threading", backend_config={"thread_count": 2}
        )
        src >> group >> join

    assert wf.execute(plugins=[served]) == 2
    families = probe.join()
    assert sample(families, "graflow_tasks_running", workflow="fanout") == 2
    assert sample(families, "graflow_workflows_running", workflow="fanout") == 1
