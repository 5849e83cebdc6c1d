"""``graflow doctor`` for Airflow: every check ok in a working environment; a broken database
setting, DAGs folder or home fails with a fix; a local run against a broken database raises
AirflowSetupError naming the setting."""

from __future__ import annotations

import time

import pytest

from graflow_core.diagnostics import Check

NAMES = [
    "AIRFLOW_HOME",
    "installed",
    "metadata database",
    "database schema",
    "DAGs folder",
    "provider",
]


def _by_name(checks: list[Check]) -> dict[str, Check]:
    assert all(isinstance(c, Check) and c.area == "airflow" for c in checks)
    return {c.name: c for c in checks}


def test_diagnose_in_a_working_environment(airflow_env):
    from graflow_airflow.doctor import diagnose

    started = time.perf_counter()
    checks = _by_name(diagnose())
    assert time.perf_counter() - started < 10
    assert list(checks) == NAMES
    assert {c.status for c in checks.values()} == {"ok"}, checks
    assert str(airflow_env.home) in checks["AIRFLOW_HOME"].detail
    assert str(airflow_env.db_path) in checks["metadata database"].detail
    assert "migrated" in checks["database schema"].detail


def test_diagnose_reports_a_broken_environment(airflow_env, tmp_path, monkeypatch):
    from graflow_airflow.doctor import diagnose

    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    monkeypatch.setenv("AIRFLOW_HOME", str(a_file / "home"))
    monkeypatch.setenv(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{tmp_path}/missing/airflow.db"
    )
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(a_file / "dags"))
    checks = _by_name(diagnose())
    for name in ("AIRFLOW_HOME", "metadata database", "DAGs folder"):
        assert checks[name].status == "fail", checks[name]
        assert checks[name].fix, checks[name]
    assert "does not exist" in checks["metadata database"].detail
    assert "sql_alchemy_conn" in checks["metadata database"].fix
    assert "database schema" not in checks  # nothing to read
    assert checks["installed"].status == "ok"


def test_database_url_passwords_are_redacted(airflow_env, monkeypatch):
    from graflow_airflow.doctor import diagnose
    from graflow_airflow.local import redact_url

    assert redact_url("postgresql://user:s3cret@db:5432/airflow") == (
        "postgresql://user:***@db:5432/airflow"
    )
    assert redact_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    # a server that does not listen: reported unreachable, quickly, without the password
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "postgresql://u:s3cret@127.0.0.1:9/x")
    checks = _by_name(diagnose())
    assert checks["metadata database"].status == "fail"
    assert "s3cret" not in checks["metadata database"].detail
    assert "127.0.0.1:9" in checks["metadata database"].detail


def test_a_local_run_against_a_missing_database_directory_says_what_to_do(
    airflow_env, tmp_path, monkeypatch
):
    from graflow_airflow.local import AirflowSetupError

    from graflow_core.spec.target_run import run_on
    from graflow_core.testing.catalog import get_example

    monkeypatch.setenv(
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{tmp_path}/missing/airflow.db"
    )
    with pytest.raises(AirflowSetupError) as info:
        run_on("airflow", get_example("linear").build, {"n": 1})
    message = str(info.value)
    assert "sql_alchemy_conn" in message and "AIRFLOW_HOME" in message
    assert "does not exist" in message
