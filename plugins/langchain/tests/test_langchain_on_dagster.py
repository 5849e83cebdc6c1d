"""``langchain`` tasks defined by factories run on an orchestrator one native task each: the
Dagster bridge re-imports them by reference and the steps runtime feeds their inputs."""

from __future__ import annotations

import secrets

import pytest


@pytest.mark.slow
def test_langchain_workflow_runs_as_a_dagster_job(dagster_memory_instance, monkeypatch) -> None:
    import langchain_test_flows as flows
    from graflow_dagster import graflow_result, to_dagster_job

    monkeypatch.setenv("GRAFLOW_SECRET_KEY", secrets.token_hex(32))  # signed step payloads
    job = to_dagster_job(flows.wf)
    run = job.execute_in_process(instance=dagster_memory_instance)
    assert run.success
    outcome = graflow_result(run, job)
    assert outcome.result == "A CITY IN FRANCE"
    assert outcome.results == {
        "city": "Lyon",
        "describe": "a city in France",
        "shout": "A CITY IN FRANCE",
    }
