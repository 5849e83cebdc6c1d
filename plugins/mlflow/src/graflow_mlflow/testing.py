"""pytest fixtures for MLflow tracking in tests (loaded through ``pytest11``).

``mlflow_tracking`` gives each test a fresh experiment in a temporary SQLite tracking store that
is created once per test session (creating the database costs ~3 s)::

    def test_tracked(mlflow_tracking):
        wf.execute(plugins=[mlflow_tracking.tracking()])
        (parent,) = mlflow_tracking.parent_runs()
        children = mlflow_tracking.child_runs(parent.info.run_id)

``mlflow_server`` starts a real ``mlflow server`` on 127.0.0.1 (a free port, a temporary SQLite
backend store and artifact destination) once per session and stops it at the end; it yields an
:class:`MlflowServer` with the URL and a client. Start-up takes 10 to 60 s (mark tests ``slow``).

While the session store exists, ``MLFLOW_TRACKING_URI``, ``MLFLOW_DISABLE_TELEMETRY=true`` and
``GRAFLOW_MLFLOW_ARTIFACT_LOCATION`` point at it (restored at the end of the session); during a
test ``MLFLOW_EXPERIMENT_NAME`` names the test's experiment, so code that uses MLflow's defaults
— and subprocesses the test starts — log there too. MLflow is imported only when a test uses the
fixture.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_counter = itertools.count(1)


@dataclass
class MlflowStore:
    """The session's temporary tracking store."""

    uri: str
    root: Path
    artifact_root: Path
    client: Any


@dataclass
class MlflowTrackingFixture:
    """What ``mlflow_tracking`` returns: the store, a client, and this test's experiment."""

    uri: str
    client: Any
    artifact_root: Path
    experiment: str
    experiment_id: str

    def tracking(self, **options: Any) -> Any:
        """An :class:`~graflow_mlflow.MlflowTracking` logging into this test's experiment."""
        from graflow_mlflow.tracking import MlflowTracking

        return MlflowTracking(self.uri, self.experiment, **options)

    def runs(self, filter_string: str = "") -> list[Any]:
        """Every run of the test's experiment (oldest first)."""
        return list(
            self.client.search_runs(
                [self.experiment_id],
                filter_string,
                max_results=5000,
                order_by=["attributes.start_time ASC"],
            )
        )

    def parent_runs(self) -> list[Any]:
        """The workflow-level runs (those without ``mlflow.parentRunId``)."""
        return [r for r in self.runs() if "mlflow.parentRunId" not in r.data.tags]

    def child_runs(self, parent_run_id: str) -> list[Any]:
        """The task runs of ``parent_run_id``."""
        return self.runs(f"tags.`mlflow.parentRunId` = '{parent_run_id}'")

    def children_by_task(self, parent_run_id: str) -> dict[str, Any]:
        """The task runs of ``parent_run_id`` by their ``graflow.task_key`` tag."""
        return {r.data.tags["graflow.task_key"]: r for r in self.child_runs(parent_run_id)}


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowStore]:
    """A temporary SQLite tracking store for the session (environment set while it exists)."""
    root = tmp_path_factory.mktemp("graflow-mlflow")
    artifact_root = root / "artifacts"
    artifact_root.mkdir()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    env = {
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "GRAFLOW_MLFLOW_ARTIFACT_LOCATION": str(artifact_root),
    }
    with pytest.MonkeyPatch.context() as patch:  # restores the environment afterwards
        for name, value in env.items():
            patch.setenv(name, value)
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)  # creates the database once
        yield MlflowStore(uri=uri, root=root, artifact_root=artifact_root, client=client)


@pytest.fixture
def mlflow_tracking(
    mlflow_store: MlflowStore, request: pytest.FixtureRequest
) -> Iterator[MlflowTrackingFixture]:
    """A fresh experiment in the session's tracking store, named after the test."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:180]
    experiment = f"{name}-{next(_counter)}-{os.getpid()}"
    artifacts = mlflow_store.artifact_root / experiment
    experiment_id = mlflow_store.client.create_experiment(
        experiment, artifact_location=artifacts.as_uri()
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_EXPERIMENT_NAME", experiment)
        yield MlflowTrackingFixture(
            uri=mlflow_store.uri,
            client=mlflow_store.client,
            artifact_root=artifacts,
            experiment=experiment,
            experiment_id=experiment_id,
        )


@dataclass
class MlflowServer:
    """A running ``mlflow server`` (see :func:`mlflow_server`)."""

    url: str
    root: Path
    client: Any
    process: subprocess.Popen[bytes]

    def experiment(self, name: str) -> MlflowTrackingFixture:
        """A fresh experiment on this server, with the helpers of ``mlflow_tracking``."""
        experiment_id = self.client.create_experiment(name)
        return MlflowTrackingFixture(
            uri=self.url,
            client=self.client,
            artifact_root=self.root / "artifacts",
            experiment=name,
            experiment_id=experiment_id,
        )


#: Seconds to wait for ``mlflow server`` to answer ``/health``.
SERVER_STARTUP_TIMEOUT = 180.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` on 127.0.0.1 for the session (SQLite backend, served artifacts)."""
    import urllib.request

    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed at the end of the session
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--workers",
            "1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"mlflow server exited with {process.returncode}: "
                    + (root / "server.log").read_text(errors="replace")[-3000:]
                )
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not answer on {url} within the timeout")
            time.sleep(0.5)
        saved = os.environ.get("MLFLOW_DISABLE_TELEMETRY")
        os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
        from mlflow import MlflowClient

        try:
            yield MlflowServer(url=url, root=root, client=MlflowClient(url), process=process)
        finally:
            if saved is None:
                os.environ.pop("MLFLOW_DISABLE_TELEMETRY", None)
            else:
                os.environ["MLFLOW_DISABLE_TELEMETRY"] = saved
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
