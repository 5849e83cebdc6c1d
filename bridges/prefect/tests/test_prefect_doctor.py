"""graflow_prefect.doctor.diagnose(): real Prefect settings, a real server, real directories."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import prefect.settings as ps
from graflow_prefect.doctor import diagnose
from prefect.server.api.server import SubprocessASGIServer

from graflow_core.diagnostics import Check
from graflow_core.spec.targets import get_target


def _by_name(checks: list[Check]) -> dict[str, Check]:
    assert all(c.area == "prefect" for c in checks)
    return {c.name: c for c in checks}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _no_api_url(**updates: Any) -> Iterator[None]:
    """Prefect settings as a user without a server has them: no PREFECT_API_URL, the default
    database under PREFECT_HOME (the session's test server sets both), plus ``updates``."""
    with ps.temporary_settings(
        updates={getattr(ps, k): v for k, v in updates.items()},
        restore_defaults={ps.PREFECT_API_URL, ps.PREFECT_SERVER_DATABASE_CONNECTION_URL},
    ):
        yield


def test_diagnose_good_with_a_running_server(prefect_server) -> None:
    checks = get_target("prefect").diagnose()  # through the bridge, as graflow doctor calls it
    found = _by_name(checks)
    assert not [c for c in checks if c.failed], checks
    assert found["installed"].status == "ok" and found["installed"].detail == "prefect imports"
    assert found["PREFECT_HOME"].status == "ok"
    assert str(prefect_server.home) in found["PREFECT_HOME"].detail
    assert found["API"].status == "ok" and prefect_server.api_url in found["API"].detail
    assert found["profile"].status == "info"
    assert found["telemetry"].status == "info"
    assert "server analytics off" in found["telemetry"].detail  # the fixture turns it off


def test_unreachable_configured_api_fails_with_a_fix(prefect_server) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api"
    with ps.temporary_settings(updates={ps.PREFECT_API_URL: url}):
        api = _by_name(diagnose())["API"]
    assert api.status == "fail"
    assert url in api.detail and "does not answer" in api.detail
    assert "prefect server start" in api.fix


def test_unwritable_home_fails(tmp_path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    home = blocker / "prefect_home"
    before = {k: s.running for k, s in SubprocessASGIServer._instances.items()}
    with _no_api_url(PREFECT_HOME=str(home)):
        found = _by_name(diagnose())
    assert found["PREFECT_HOME"].status == "fail"
    assert "not a directory" in found["PREFECT_HOME"].detail and found["PREFECT_HOME"].fix
    # without an API URL the temporary server would keep its SQLite database there
    assert found["API"].status == "info"
    assert found["server database"].status == "fail"
    assert str(home / "prefect.db") in found["server database"].detail
    # and diagnose started no server to find out
    assert {k: s.running for k, s in SubprocessASGIServer._instances.items()} == before


def test_no_api_and_no_temporary_server_fails(tmp_path) -> None:
    with _no_api_url(PREFECT_HOME=str(tmp_path), PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=False):
        found = _by_name(diagnose())
    assert found["PREFECT_HOME"].status == "ok"
    assert found["API"].status == "fail"
    assert "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE" in found["API"].fix
    assert "server database" not in found


def test_temporary_server_ready_is_ok(tmp_path) -> None:
    with _no_api_url(
        PREFECT_HOME=str(tmp_path / "new_home"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=20,
    ):
        checks = diagnose()
    found = _by_name(checks)
    assert not [c for c in checks if c.failed], checks
    assert "will be created" in found["server database"].detail
    assert found["server start-up timeout"].fix.endswith("=120")


def test_installed_says_whether_prefect_imports_and_timeouts_name_the_runs_own(tmp_path) -> None:
    from graflow_prefect.local import EPHEMERAL_STARTUP_TIMEOUT

    with _no_api_url(
        PREFECT_HOME=str(tmp_path), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=20
    ):
        found = _by_name(diagnose())
    # the version against graflow's floor is the core's integration row, not repeated here
    assert found["installed"].status in ("ok", "warn")
    if found["installed"].status == "ok":
        assert found["installed"].detail == "prefect imports"
    timeout = found["server start-up timeout"]
    assert f"run_on('prefect') waits {EPHEMERAL_STARTUP_TIMEOUT} s" in timeout.detail
    assert timeout.fix.endswith(f"={EPHEMERAL_STARTUP_TIMEOUT}")


def test_a_database_path_with_uri_characters_is_checked_where_it_is(tmp_path) -> None:
    import os
    import sqlite3

    home = tmp_path / "p#1"
    home.mkdir()
    with sqlite3.connect(home / "prefect.db") as conn:
        conn.execute("CREATE TABLE t (id TEXT)")
    with _no_api_url(PREFECT_HOME=str(home)):
        found = _by_name(diagnose())
    assert found["server database"].status == "ok", found["server database"]
    assert sorted(os.listdir(tmp_path)) == ["p#1"]


def test_an_unreadable_database_file_fails(tmp_path) -> None:
    (tmp_path / "prefect.db").write_text("not a database" * 100)
    with _no_api_url(PREFECT_HOME=str(tmp_path)):
        found = _by_name(diagnose())
    assert found["server database"].status == "fail"
    assert "cannot be read as an SQLite database" in found["server database"].detail
