"""pytest fixtures for running graflow workflows on Prefect in tests (loaded through ``pytest11``).

The session fixture :func:`prefect_server` gives every test of a session one temporary Prefect API
server (``prefect_test_harness``) with its own ``PREFECT_HOME``, memo store, analytics off and
logging to the API off. Starting the server costs 10-30 s, so it is started once per session and
only when a test asks for the fixture. Each flow run then costs about a second.

Use it in a test::

    def test_my_flow(prefect_server):
        run = prefect_server.run(my_flow, x=1)            # result, flow_run_id, state
        runs = prefect_server.task_runs(run.flow_run_id)  # task runs read back through the API
        assert {r.name: r.state_name for r in runs} == {"a": "Completed", "b": "Completed"}

Importing this module does not import Prefect: pytest loads it in every session of an environment
where graflow-prefect is installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from graflow_prefect.local import (
    EPHEMERAL_STARTUP_TIMEOUT,
    TaskRunInfo,
    local_environment,
    read_task_runs,
)

__all__ = [
    "FlowRunOutcome",
    "PrefectServer",
    "TaskRunInfo",
    "prefect_environment",
    "prefect_server",
    "read_task_runs",
]

#: Server start-up on a 2-core machine takes 17-28 s; Prefect's default (20-30 s) is too tight.
STARTUP_TIMEOUT_SECONDS = EPHEMERAL_STARTUP_TIMEOUT

#: The environment variables that keep a Prefect test run inside a home directory (the same as
#: a local run's: :func:`graflow_prefect.local.local_environment`).
prefect_environment = local_environment


@dataclass(frozen=True)
class FlowRunOutcome:
    """The result of :meth:`PrefectServer.run`: the flow's return value, run id and final state."""

    result: Any
    flow_run_id: str
    state: Any


@dataclass
class PrefectServer:
    """What :func:`prefect_server` yields: the API URL, the temp home and read-back helpers."""

    api_url: str
    home: Path
    environment: Mapping[str, str]

    def run(self, flow: Any, /, **params: Any) -> FlowRunOutcome:
        """Run ``flow(**params)`` against this server; returns result, flow run id and state.

        The flow's exception (if it fails) propagates like a plain call.
        """
        state = flow(**params, return_state=True)
        flow_run_id = str(state.state_details.flow_run_id)
        return FlowRunOutcome(result=state.result(), flow_run_id=flow_run_id, state=state)

    def task_runs(
        self, flow_run_id: Any, *, expected: int | None = None, timeout: float = 30.0
    ) -> list[TaskRunInfo]:
        """The task runs of ``flow_run_id`` (see :func:`read_task_runs`)."""
        return read_task_runs(flow_run_id, expected=expected, timeout=timeout)

    def flow_run(self, flow_run_id: Any) -> Any:
        """The flow run as the API reports it (``prefect.client.schemas.objects.FlowRun``)."""
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return client.read_flow_run(flow_run_id)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One temporary Prefect API server for the whole test session (``prefect_test_harness``).

    Sets a temporary ``PREFECT_HOME`` (and memo store, local storage), turns analytics and
    logging to the API off, starts the server with a 120 s start-up timeout, and restores the
    environment at the end of the session.
    """
    home = tmp_path_factory.mktemp("prefect_home")
    env = prefect_environment(home)
    with pytest.MonkeyPatch.context() as patch:  # restores the environment afterwards
        for key, value in env.items():
            patch.setenv(key, value)
        # Prefect reads its settings from the environment when it is first imported; if it was
        # imported earlier in the session, temporary_settings applies the same values.
        import prefect.settings as ps
        from prefect.testing.utilities import prefect_test_harness

        updates = {
            ps.PREFECT_HOME: env["PREFECT_HOME"],
            ps.PREFECT_MEMO_STORE_PATH: env["PREFECT_MEMO_STORE_PATH"],
            ps.PREFECT_LOCAL_STORAGE_PATH: env["PREFECT_LOCAL_STORAGE_PATH"],
            ps.PREFECT_SERVER_ANALYTICS_ENABLED: False,
            ps.PREFECT_LOGGING_TO_API_ENABLED: False,
        }
        with (
            ps.temporary_settings(updates=updates),
            prefect_test_harness(server_startup_timeout=STARTUP_TIMEOUT_SECONDS),
        ):
            api_url = str(ps.PREFECT_API_URL.value())
            yield PrefectServer(api_url=api_url, home=home, environment=dict(env))
