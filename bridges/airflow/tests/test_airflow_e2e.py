"""End to end with real Airflow processes: an API server, a scheduler (LocalExecutor) and a DAG
processor on 127.0.0.1 with a temporary AIRFLOW_HOME and SQLite. Exported DAG files go into the
DAGs folder; runs are triggered through Airflow's REST API and polled to the end; the XComs,
task states (skips) and try numbers (a real retry) are checked. The processes are always stopped.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

#: Give up after this many seconds (start-up ~20 s, each run ~10 s on 2 cores).
DEADLINE = 240

FLOWS = '''
"""Workflows exported by the end-to-end test (builders from graflow's example catalogue)."""

from graflow_core.testing.catalog import build_goto_branch, build_nested_groups, build_retry
'''

EXPORTS = {
    # dag_id: (builder, conf)
    "e2e_nested_groups": ("build_nested_groups", {}),
    "e2e_goto_branch": ("build_goto_branch", {"amount": 10}),
    "e2e_retry": ("build_retry", {}),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AirflowCluster:
    """Airflow's own processes on 127.0.0.1, talked to through the REST API."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.dags = home / "dags"
        self.port = _free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.token: str | None = None
        base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",  # works with SQLite in Airflow 3
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": "graflow-e2e-secret",
            "AIRFLOW__API_AUTH__JWT_SECRET": "graflow-e2e-jwt-secret-0123456789abcdef",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "GRAFLOW_STEP_STORE": str(home / "graflow-values"),
        }
        self.base = base

    # -- processes -------------------------------------------------------------------------------
    def start(self) -> None:
        self.dags.mkdir(parents=True, exist_ok=True)
        airflow = str(Path(sys.executable).with_name("airflow"))
        subprocess.run(
            [airflow, "db", "migrate"], env=self.env, check=True, capture_output=True, timeout=180
        )
        commands = {
            "api-server": ["api-server", "--host", "127.0.0.1", "--port", str(self.port)],
            "scheduler": ["scheduler"],
            "dag-processor": ["dag-processor"],
        }
        for name, args in commands.items():
            log = (self.home / f"{name}.log").open("wb")
            self.procs[name] = subprocess.Popen(
                [airflow, *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends its children too
            )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def logs(self, lines: int = 40) -> str:
        out = []
        for name in self.procs:
            text = (self.home / f"{name}.log").read_text(errors="replace").splitlines()
            out.append(f"--- {name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise AssertionError(f"Airflow processes exited: {dead}\n{self.logs()}")

    # -- REST API --------------------------------------------------------------------------------
    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read() or b"null")

    def wait_until(self, what: str, probe: Any, deadline: float) -> Any:
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                found = probe()
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                found = None
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[AirflowCluster]:
    home = tmp_path_factory.mktemp("airflow-e2e")
    flows = home / "flows"
    flows.mkdir()
    (flows / "e2e_exported_flows.py").write_text(FLOWS)
    c = AirflowCluster(home)
    c.dags.mkdir()
    first, *others = EXPORTS.items()
    dag_id, (builder, _) = first  # through the CLI, as a user would
    target = f"flows/e2e_exported_flows.py:{builder}"
    args = ["export", target, "--to", "airflow", "-o", "dags", "--name", dag_id]
    proc = subprocess.run(
        [sys.executable, "-m", "graflow_core", *args],
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    from graflow_airflow.dagfile import export_dag_file

    from graflow_core.spec import build_spec
    from graflow_core.testing import catalog

    for dag_id, (builder, _) in others:  # through the Python API (saves a process each)
        spec = build_spec(getattr(catalog, builder)())
        export_dag_file(spec, f"{catalog.__name__}:{builder}", c.dags, name=dag_id)
    try:
        c.start()
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def finished_runs(cluster: AirflowCluster, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Trigger every exported DAG through the REST API and wait for all runs to finish."""
    deadline = time.monotonic() + DEADLINE

    def token() -> str | None:
        return cluster.api("/auth/token").get("access_token")

    cluster.token = cluster.wait_until("the API server", token, deadline)

    def parsed() -> bool:
        errors = cluster.api("/api/v2/importErrors").get("import_errors", [])
        if errors:
            raise AssertionError(f"DAG import errors: {errors}")
        ids = {d["dag_id"] for d in cluster.api("/api/v2/dags?limit=100")["dags"]}
        return set(EXPORTS) <= ids

    cluster.wait_until("the DAG processor to parse the exported DAG files", parsed, deadline)
    scratch = tmp_path_factory.mktemp("e2e-scratch")
    runs = {}
    for dag_id, (_, conf) in EXPORTS.items():
        body = {"logical_date": None, "conf": {**conf, "scratch_dir": str(scratch)}}
        run = cluster.api(f"/api/v2/dags/{dag_id}/dagRuns", "POST", body)
        runs[dag_id] = run["dag_run_id"]

    def all_done() -> bool:
        states = {d: cluster.api(f"/api/v2/dags/{d}/dagRuns/{r}")["state"] for d, r in runs.items()}
        return all(s in ("success", "failed") for s in states.values())

    cluster.wait_until("the DAG runs to finish", all_done, deadline)
    out: dict[str, dict[str, Any]] = {}
    for dag_id, run_id in runs.items():
        prefix = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"
        tis = cluster.api(f"{prefix}/taskInstances")["task_instances"]
        out[dag_id] = {
            "state": cluster.api(prefix)["state"],
            "tasks": {t["task_id"]: t["state"] for t in tis},
            "tries": {t["task_id"]: t["try_number"] for t in tis},
            "xcom": lambda task_id, p=prefix: cluster.api(
                f"{p}/taskInstances/{task_id}/xcomEntries/return_value?deserialize=true"
            )["value"],
        }
    return out


def test_groups_run_with_the_right_results(finished_runs, cluster):
    run = finished_runs["e2e_nested_groups"]
    assert run["state"] == "success", (run, cluster.logs())
    assert set(run["tasks"].values()) == {"success"}
    assert run["xcom"]("collect") == 431
    assert run["xcom"]("chain_tail") == 400


def test_branch_not_taken_is_skipped(finished_runs, cluster):
    run = finished_runs["e2e_goto_branch"]
    assert run["state"] == "success", (run, cluster.logs())
    assert run["tasks"] == {
        "decide": "success",
        "reject": "success",
        "approve": "skipped",
        "notify": "skipped",
    }
    assert run["xcom"]("decide") == "reject"
    assert run["xcom"]("reject") == "rejected 10"


def test_failing_task_succeeds_on_airflows_retry(finished_runs, cluster):
    run = finished_runs["e2e_retry"]
    assert run["state"] == "success", (run, cluster.logs())
    assert run["tries"] == {"flaky_fetch": 2, "after_flaky": 1}
    assert run["xcom"]("after_flaky") == "succeeded on attempt 2"
