"""graflow_dagster.doctor.diagnose: good and broken Dagster set-ups, each broken one with a fix."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest
from dagster import DagsterInstance
from graflow_dagster.doctor import diagnose
from graflow_dagster.local import run_workflow

from graflow_core.diagnostics import Check
from graflow_core.exceptions import ConfigError
from graflow_core.spec.targets import get_target
from graflow_core.testing.catalog import get_example


def by_name(checks: list[Check]) -> dict[str, Check]:
    assert all(c.area == "dagster" for c in checks)
    return {c.name: c for c in checks}


def failed(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks if c.status == "fail"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty DAGSTER_HOME."""
    path = tmp_path / "dagster_home"
    path.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(path))
    return path


def test_good_home_after_a_run(
    monkeypatch: pytest.MonkeyPatch, dagster_instance: DagsterInstance, dagster_home: Path
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    example = get_example("linear")
    assert run_workflow(example.reference, dict(example.params)).ok  # creates the databases
    before = sorted(os.listdir(dagster_home))

    checks = by_name(get_target("dagster").diagnose())  # through the bridge

    assert not failed(list(checks.values()))
    # whether it imports; the version against the floor is the core's integration row
    assert checks["installed"].status == "ok" and checks["installed"].detail == "dagster imports"
    assert checks["DAGSTER_HOME"].status == "ok"
    # instance_for_test wrote the dagster.yaml (telemetry: enabled: false)
    assert checks["dagster.yaml"].status == "ok" and "is valid" in checks["dagster.yaml"].detail
    assert checks["storage"].status == "ok"
    assert "2 database file(s) readable" in checks["storage"].detail
    assert checks["telemetry"].status == "info" and checks["telemetry"].detail.startswith("off")
    assert sorted(os.listdir(dagster_home)) == before  # nothing created


def test_fresh_home(home: Path) -> None:
    checks = by_name(diagnose())

    assert not failed(list(checks.values()))
    assert checks["DAGSTER_HOME"].status == "ok"
    assert checks["dagster.yaml"].status == "info"  # none: Dagster's defaults
    assert checks["dagster.yaml"].fix == (
        f"create an empty {home / 'dagster.yaml'} to keep the defaults without the warning"
    )
    assert checks["storage"].detail.endswith("writable, created on the first run")
    assert os.listdir(home) == []  # the write probe leaves nothing behind


def test_unset_home_is_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    checks = by_name(diagnose())

    assert set(checks) == {"installed", "DAGSTER_HOME", "telemetry"}
    assert checks["DAGSTER_HOME"].status == "info"
    assert "ephemeral" in checks["DAGSTER_HOME"].detail
    assert "DAGSTER_HOME" in checks["DAGSTER_HOME"].fix


def _unwritable_dir(tmp_path: Path) -> Path:
    path = tmp_path / "read_only"
    path.mkdir()
    path.chmod(0o500)
    try:
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError:
        return path
    # root ignores file modes; a read-only file system is unwritable for root too
    for candidate in (Path("/sys"), Path("/proc/self")):
        try:
            with tempfile.NamedTemporaryFile(dir=candidate):
                pass
        except OSError:
            return candidate
    pytest.skip("no directory this user cannot write to")


def test_unwritable_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _unwritable_dir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(path))
    try:
        problems = failed(diagnose())
    finally:
        (tmp_path / "read_only").chmod(0o700)

    assert f"cannot write in {path}" in problems["DAGSTER_HOME"].detail
    assert "writable" in problems["DAGSTER_HOME"].fix
    assert f"cannot write in {path}" in problems["storage"].detail


@pytest.mark.parametrize(
    ("value", "detail", "fix"),
    [
        ("missing", "does not exist", "mkdir -p"),
        ("relative/dir", "not an absolute path", "export DAGSTER_HOME="),
        ("a_file", "not a directory", "point DAGSTER_HOME"),
    ],
)
def test_home_that_dagster_refuses(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str, detail: str, fix: str
) -> None:
    (tmp_path / "a_file").write_text("")
    monkeypatch.chdir(tmp_path)
    home = value if value.startswith("relative") else str(tmp_path / value)
    monkeypatch.setenv("DAGSTER_HOME", home)

    problems = failed(diagnose())

    assert set(problems) == {"DAGSTER_HOME"}
    assert detail in problems["DAGSTER_HOME"].detail
    assert fix in problems["DAGSTER_HOME"].fix
    with pytest.raises(ConfigError, match="DAGSTER_HOME"):  # and a run says what to do
        run_workflow(get_example("linear").reference, {"n": 1})


