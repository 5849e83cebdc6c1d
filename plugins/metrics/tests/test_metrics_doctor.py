"""graflow-metrics' ``graflow doctor`` checks: the port, the Pushgateway, the directory."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from graflow_metrics.doctor import diagnose


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GRAFLOW_METRICS",
        "GRAFLOW_METRICS_PORT",
        "GRAFLOW_METRICS_HOST",
        "GRAFLOW_METRICS_PUSHGATEWAY",
        "GRAFLOW_METRICS_CHECKPOINT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)


def port_check(monkeypatch: pytest.MonkeyPatch, value: str) -> tuple[str, str]:
    monkeypatch.setenv("GRAFLOW_METRICS_PORT", value)
    (check,) = [c for c in diagnose() if c.name == "port"]
    return check.status, check.detail


def test_port(monkeypatch: pytest.MonkeyPatch) -> None:
    assert port_check(monkeypatch, "0") == ("ok", "127.0.0.1:0 free")
    assert port_check(monkeypatch, "nine")[0] == "fail"
    assert port_check(monkeypatch, "99999")[0] == "fail"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = str(sock.getsockname()[1])
        status, detail = port_check(monkeypatch, taken)
        assert status == "warn" and f"cannot listen on 127.0.0.1:{taken}" in detail
        monkeypatch.setenv("GRAFLOW_METRICS", "1")  # on, and nothing served: a failure
        assert port_check(monkeypatch, taken)[0] == "fail"


def test_served_by_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import graflow_metrics

    plugin = graflow_metrics.enable(port=0)
    try:
        monkeypatch.setenv("GRAFLOW_METRICS", "1")
        status, detail = port_check(monkeypatch, str(plugin.server.port))
        assert status == "ok" and detail == f"serving {plugin.server.url}/metrics and /health"
    finally:
        graflow_metrics.disable()


def test_pushgateway_and_checkpoint_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("GRAFLOW_METRICS_PUSHGATEWAY", f"127.0.0.1:{closed}")
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("GRAFLOW_METRICS_CHECKPOINT_DIR", str(tmp_path / "f" / "ck"))
    found = {c.name: c.status for c in diagnose()}
    assert found == {
        "enabled": "info",
        "port": found["port"],
        "pushgateway": "warn",
        "checkpoint dir": "fail",
    }


def test_entry_point_objects_implement_the_hook() -> None:
    from graflow_metrics.exporter import MetricsPlugin
    from graflow_metrics.plugin import InactiveMetricsPlugin

    assert [c.name for c in InactiveMetricsPlugin().diagnose()][:2] == ["enabled", "port"]
    assert hasattr(MetricsPlugin.diagnose, "graflow_impl")  # pluggy's hookimpl marker
