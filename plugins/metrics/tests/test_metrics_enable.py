"""Metrics are active only when enabled: enable()/disable(), GRAFLOW_METRICS=1, never by
installation alone; ``import graflow_metrics`` stays cheap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from metrics_test_helpers import get_health, sample, scrape

from graflow_core import task, workflow

# a clean environment for subprocesses: no metrics switch, plugin autoload on
_OWN_ENV = ("GRAFLOW_METRICS", "GRAFLOW_DISABLE_PLUGIN")
PER_TASK_HOOKS = ("task_start", "task_end", "task_failure", "task_retry", "execute_task")


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GRAFLOW_METRICS", "GRAFLOW_DISABLE_PLUGIN"))
    }
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


def test_entry_point_object_has_no_hooks_unless_enabled() -> None:
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    plugin = manager.get_plugin("metrics")
    assert plugin is not None, "the graflow-metrics entry point is not loaded"
    assert type(plugin).__name__ == "InactiveMetricsPlugin"
    # No run hook; only graflow doctor's diagnose (called by `graflow doctor`, never by runs).
    assert [caller.name for caller in manager.get_hookcallers(plugin) or []] == ["diagnose"]


@pytest.mark.usefixtures("clean_health_checks")
def test_enable_and_disable_process_wide(registry) -> None:
    import graflow_metrics

    plugin = graflow_metrics.enable(port=0, registry=registry)
    try:
        assert graflow_metrics.enable() is plugin
        assert graflow_metrics.active_plugin() is plugin

        with workflow("global") as wf:

            @task
            def one() -> int:
                return 1

        wf.execute()  # no plugins=: the process-wide plugin records it
        families = scrape(plugin.server.url)
        assert sample(families, "graflow_tasks_total", workflow="global", status="success") == 1
        code, body = get_health(plugin.server.url)
        assert code == 200 and "failure_rate" in body["checks"]
        url = plugin.server.url
    finally:
        graflow_metrics.disable()
    assert graflow_metrics.active_plugin() is None
    assert not plugin.server.running
    with pytest.raises(OSError):
        scrape(url)
    wf.execute()
    assert (
        registry.get_sample_value(
            "graflow_tasks_total", {"workflow": "global", "task": "one", "status": "success"}
        )
        == 1
    )  # not recorded any more


def test_env_switches_the_entry_point_plugin_on() -> None:
    code = """
        import json, urllib.request
        from graflow_core import task, workflow
        from prometheus_client.parser import text_string_to_metric_families
        import graflow_metrics

        with workflow("from-env") as wf:
            @task
            def a() -> int:
                return 1

        wf.execute()
        plugin = graflow_metrics.active_plugin()
        text = urllib.request.urlopen(plugin.server.url + "/metrics").read().decode()
        total = [s.value for f in text_string_to_metric_families(text) for s in f.samples
                 if s.name == "graflow_tasks_total" and s.labels["workflow"] == "from-env"
                 and s.labels["status"] == "success"]
        health = json.loads(urllib.request.urlopen(plugin.server.url + "/health").read())
        print(json.dumps({"host": plugin.server.host, "total": total,
                          "checks": sorted(health["checks"])}))
    """
    done = _run_python(code, GRAFLOW_METRICS="1", GRAFLOW_METRICS_PORT="0")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"host": "127.0.0.1", "total": [1.0], "checks": ["failure_rate"]}

    bad = _run_python(
        "from graflow_core import task, workflow\n"
        "import warnings\n"
        "with workflow('w') as wf:\n"
        "    @task\n"
        "    def a(): return 1\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    wf.execute()\n"
        "print([str(x.message) for x in w])\n",
        GRAFLOW_METRICS="1",
        GRAFLOW_METRICS_PORT="not-a-port",
    )
    assert bad.returncode == 0, bad.stderr
    assert "GRAFLOW_METRICS_PORT='not-a-port' is not a port number" in bad.stdout


def test_env_plugin_records_without_a_server_when_the_port_is_taken() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _run_python(
            """
            import warnings
            warnings.simplefilter("always")
            from graflow_core import task, workflow
            import graflow_metrics

            with workflow("busy") as wf:
                @task
                def a() -> int:
                    return 1

            wf.execute()
            plugin = graflow_metrics.active_plugin()
            labels = {"workflow": "busy", "task": "a", "status": "success"}
            print(plugin.server, plugin.registry.get_sample_value("graflow_tasks_total", labels))
            """,
            GRAFLOW_METRICS="1",
            GRAFLOW_METRICS_PORT=str(port),
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "1.0"]
    assert "records metrics but serves none" in done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_import_is_cheap() -> None:
    done = _run_python(
        """
        import sys
        import graflow_metrics, graflow_metrics.plugin
        from graflow_metrics import register_health_check, JsonFormatter
        print(sorted(m for m in ("prometheus_client", "pluggy") if m in sys.modules))
        graflow_metrics.plugin.plugin
        print(sorted(m for m in ("prometheus_client",) if m in sys.modules))
        """
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split("\n")[:2]
    assert "prometheus_client" not in first
    assert second == "[]"  # the inactive entry point does not import it either


def test_enable_refuses_when_disabled_by_name() -> None:
    import graflow_metrics

    from graflow_core.exceptions import ConfigError
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    manager.disable("graflow-metrics")
    try:
        with pytest.raises(ConfigError, match="'graflow-metrics' is disabled"):
            graflow_metrics.enable()
    finally:
        manager.unblock("graflow-metrics")
    assert graflow_metrics.active_plugin() is None


def test_env_plugin_serves_from_the_first_run_not_at_load() -> None:
    """Loading the entry point (graflow doctor does) starts no server; the first run does."""
    done = _run_python(
        """
        import graflow_metrics.plugin
        from graflow_core import task, workflow

        plugin = graflow_metrics.plugin.plugin
        print(plugin.server)
        with workflow("first") as wf:
            @task
            def a() -> int:
                return 1

        wf.execute(plugins=[plugin])
        print(plugin.server.running)
        """,
        GRAFLOW_METRICS="1",
        GRAFLOW_METRICS_PORT="0",
        GRAFLOW_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "True"]
