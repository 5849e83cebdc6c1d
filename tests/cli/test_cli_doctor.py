"""``graflow doctor``: the real command on this environment (healthy and broken), and the
collection of checks from bridges and plugins in process."""

from __future__ import annotations

import http.server
import json
import re
import socket
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import run_graflow as graflow

from graflow_core.cli import main
from graflow_core.diagnostics import (
    INTEGRATIONS,
    STATUSES,
    Check,
    core_checks,
    integration_checks,
    port_problem,
    url_problem,
    writable_problem,
)
from graflow_core.plugins import PluginLoadWarning, hookimpl
from graflow_core.spec import Capabilities
from graflow_core.spec.targets import Bridge, LazyCallable, register_target, unregister_target

KEY = "k" * 40


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def checks_of(stdout: str) -> dict[tuple[str, str], dict[str, str]]:
    data = json.loads(stdout)
    assert set(data) == {"ok", "summary", "checks", "seconds", "bridge_seconds"}
    assert set(data["summary"]) == set(STATUSES)
    assert sum(data["summary"].values()) == len(data["checks"])
    for check in data["checks"]:
        assert set(check) == {"area", "name", "status", "detail", "fix"}, check
        assert check["status"] in STATUSES
        if check["status"] == "fail":
            assert check["fix"], check  # every failure says what to do
    assert data["ok"] == (data["summary"]["fail"] == 0)
    return {(c["area"], c["name"]): c for c in data["checks"]}


# --- the real command ---------------------------------------------------------------------------


def test_doctor_on_this_environment_passes(tmp_path: Path) -> None:
    proc = graflow(
        tmp_path,
        "doctor",
        "--json",
        env={"GRAFLOW_SECRET_KEY": KEY, "WANDB_MODE": "offline", "MLFLOW_TRACKING_URI": ""},
    )
    checks = checks_of(proc.stdout)
    failed = [c for c in checks.values() if c["status"] == "fail"]
    assert proc.returncode == 0 and not failed, failed
    for extra, distribution in INTEGRATIONS.items():
        assert checks[(extra, distribution)]["status"] == "ok"
    assert checks[("core", "signing key")]["status"] == "ok"
    assert checks[("airflow", "apache-airflow")]["detail"].startswith("3.")
    assert checks[("mlflow", "tracking store")]["detail"].startswith("sqlite:///")
    assert checks[("wandb", "mode")]["status"] == "ok"
    # Each bridge ran its own diagnosis (not only the installed-or-not rows).
    for area in ("airflow", "prefect", "dagster"):
        own = [c for (a, n), c in checks.items() if a == area and n != f"graflow-{area}"]
        assert len(own) > 1, own


