"""Every catalogue workflow (graflow_core.testing.catalog) under GraflowOperator gives the same
result, task results and channel as a native run.

All examples run as parallel GraflowOperator tasks of ONE DAG run (one ``dag.test()``).
"""

from __future__ import annotations

import re

import pytest

from graflow_core.testing.catalog import EXAMPLES, RESULT_SUFFIX, check_outcome, run_native

RUN_ID = "catalog-run"
#: Dynamic tasks get ids with a random suffix (``countdown_cycle_1_8af687d3``); compare without.
_RANDOM_SUFFIX = re.compile(r"_[0-9a-f]{8}(?=\.__result__$)")


def _comparable(channel: dict) -> dict:
    return {_RANDOM_SUFFIX.sub("", k): v for k, v in channel.items() if k != "scratch_dir"}


@pytest.fixture(scope="module")
def catalog_run(airflow_env, tmp_path_factory):
    from airflow.sdk import DAG
    from graflow_airflow import GraflowOperator

    scratch = tmp_path_factory.mktemp("catalog-scratch")
    with DAG("graflow_operator_catalog", schedule=None) as dag:
        for example in EXAMPLES:
            GraflowOperator(
                task_id=example.name,
                workflow=example.reference,
                op_kwargs=example.run_params(scratch),
            )
    return airflow_env.run_dag(dag, run_id=RUN_ID), str(scratch)


def _channel_from_xcoms(result, task_id: str) -> dict:
    """The final channel as the operator pushed it: channel XCom + one XCom per task result."""
    from graflow_airflow.operator import CHANNEL_KEY, RESULT_KEY_PREFIX

    channel = dict(result.xcom(task_id, CHANNEL_KEY))
    for (tid, key, _), value in result.all_xcoms.items():
        if tid == task_id and key.startswith(RESULT_KEY_PREFIX):
            channel[key[len(RESULT_KEY_PREFIX) :] + RESULT_SUFFIX] = value
    return channel


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_catalogue_workflow_under_graflow_operator_matches_native(example, catalog_run):
    result, scratch = catalog_run
    if example.error is not None:
        assert result.task_states[example.name] == "failed"
        with pytest.raises(example.error):
            run_native(example, scratch_dir=scratch)
        return
    assert result.task_states[example.name] == "success"
    value = result.xcoms[example.name]
    channel = _channel_from_xcoms(result, example.name)
    check_outcome(example, value, channel)
    native_value, native_channel = run_native(example, scratch_dir=scratch)
    assert value == native_value
    assert _comparable(channel) == _comparable(native_channel)
