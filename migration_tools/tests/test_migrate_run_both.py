"""Migrate, run both, compare: every example runs as the original (Prefect on a real local
server through ``prefect_server``, Airflow through ``dag.test()`` in ``airflow_env``) and as
the migrated graflow workflow natively; the results must be the same.

The migrated code is the checked-in golden file (test_migrate_golden.py keeps it equal to the
converter's output), imported fresh for every run.
"""

from __future__ import annotations

from typing import Any

import pytest
from migrate_test_helpers import golden_path, load_module, source_path

#: (example, flow function, parameter sets): one real Prefect run per parameter set.
PREFECT_RUNS: list[tuple[str, str, list[dict[str, Any]]]] = [
    ("etl_retries", "orders_etl", [{}]),
    ("fanout_map", "score_corpus", [{}, {"corpus": "empty"}]),
    ("nested_subflows", "nightly", [{"region": "us", "title": "US"}]),
    ("parameters", "pricing", [{"sku": "pear", "quantity": 2, "currency": "USD"}]),
    ("conditional", "validate_and_publish", [{}, {"batch_id": 98}]),
    ("submit_wait_for", "inventory_sync", [{"threshold": 100}]),
]


def _pairs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, flow, params) for name, flow, sets in PREFECT_RUNS for params in sets]


@pytest.mark.parametrize(
    ("name", "flow", "params"),
    _pairs(),
    ids=[f"{n}-{i}" for n, _, sets in PREFECT_RUNS for i, _ in enumerate(sets)],
)
def test_prefect_example_gives_the_same_result(
    prefect_server: Any, name: str, flow: str, params: dict[str, Any]
) -> None:
    original = load_module(source_path("prefect", name), f"migrate_original_{name}")
    migrated = load_module(golden_path("prefect", name), f"migrate_graflow_{name}")
    expected = prefect_server.run(getattr(original, flow), **params)
    assert expected.state.is_completed()
    got = getattr(migrated, flow)(**params)
    assert got == expected.result
    assert got is not None


def test_prefect_retries_happen_in_both(prefect_server: Any) -> None:
    """etl_retries' extract fails once: both runs retry it and succeed."""
    original = load_module(source_path("prefect", "etl_retries"), "migrate_original_retry")
    migrated = load_module(golden_path("prefect", "etl_retries"), "migrate_graflow_retry")
    outcome = prefect_server.run(original.orders_etl)
    runs = {r.name.rsplit("-", 1)[0]: r for r in prefect_server.task_runs(outcome.flow_run_id)}
    assert runs["extract"].run_count == 2
    assert migrated.orders_etl() == outcome.result
    assert original._attempts["extract"] == migrated._attempts["extract"] == 2


def test_migrated_subflow_runs_alone() -> None:
    migrated = load_module(golden_path("prefect", "nested_subflows"), "migrate_graflow_sub")
    assert migrated.ingest("us") == [1, 7]
    assert migrated.build_report([1, 2], title="t") == "t: 1, 2"


AIRFLOW_RUNS = [
    ("taskflow_etl", "taskflow_etl", lambda module: module.taskflow_etl(), {}),
    ("classic_python_operator", "weather_report", lambda module: module.dag, {}),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "runner", "get_dag", "conf"), AIRFLOW_RUNS, ids=[r[0] for r in AIRFLOW_RUNS]
)
def test_airflow_example_gives_the_same_xcoms(
    airflow_env: Any, name: str, runner: str, get_dag: Any, conf: dict[str, Any]
) -> None:
    original = load_module(source_path("airflow", name), f"migrate_original_{name}")
    migrated = load_module(golden_path("airflow", name), f"migrate_graflow_{name}")
    result = airflow_env.run_dag(get_dag(original), conf=conf or None)
    assert result.succeeded, result.task_states
    got = getattr(migrated, runner)(**conf)
    assert {k: v for k, v in got.items() if v is not None} == result.xcoms
    assert set(got) == {t.split("[")[0] for t in result.task_states}
