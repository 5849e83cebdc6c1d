"""graflow-mlflow's ``graflow doctor`` checks (no MLflow import, no network but 127.0.0.1)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from graflow_mlflow.doctor import diagnose

from graflow_core.diagnostics import Check


def store(monkeypatch: pytest.MonkeyPatch, uri: str) -> Check:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    (check,) = [c for c in diagnose() if c.name == "tracking store"]
    return check


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_local_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    assert store(monkeypatch, f"sqlite:///{tmp_path}/mlflow.db").status == "ok"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = store(monkeypatch, f"sqlite:///{blocker}/sub/mlflow.db")
    assert bad.status == "fail" and "not a directory" in bad.detail
    assert "MLFLOW_TRACKING_URI" in bad.fix
    file_store = store(monkeypatch, f"file://{tmp_path}/mlruns")
    assert file_store.status == "warn" and "MLFLOW_ALLOW_FILE_STORE" in file_store.fix
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    assert store(monkeypatch, str(tmp_path / "mlruns")).status == "ok"


def test_tracking_servers(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store(monkeypatch, server).status == "ok"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])
    down = store(monkeypatch, f"http://127.0.0.1:{closed}")
    assert down.status == "fail" and f"127.0.0.1:{closed}/health does not answer" in down.detail
    assert "mlflow server" in down.fix


def test_tracking_switch_and_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/m.db")
    monkeypatch.delenv("GRAFLOW_MLFLOW", raising=False)
    # the session's mlflow_store fixture (when another test used it) sets an artifact root
    monkeypatch.delenv("GRAFLOW_MLFLOW_ARTIFACT_LOCATION", raising=False)
    assert {c.name: c.status for c in diagnose()} == {"tracking": "info", "tracking store": "ok"}
    monkeypatch.setenv("GRAFLOW_MLFLOW", "1")
    (tmp_path / "f").write_text("x")
    monkeypatch.setenv("GRAFLOW_MLFLOW_ARTIFACT_LOCATION", str(tmp_path / "f" / "artifacts"))
    found = {c.name: c.status for c in diagnose()}
    assert found == {"tracking": "ok", "tracking store": "ok", "artifact location": "fail"}


def test_both_entry_point_objects_implement_the_hook() -> None:
    from graflow_mlflow.plugin import MlflowPlugin
    from graflow_mlflow.tracking import EnvMlflowTracking

    assert MlflowPlugin().diagnose() == diagnose()
    assert hasattr(EnvMlflowTracking.diagnose, "graflow_impl")  # pluggy's hookimpl marker