def test_doctor_on_a_broken_environment_fails_with_fixes(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    (tmp_path / "checkpoints").write_text("a file where the checkpoint directory should be")
    port = closed_port()
    env = {
        "GRAFLOW_SECRET_KEY": "short",
        "AIRFLOW_HOME": str(blocker / "airflow"),
        "DAGSTER_HOME": str(blocker / "dagster"),
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
        "WANDB_DIR": str(blocker / "wandb"),
        "WANDB_MODE": "offline",
        "GRAFLOW_METRICS_PORT": "not-a-port",
    }
    proc = graflow(tmp_path, "doctor", "--json", env=env)
    assert proc.returncode == 1, proc.stderr
    checks = checks_of(proc.stdout)
    for key, fragment in [
        (("core", "signing key"), "too short"),
        (("core", "checkpoint dir"), "not a directory"),
        (("dagster", "DAGSTER_HOME"), "a-file"),
        (("mlflow", "tracking store"), f"127.0.0.1:{port}"),
        (("wandb", "dir"), "not a directory"),
        (("metrics", "port"), "not-a-port"),
    ]:
        assert checks[key]["status"] == "fail", checks[key]
        assert fragment in checks[key]["detail"], checks[key]
    assert "MLFLOW_TRACKING_URI" in checks[("mlflow", "tracking store")]["fix"]
    airflow = [c for c in checks.values() if c["area"] == "airflow" and c["status"] == "fail"]
    assert any("AIRFLOW_HOME" in c["name"] + c["detail"] + c["fix"] for c in airflow), airflow

    text = graflow(tmp_path, "doctor", "--target", "mlflow", "wandb", env=env)
    assert text.returncode == 1 and "Traceback" not in text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == "core" and "mlflow" in lines and "wandb" in lines
    assert "airflow" not in lines  # --target picks the integrations
    fail = next(i for i, line in enumerate(lines) if line.startswith("  fail  tracking store"))
    assert lines[fail + 1].strip().startswith("fix: ")
    assert lines[-1].endswith("— problems found") and " 0 fail" not in lines[-1]


# --- in process ---------------------------------------------------------------------------------


@pytest.fixture
def bridges(monkeypatch: pytest.MonkeyPatch, chdir_tmp: Path) -> Iterator[list[str]]:
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", KEY)
    names: list[str] = []
    yield names
    for name in names:
        unregister_target(name)


def _bridge(names: list[str], name: str, diagnose: object) -> None:
    register_target(
        Bridge(name, Capabilities(name), diagnose=diagnose, distribution=f"graflow-{name}")  # type: ignore[arg-type]
    )
    names.append(name)


def test_a_bridge_whose_diagnosis_breaks_is_one_fail_check(
    pm: object, bridges: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> list[Check]:
        raise RuntimeError("database exploded")

    _bridge(bridges, "missing", LazyCallable("no_such_module_for_doctor:diagnose"))
    _bridge(bridges, "broken", broken)
    _bridge(bridges, "odd", lambda: ["not a check"])
    _bridge(bridges, "fine", lambda: [Check("fine", "db", "ok", "reachable")])
    code = main(["doctor", "--target", "missing", "broken", "odd", "fine"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    lines = out.splitlines()
    assert re.search(r"^  fail  diagnose +the diagnosis raised RefProblem: ", out, re.M)
    assert "reinstall or upgrade graflow-missing" in out
    assert "RuntimeError: database exploded" in out
    assert "'not a check', not graflow_core.diagnostics.Check objects" in out
    assert re.search(r"^fine\n  ok    db +reachable$", out, re.M)
    assert lines[-1].startswith("9 checks in ")  # 5 of the core (autoload is off: info)
    assert ": 5 ok, 1 info, 0 warn, 3 fail — problems found" in lines[-1]


def test_bridges_diagnosed_in_processes_at_once(
    pm: object, bridges: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    def crash() -> list[Check]:
        os._exit(3)  # a diagnosis that kills its process

    _bridge(bridges, "first", lambda: [Check("first", "pid", "ok", str(os.getpid()))])
    _bridge(bridges, "second", lambda: [Check("second", "pid", "ok", str(os.getpid()))])
    code = main(["doctor", "--json", "--jobs", "2", "--target", "first", "second"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data
    pids = {c["detail"] for c in data["checks"] if c["name"] == "pid"}
    assert pids and str(os.getpid()) not in pids  # in child processes
    assert set(data["bridge_seconds"]) == {"first", "second"}

    _bridge(bridges, "crash", crash)
    assert main(["doctor", "--jobs", "2", "--target", "crash", "first"]) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"^crash\n  fail  diagnose +the diagnosis raised RuntimeError: its process exited with "
        r"code 3",
        out,
        re.M,
    )


def test_a_hanging_diagnosis_is_stopped_at_its_deadline(
    pm: object, bridges: list[str], capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    import time

    import graflow_core.diagnostics as diagnostics

    monkeypatch.setattr(diagnostics, "BRIDGE_TIMEOUT", 1.0)

    def hang() -> list[Check]:
        time.sleep(60)
        return []

    _bridge(bridges, "hang", hang)
    _bridge(bridges, "quick", lambda: [Check("quick", "db", "ok", "fine")])
    started = time.monotonic()
    code = main(["doctor", "--jobs", "2", "--target", "hang", "quick"])
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 1 and elapsed < 15, elapsed  # not the 60 s the check would sleep
    assert re.search(r"^hang\n  fail  diagnose +.*no answer within 1 s", out, re.M)
    assert re.search(r"^quick\n  ok    db +fine$", out, re.M)


def test_plugin_diagnose_hooks_each_run_on_their_own(
    pm: object, capsys: pytest.CaptureFixture[str]
) -> None:
    class Good:
        @hookimpl
        def diagnose(self) -> list[Check]:
            return [Check("audit", "sink", "warn", "slow disk", "move it")]

    class Bad:
        @hookimpl
        def diagnose(self) -> list[Check]:
            raise KeyError("config")

    pm.register(Good(), name="audit")  # type: ignore[attr-defined]
    pm.register(Bad(), name="bad")  # type: ignore[attr-defined]
    assert main(["doctor", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    by_area = {c["area"]: c for c in data["checks"] if c["area"] in ("audit", "bad")}
    assert by_area["audit"] == {
        "area": "audit",
        "name": "sink",
        "status": "warn",
        "detail": "slow disk",
        "fix": "move it",
    }
    assert by_area["bad"]["status"] == "fail"
    assert "KeyError: 'config'" in by_area["bad"]["detail"]
    # --target selects plugins by name too
    assert main(["doctor", "--json", "--target", "audit"]) == 0
    areas = {c["area"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert areas == {"core", "audit"}


def test_unknown_target_is_a_failed_check(pm: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--target", "nosuchtarget"]) == 1
    out = capsys.readouterr().out
    assert "  fail  target" in out and "Unknown target 'nosuchtarget'" in out


def test_plugins_that_failed_to_load_are_core_failures() -> None:
    from graflow_core.core.hooks import FoundEntryPoint
    from graflow_core.plugins.manager import GraflowPluginManager

    manager = GraflowPluginManager()
    found = [FoundEntryPoint("wobbly", "no_such_module_for_doctor:plugin", "wobbly-dist", "1.0")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PluginLoadWarning)
        assert manager.load_entry_points(_found=found) == 0
    (check,) = [c for c in core_checks(manager) if c.name == "plugin wobbly"]
    assert check.status == "fail"
    assert "wobbly-dist" in check.detail and "ModuleNotFoundError" in check.detail
    assert "GRAFLOW_DISABLE_PLUGINS=wobbly" in check.fix


def test_an_integration_not_installed_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graflow_core.spec.targets import KNOWN_DISTRIBUTIONS

    assert KNOWN_DISTRIBUTIONS.items() <= INTEGRATIONS.items()  # the bridges are integrations
    monkeypatch.setitem(INTEGRATIONS, "ghost", "graflow-ghost-not-installed")
    assert integration_checks(["ghost"]) == [
        Check(
            "ghost",
            "graflow-ghost-not-installed",
            "info",
            "not installed",
            'pip install "graflow-core[ghost]"',
        )
    ]


def test_check_helpers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert writable_problem(tmp_path / "new" / "dir") is None
    assert not list(tmp_path.glob(".graflow-doctor-*"))  # the probe file is removed
    assert "is not a directory" in (writable_problem(blocker / "sub") or "")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        taken = int(sock.getsockname()[1])
        assert "cannot listen on 127.0.0.1:" in (port_problem(taken) or "")
    assert port_problem(70000) == "70000 is not a TCP port (0-65535)"
    assert "does not answer" in (url_problem(f"http://127.0.0.1:{closed_port()}", 1.0) or "")

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:  # an error status (501 here) still means the server is there
        assert url_problem(f"http://127.0.0.1:{server.server_address[1]}/health", 2.0) is None
    finally:
        server.shutdown()
        server.server_close()


def test_a_local_url_is_checked_without_the_proxy(monkeypatch) -> None:
    import http.server
    import threading

    from graflow_core.diagnostics import url_problem

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # a proxy that is not there
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        assert url_problem(f"http://127.0.0.1:{server.server_port}/health", 2.0) is None
    finally:
        server.shutdown()
        server.server_close()
