"""Regression tests of review findings on ``run_on("airflow", ...)`` (one per finding)."""

from __future__ import annotations

from graflow_core.spec.target_run import run_native, run_on


def test_a_goto_skips_a_join_behind_the_branch_taken_as_the_step_plan_does(airflow_env):
    # plan {'picks': [1, None, None, None, None], 'preds': [[0], [0], [0], [0, 2]]}: Airflow's
    # branch skip leaves n4 alone (it is downstream of the chosen n2), the step plan skips it
    from airflow_operator_workflows import build_goto_past_a_join

    native = run_native(build_goto_past_a_join, {})
    run = run_on("airflow", build_goto_past_a_join, {}, quiet=True)
    assert native.result == run.result == "n2"
    assert run.states == {
        "n0": "success",
        "n1": "skipped",
        "n2": "success",
        "n3": "skipped",
        "n4": "skipped",
    }
    assert run.channel == native.channel
    assert run.native_tasks == native.native_tasks == 2
