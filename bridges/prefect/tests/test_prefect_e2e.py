"""End to end: a real `prefect server start`, a bridged flow served by `flow.serve()` in another
process (the file `graflow export --to prefect` writes), a run triggered through the API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from graflow_prefect.export import export_prefect_flow_file
from graflow_prefect.testing import prefect_environment, read_task_runs

from graflow_core.spec import build_spec
from graflow_core.testing.catalog import build_goto_branch

pytestmark = pytest.mark.slow

REFERENCE = "graflow_core.testing.catalog:build_goto_branch"
DEPLOYMENT = "catalog_goto_branch/e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait(check, what: str, timeout: float, logs: list[Path]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)
    raise AssertionError(f"{what} not ready after {timeout} s\n{tails}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        **prefect_environment(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    bin_dir = Path(sys.executable).parent
    server = _start(
        [str(bin_dir / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env,
        server_log,
    )
    procs = [server]
    try:

        def healthy() -> bool:
            if server.poll() is not None:
                raise AssertionError(server_log.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
                    return bool(resp.status == 200)
            except OSError:
                return False

        _wait(healthy, "prefect server", 150, [server_log])
        (flow_file,) = export_prefect_flow_file(
            build_spec(build_goto_branch()), REFERENCE, tmp_path / "flows", deployment="e2e"
        )
        serve = _start([sys.executable, str(flow_file)], env, serve_log)
        procs.append(serve)
        yield api_url, env
    finally:
        for proc in reversed(procs):
            _stop(proc)


def test_served_bridged_flow_runs_through_the_api(served, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    api_url, _env = served
    logs = [tmp_path / "serve.log", tmp_path / "server.log"]
    with temporary_settings(updates={PREFECT_API_URL: api_url}):

        def deployed() -> bool:
            with get_client(sync_client=True) as client:
                try:
                    client.read_deployment_by_name(DEPLOYMENT)
                except Exception:
                    return False
                return True

        _wait(deployed, f"deployment {DEPLOYMENT}", 90, logs)
        flow_run = run_deployment(DEPLOYMENT, parameters={"amount": 250}, timeout=120)
        assert flow_run.state is not None
        assert flow_run.state.is_completed(), (flow_run.state, logs[0].read_text()[-3000:])
        assert flow_run.parameters == {"amount": 250}
        runs = read_task_runs(flow_run.id, expected=3, timeout=60)
    # the graflow ids are the task run names; goto took the 'approve' branch
    assert [(r.name, r.state_name) for r in runs] == [
        ("decide", "Completed"),
        ("approve", "Completed"),
        ("notify", "Completed"),
    ]
    approve = runs[1]
    assert approve.upstream.get("upstream") == [runs[0].id]
