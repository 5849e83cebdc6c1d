"""Regression tests of review findings on ``run_on("airflow", ...)`` (one per finding)."""

from __future__ import annotations

import pytest

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


def test_run_params_that_are_not_json_are_a_config_error_naming_the_key(airflow_env):
    import datetime

    from graflow_core.exceptions import ConfigError
    from graflow_core.testing.catalog import get_example

    example = get_example("linear")
    with pytest.raises(ConfigError, match="'n'"):
        run_on("airflow", example.build, {"n": datetime.date(2020, 1, 1)})
    assert run_on("airflow", example.build, example.run_params(), quiet=True).ok


def test_a_run_that_fails_in_the_database_leaves_later_runs_working(airflow_env):
    import datetime

    from airflow.sdk import DAG, task

    from graflow_core.testing.catalog import get_example

    with DAG("review_conf_not_storable", schedule=None) as dag:
        task(task_id="noop")(_noop)()
    with pytest.raises(Exception, match="JSON serializable"):  # Airflow cannot store the conf
        airflow_env.run_dag(dag, conf={"n": datetime.date(2020, 1, 1)})
    example = get_example("linear")
    run = run_on("airflow", example.build, example.run_params(), quiet=True)
    assert run.ok, run.error  # was PendingRollbackError: the shared session stayed broken
    assert airflow_env.run_dag(dag).succeeded


def _noop() -> None:
    return None


def _copy_of_the_session_database(airflow_env, path, sql: str) -> str:
    import sqlite3

    source = sqlite3.connect(airflow_env.db_path)
    target = sqlite3.connect(path)
    try:
        source.backup(target)
        target.execute(sql)
        target.commit()
    finally:
        source.close()
        target.close()
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE alembic_version SET version_num = 'a0a0a0a0a0a0'", "DROP TABLE alembic_version"],
    ids=["another_revision", "no_revision"],
)
def test_a_database_with_airflow_tables_is_never_migrated(airflow_env, tmp_path, sql):
    import sqlite3

    from graflow_airflow import local
    from graflow_airflow.doctor import diagnose

    path = tmp_path / "older_airflow.db"
    url = _copy_of_the_session_database(airflow_env, path, sql)
    before = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", url)
            with pytest.raises(local.AirflowSetupError, match="airflow db migrate") as raised:
                local.prepare_airflow()
            assert "does not migrate" in str(raised.value)
            schema = {c.name: c for c in diagnose()}["database schema"]
    finally:
        local.prepare_airflow()  # Airflow's ORM back on the session's database
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == before
        if sql.startswith("UPDATE"):
            assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
                ("a0a0a0a0a0a0",)
            ]
            assert schema.status == "fail"
        assert "airflow db migrate" in schema.fix
        assert "migrates it" not in schema.fix
    finally:
        connection.close()


_called: list[str] = []


def _user_callback(context) -> None:
    _called.append(str(context["ti"].task_id))


def test_an_on_failure_callback_in_default_args_still_runs(airflow_env):
    from graflow_core.testing.catalog import get_example

    example = get_example("failing")
    _called.clear()
    run = run_on(
        "airflow",
        example.build,
        example.run_params(),
        quiet=True,
        default_args={"on_failure_callback": _user_callback},
    )
    assert isinstance(run.error, example.error)  # graflow's callback ran too
    assert "explode" in _called


def test_a_quiet_run_that_raises_keeps_the_captured_output_on_the_exception(
    airflow_env, monkeypatch
):
    import os

    from graflow_airflow import local

    from graflow_core.testing.catalog import get_example

    def read_run_fails(dag_id: str, run_id: str):
        os.write(1, b"printed before the failure\n")
        raise RuntimeError("reading the run failed")

    monkeypatch.setattr(local, "read_run", read_run_fails)
    example = get_example("linear")
    with pytest.raises(RuntimeError, match="reading the run failed") as raised:
        run_on("airflow", example.build, example.run_params(), quiet=True)
    note = "\n".join(getattr(raised.value, "__notes__", []))
    assert "printed before the failure" in note
    assert "quiet=True" in note


def test_the_fallback_error_is_the_first_failed_task_in_plan_order(airflow_env):
    from airflow_operator_workflows import mark
    from graflow_airflow.local import AirflowRunResult, _error, _Failures
    from graflow_airflow.render import to_airflow_dag

    from graflow_core import workflow
    from graflow_core.spec import build_spec
    from graflow_core.steps import UpstreamFailed, plan_steps

    with workflow("fallback_order") as wf:
        mark(task_id="first") >> mark(task_id="second") >> mark(task_id="third")
    dag = to_airflow_dag(wf)
    plan = plan_steps(build_spec(wf))
    # tasks that failed because their upstream could not run (run_plan's upstream_failed),
    # listed by the database in another order than the plan's
    run = AirflowRunResult(
        "fallback_order",
        "r",
        "failed",
        task_states={"third": "failed", "second": "failed", "first": "success"},
    )
    failures = _Failures()
    for task_id in ("third", "second"):
        error = RuntimeError(f"{task_id} could not run")
        error.__cause__ = UpstreamFailed("upstream")
        failures.errors[task_id] = error
    assert str(_error(run, dag, plan, failures)) == "second could not run"


def test_setup_errors_and_doctor_point_to_what_works_without_pytest(airflow_env):
    from graflow_airflow import doctor, local

    message = str(local._setup_error("sqlite:////nowhere/airflow.db", "is missing"))
    assert "local_environment(" in message
    assert "testing" not in message
    installed = {c.name: c for c in doctor.diagnose()}["installed"]
    assert installed.status == "ok"
    from airflow import __version__

    assert __version__ not in installed.detail  # the core's integration row shows it
    assert doctor._home().detail.startswith(str(local.airflow_home()))
