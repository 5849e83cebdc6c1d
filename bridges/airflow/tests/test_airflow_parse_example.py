"""The worked example of docs/airflow-migration.md: same results on Airflow and converted."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "airflow_migration"


def _load_example(name: str = "orders_dag"):
    spec = importlib.util.spec_from_file_location(
        f"airflow_migration_{name}", EXAMPLES / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("n", [4, 2])
def test_worked_example_gives_the_same_results_on_airflow_and_converted(airflow_env, n):
    from graflow_airflow import from_airflow_dag
    from graflow_airflow.parse import SKIPPED_KEY, airflow_results

    dag = _load_example().dag
    native = airflow_env.run_dag(dag, conf={"n": n})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the example converts exactly: no warning
        wf = from_airflow_dag(dag)
    assert str(wf.airflow_report) == "conversion of DAG 'orders': exact"
    result, ctx = wf.execute(ret_context=True, initial_channel={"n": n})
    assert native.succeeded, native.task_states
    assert airflow_results(ctx) == native.xcoms
    skipped = set(ctx.channel.get(SKIPPED_KEY, ()) or ())
    assert skipped == {t for t, s in native.task_states.items() if s == "skipped"}
    expected = "sent: big batch: 480.00" if n == 4 else "sent: small batch of 2"
    assert result == native.xcoms["notify"] == expected
    assert wf.graph.get_node("fetch_orders").retry_policy.max_retries == 3

    # the hand port (orders_graflow.py) ends with the same message
    port = _load_example("orders_graflow").build()
    assert port.execute(initial_channel={"n": n}) == expected
