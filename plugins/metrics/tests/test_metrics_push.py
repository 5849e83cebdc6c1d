"""Batch processes push their metrics to a Pushgateway when a run ends (prometheus_client's
real push client against an HTTP endpoint speaking the Pushgateway's push protocol)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client.parser import text_string_to_metric_families

from graflow_core import task, workflow


class _Receiver(BaseHTTPRequestHandler):
    pushes: list[tuple[str, str, str]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.pushes.append((self.command, self.path, self.rfile.read(length).decode()))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    pushes: list[tuple[str, str, str]] = []
    handler = type("Receiver", (_Receiver,), {"pushes": pushes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", pushes
    finally:
        server.shutdown()
        server.server_close()


def test_run_end_pushes_the_registry(registry, gateway) -> None:
    from graflow_metrics import MetricsPlugin

    address, pushes = gateway

    with workflow("nightly-batch") as wf:

        @task
        def work() -> int:
            return 1

    wf.execute(plugins=[MetricsPlugin(registry=registry, push_gateway=address, push_job="etl")])
    ((method, path, body),) = pushes
    assert (method, path) == ("PUT", "/metrics/job/etl/workflow/nightly-batch")
    samples = {
        (s.name, s.labels.get("task"), s.labels.get("status")): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert samples[("graflow_tasks_total", "work", "success")] == 1
    assert samples[("graflow_workflows_total", None, "success")] == 1


def test_a_failed_push_warns_and_the_run_succeeds(registry) -> None:
    import socket

    from graflow_metrics import MetricsPlugin

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again: nothing listens there

    with workflow("offline") as wf:

        @task
        def work() -> int:
            return 7

    plugin = MetricsPlugin(registry=registry, push_gateway=f"127.0.0.1:{port}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert wf.execute(plugins=[plugin]) == 7
    (warning,) = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert f"could not push to the Pushgateway 127.0.0.1:{port}" in str(warning.message)
