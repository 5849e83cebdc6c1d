"""The prefect_server fixture: a real temporary server, task runs read back through the client."""

from __future__ import annotations

import os

from prefect import flow, task


@task
def _double(x: int) -> int:
    return 2 * x


@task(name="add-one")
def _add_one(x: int) -> int:
    return x + 1


@flow
def _fixture_flow(x: int) -> int:
    return _add_one(_double(x))


def test_prefect_server_runs_flow_and_reads_task_runs(prefect_server) -> None:
    assert os.environ["PREFECT_HOME"] == str(prefect_server.home)
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert prefect_server.api_url.startswith("http://127.0.0.1:")
    # 1000 and up: Prefect links results to task runs by id(), never for small interned ints
    run = prefect_server.run(_fixture_flow, x=1000)
    assert run.result == 2001
    runs = prefect_server.task_runs(run.flow_run_id, expected=2)
    assert [r.state_name for r in runs] == ["Completed", "Completed"]
    assert [r.name.split("-")[0] for r in runs] == ["_double", "add"]
    double, add_one = runs
    assert add_one.upstream == {"x": [double.id]}
    assert prefect_server.flow_run(run.flow_run_id).state.is_completed()