def test_dagster_yaml_not_yaml(home: Path) -> None:
    (home / "dagster.yaml").write_text("storage:\n  sqlite:\n    base_dir: [unclosed\n")
    problems = failed(diagnose())

    assert set(problems) == {"dagster.yaml"}
    assert "not valid YAML" in problems["dagster.yaml"].detail
    assert "line 3" in problems["dagster.yaml"].detail
    assert str(home / "dagster.yaml") in problems["dagster.yaml"].fix
    with pytest.raises(ConfigError, match="DAGSTER_HOME"):
        run_workflow(get_example("linear").reference, {"n": 1})


def test_dagster_yaml_rejected_by_dagster(home: Path) -> None:
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: nope\nrun_storag: {}\n")
    problems = failed(diagnose())

    detail = problems["dagster.yaml"].detail
    assert "run_storag" in detail and "telemetry:enabled" in detail
    assert "Expected:" not in detail  # Dagster's schema dump is cut off
    assert "remove it" in problems["dagster.yaml"].fix


def test_sqlite_storage_problems(home: Path) -> None:
    base = home / "elsewhere"
    base.mkdir()
    (base / "history").write_text("not a directory")
    (base / "schedules").mkdir()
    (base / "schedules" / "schedules.db").write_text("not a database" * 100)
    (home / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {base}\n")

    problems = failed(diagnose())

    assert set(problems) == {"storage"}
    assert f"{base / 'history'} is not a directory" in problems["storage"].detail
    assert "schedules.db cannot be read as an SQLite database" in problems["storage"].detail
    assert problems["storage"].fix


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_database_server_not_reachable(home: Path) -> None:
    port = _closed_port()
    (home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: postgresql://u:p@127.0.0.1:{port}/dagster\n"
    )
    problems = failed(diagnose())

    assert set(problems) == {"storage"}
    assert (
        f"postgres storage at 127.0.0.1:{port} does not accept connections"
        in problems["storage"].detail
    )
    assert "start the postgres server" in problems["storage"].fix


def test_database_server_reachable(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        monkeypatch.setenv("TEST_DAGSTER_DB_PORT", str(port))
        (home / "dagster.yaml").write_text(
            "storage:\n  mysql:\n    mysql_db:\n      hostname: 127.0.0.1\n"
            "      port: {env: TEST_DAGSTER_DB_PORT}\n      username: u\n      password: p\n"
            "      db_name: d\n"
        )
        checks = by_name(diagnose())

    assert checks["storage"].status == "ok"
    assert f"mysql storage at 127.0.0.1:{port}" in checks["storage"].detail


def test_telemetry_settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_DISABLE_TELEMETRY", raising=False)
    on = by_name(diagnose())["telemetry"]
    assert on.status == "info" and on.detail.startswith("on") and "enabled: false" in on.fix

    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "yes")
    assert "nothing is uploaded" in by_name(diagnose())["telemetry"].detail

    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    off = by_name(diagnose())["telemetry"]
    assert off.detail.startswith("off") and not off.fix


def test_a_home_with_uri_characters_is_checked_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-only SQLite open escapes the path: ``file:/x#1/...?mode=ro`` opened (and
    created) ``/x`` read-write."""
    import sqlite3

    home = tmp_path / "x#1"
    (home / "history").mkdir(parents=True)
    (home / "dagster.yaml").write_text("")
    with sqlite3.connect(home / "history" / "runs.db") as conn:
        conn.execute("CREATE TABLE runs (id TEXT)")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    before = sorted(os.listdir(tmp_path))

    checks = by_name(diagnose())

    assert checks["storage"].status == "ok", checks["storage"]
    assert "1 database file(s) readable" in checks["storage"].detail
    assert sorted(os.listdir(tmp_path)) == before  # nothing created next to the home


def test_local_environment_turns_telemetry_off_and_sets_the_home_only_when_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    import graflow_dagster

    assert graflow_dagster.local_environment() == {"DAGSTER_DISABLE_TELEMETRY": "1"}
    monkeypatch.chdir(tmp_path)
    env = graflow_dagster.local_environment("home")  # made absolute, as Dagster requires
    assert env == {"DAGSTER_DISABLE_TELEMETRY": "1", "DAGSTER_HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_text("")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    checks = by_name(diagnose())
    assert checks["DAGSTER_HOME"].status == "ok"
    assert "nothing is uploaded" in checks["telemetry"].detail
    # exported lazily: importing the package still imports no Dagster
    code = (
        "import sys, graflow_dagster; graflow_dagster.local_environment; "
        "print('dagster' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
