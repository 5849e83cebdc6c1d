"""``graflow doctor`` checks for Airflow: :func:`diagnose` (the ``airflow`` target's diagnose).

What it looks at, in order (each a :class:`~graflow_core.diagnostics.Check` of area
``"airflow"``):

* **AIRFLOW_HOME** — where it is (``$AIRFLOW_HOME``, else ``~/airflow``), whether it exists and
  files can be created in it (looked at before Airflow is imported: the import writes there);
* **installed** — Airflow imports (its version is shown only when it is older than the oldest
  supported, :data:`graflow_airflow._compat.MIN_AIRFLOW`: the core's integration row shows and
  compares the installed version);
* **metadata database** — the configured ``[database] sql_alchemy_conn`` (password redacted):
  a SQLite file's directory exists and is writable, a database server accepts a TCP connection
  within :data:`graflow_airflow.local.CONNECT_TIMEOUT` seconds;
* **database schema** — the database is at the revision this Airflow expects (``airflow db
  migrate`` has run). A database without a schema yet (a SQLite file that does not exist) is
  a warning: graflow's local run creates the schema there on first use; one at another
  revision fails: graflow's local run does not migrate it;
* **DAGs folder** — ``[core] dags_folder`` exists (or can be created) and is writable (exported
  DAG files go there);
* **provider** — Airflow's ``ProvidersManager`` lists ``graflow-airflow``.

Nothing here starts a server, runs a DAG or writes to the database; a SQLite database is
opened read-only.
"""

from __future__ import annotations

import os
from pathlib import Path

from graflow_core.diagnostics import Check, check_maker, install_fix, writable_problem

AREA = "airflow"
_DB_FIX = (
    "set [database] sql_alchemy_conn (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN) to a reachable "
    "database, e.g. sqlite:////an/absolute/writable/dir/airflow.db, then `airflow db migrate`"
)


_check = check_maker(AREA)


def diagnose() -> list[Check]:
    """Whether Airflow is installed and whether graflow can run workflows on it here."""
    checks = [_home(), _installed()]  # the home first: importing Airflow writes into it
    if checks[-1].failed:
        return checks
    try:
        from graflow_airflow.local import database_url

        url = database_url()
    except Exception as exc:
        checks.append(_check("metadata database", "fail", f"cannot read the setting: {exc}"))
        return checks
    checks.append(_database(url))
    if not checks[-1].failed:
        checks.append(_schema(url))
    checks.append(_dags_folder())
    checks.append(_provider())
    return checks


def _home() -> Check:
    from graflow_airflow.local import airflow_home

    raw = os.environ.get("AIRFLOW_HOME")
    home = airflow_home()
    where = f"{home}" + ("" if raw else " (AIRFLOW_HOME not set: Airflow's default)")
    problem = writable_problem(home)
    if problem is not None:
        return _check(
            "AIRFLOW_HOME",
            "fail",
            f"{where}: {problem}",
            "export AIRFLOW_HOME=/an/absolute/writable/dir",
        )
    if not home.is_dir():
        return _check("AIRFLOW_HOME", "info", f"{where} does not exist yet (Airflow creates it)")
    return _check("AIRFLOW_HOME", "ok", f"{where}, writable")


def _installed() -> Check:
    """Airflow imports (and is not older than the oldest supported version). Whether the
    distribution is installed, and its version against graflow's requirement, the core's
    integration row reports: the version is repeated here only when it is too old."""
    try:
        from airflow import __version__

        from graflow_airflow._compat import AIRFLOW_VERSION, MIN_AIRFLOW
    except Exception as exc:
        return _check(
            "installed",
            "fail",
            f"import airflow fails: {type(exc).__name__}: {' '.join(str(exc).split())}",
            f"{install_fix(AREA)}; if it is installed, fix what the error names (AIRFLOW_HOME, "
            "airflow.cfg, a database driver)",
        )
    floor = ".".join(map(str, MIN_AIRFLOW))
    if AIRFLOW_VERSION < MIN_AIRFLOW:
        return _check(
            "installed",
            "fail",
            f"apache-airflow {__version__} is older than the oldest supported ({floor})",
            f"pip install -U 'apache-airflow>={floor}'",
        )
    return _check("installed", "ok", "import airflow works")


def _database(url: str) -> Check:
    """The database setting (password redacted) and whether it can be reached."""
    from graflow_airflow.local import database_problem, redact_url

    shown = redact_url(url)
    problem = database_problem(url)
    if problem is not None:
        return _check("metadata database", "fail", f"{shown} {problem}", _DB_FIX)
    return _check("metadata database", "ok", f"{shown} reachable")


def _schema(url: str) -> Check:
    """Whether the database is at the revision this Airflow's migrations end at."""
    from graflow_airflow.local import schema_heads, sqlite_path

    try:
        expected = schema_heads()
        path = sqlite_path(url)
        if path is not None:
            if not path.exists():
                return _check(
                    "database schema",
                    "warn",
                    f"{path} does not exist yet",
                    "run `airflow db migrate` (graflow's local Airflow run creates it on first "
                    "use)",
                )
            found = _sqlite_heads(path)
        else:
            found = _server_heads(url)
    except Exception as exc:
        return _check(
            "database schema",
            "fail",
            f"cannot read the schema revision: {type(exc).__name__}: {exc}",
            _DB_FIX,
        )
    if not found:
        return _check(
            "database schema",
            "warn",
            f"no Airflow schema revision yet; this Airflow expects {', '.join(sorted(expected))}",
            "run `airflow db migrate` (graflow's local Airflow run creates the schema on first "
            "use in a database without Airflow tables)",
        )
    if found != expected:
        return _check(
            "database schema",
            "fail",
            f"at {', '.join(sorted(found))}; this Airflow expects {', '.join(sorted(expected))}",
            "run `airflow db migrate` if the database is meant for this Airflow (graflow's local "
            "Airflow run does not migrate an existing database), or point sql_alchemy_conn at "
            "another one",
        )
    return _check("database schema", "ok", f"migrated (revision {', '.join(sorted(found))})")


def _sqlite_heads(path: Path) -> set[str]:
    import sqlite3

    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1.0)
    try:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchall()
        if not tables:
            return set()
        return {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
    finally:
        connection.close()


def _server_heads(url: str) -> set[str]:
    from sqlalchemy import create_engine, inspect, text

    from graflow_airflow.local import CONNECT_TIMEOUT

    engine = create_engine(url, connect_args={"connect_timeout": int(CONNECT_TIMEOUT)})
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return set()
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def _dags_folder() -> Check:
    from airflow.configuration import conf

    folder = Path(os.path.expanduser(str(conf.get("core", "dags_folder"))))
    problem = writable_problem(folder)
    if problem is not None:
        return _check(
            "DAGs folder",
            "fail",
            problem,
            "set [core] dags_folder (AIRFLOW__CORE__DAGS_FOLDER) to a writable directory",
        )
    state = "writable" if folder.is_dir() else "does not exist yet, can be created"
    return _check("DAGs folder", "ok", f"{folder} {state}")


def _provider() -> Check:
    from airflow.providers_manager import ProvidersManager

    from graflow_airflow.provider import PACKAGE_NAME

    found = ProvidersManager().providers.get(PACKAGE_NAME)
    if found is None:
        return _check(
            "provider",
            "warn",
            f"Airflow does not list the {PACKAGE_NAME} provider",
            f"reinstall {PACKAGE_NAME} (its apache_airflow_provider entry point registers it)",
        )
    return _check("provider", "ok", f"{PACKAGE_NAME} {found.version} registered with Airflow")
