"""The flagship demo (README's main command): the ETL workflow's numbers, the engines'
environment and processes, and the whole demo end to end on the real engines (Airflow, Prefect,
Dagster, MLflow; nothing mocked)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

from flagship import etl  # noqa: E402
from flagship.environment import engine_environment  # noqa: E402

from graflow_core.core.checkpoint import CheckpointManager  # noqa: E402
from graflow_core.spec.target_run import run_native  # noqa: E402

EXPECTED_RESULT = {
    "orders": 54,
    "rejected": 6,
    "revenue_usd": 12067.42,
    "top_region": "EMEA",
    "top_customer": "C010",
}
EXPECTED_REJECTED = {
    "1007": "missing customer",
    "1014": "amount -12 below 5",
    "1022": "status cancelled",
    "1030": "unparsable amount 'n/a'",
    "1052": "duplicate order id",
}
ENGINES = ("graflow", "Airflow", "Prefect", "Dagster")
#: The checkpoint column: a checkpoint file (graflow, Prefect) or the stored task outputs.
CHECKPOINT = {"graflow": "file", "Airflow": "outputs", "Prefect": "file", "Dagster": "outputs"}
USER_SETTINGS = {
    "GRAFLOW_MLFLOW": "1",
    "GRAFLOW_WANDB": "1",
    "GRAFLOW_METRICS": "1",
    "MLFLOW_TRACKING_URI": "sqlite:///{leak}",
    "WANDB_MODE": "online",
    "AIRFLOW_HOME": "/nonexistent/airflow",
    "PREFECT_API_URL": "http://example.invalid/api",
}


@pytest.fixture
def demo(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """examples/demo.py as a module (its demo-only signing key kept out of this process)."""
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", "flagship-demo-test-" + "0" * 40)
    return importlib.import_module("demo")


def _user_settings(monkeypatch: pytest.MonkeyPatch, leak: Path) -> None:
    for name, value in USER_SETTINGS.items():
        monkeypatch.setenv(name, value.format(leak=leak))


def test_engine_environment_keeps_the_users_settings_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", "k" * 40)
    _user_settings(monkeypatch, tmp_path / "leak.db")
    plain = engine_environment(tmp_path, tracking=False)
    assert not set(USER_SETTINGS) - {"AIRFLOW_HOME"} & set(plain)
    assert plain["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert plain["PREFECT_HOME"] == str(tmp_path / "prefect")
    assert plain["GRAFLOW_SECRET_KEY"] == "k" * 40  # outcomes and checkpoints are signed
    tracked = engine_environment(tmp_path, tracking=True)
    assert tracked["GRAFLOW_MLFLOW"] == "1"
    assert tracked["MLFLOW_TRACKING_URI"] == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert "GRAFLOW_WANDB" not in tracked and "GRAFLOW_METRICS" not in tracked

    bench = _engines_bench()  # the benchmark's engines get the same, untracked
    timed = bench._engine_env(tmp_path)
    fernet = "AIRFLOW__CORE__FERNET_KEY"  # a fresh key each time
    assert timed.keys() == plain.keys()
    assert {k: v for k, v in timed.items() if k != fernet} == {
        k: v for k, v in plain.items() if k != fernet
    }


def _engines_bench() -> Any:
    path = ROOT / "benchmarks" / "engines_bench.py"
    spec = importlib.util.spec_from_file_location("flagship_test_engines_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engines_bench_records_a_timeout_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = _engines_bench()
    monkeypatch.setattr(bench, "CHILD_TIMEOUT", 0.001)
    result = bench.main(["--only", "graflow", "--only", "dagster", "--runs", "1"])
    assert result["graflow"] == {"error": "timeout"}
    assert result["dagster"] == {"error": "timeout"}


def test_migrated_flow_runs_in_the_engines_environment(
    demo: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    leak = tmp_path / "users-mlflow.db"
    _user_settings(monkeypatch, leak)
    monkeypatch.chdir(tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    assert demo.migrate_flow(scratch) == scratch / "migrated" / "orders_etl.py"
    assert "{'written': 2, 'total': 60.5}" in capsys.readouterr().out
    assert not leak.exists()  # the user's GRAFLOW_MLFLOW / MLFLOW_TRACKING_URI did not apply
    assert not (scratch / "mlflow.db").exists()  # and the demo does not track it either

    monkeypatch.setattr(demo, "MIGRATED_TIMEOUT", 0.05)
    assert demo.migrate_flow(scratch) is None
    assert "did not finish within 0.05 s" in capsys.readouterr().out


def test_demo_refuses_a_scratch_that_is_a_file(demo: ModuleType, tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    with pytest.raises(SystemExit) as exc:
        demo.main(["--scratch", str(file)])
    assert str(exc.value) == (
        f"demo: --scratch {file} is a file, not a directory; give another --scratch"
    )
    assert file.read_text() == "mine"


def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_ready_engine_waits_for_its_turn_without_a_set_up_timeout(
    demo: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = demo.EngineRun("graflow", tmp_path)
    run.start(engine_environment(tmp_path, tracking=False), deadline=120)
    try:
        _until(lambda: run.poll() or run.ready, 90, "the engine to be ready")
        assert run.ready and not run.ended, run.last_log_line()
        monkeypatch.setattr(demo, "SETUP_TIMEOUT", 0.0)  # long over, but it is ready
        for _ in range(3):
            assert run.poll() is False
            time.sleep(0.05)
        run.go()
        _until(run.poll, 90, "the run")
        assert run.proc is not None and run.proc.returncode == 0, run.last_log_line()
        assert demo.load_outcome(run)["result"] == EXPECTED_RESULT
    finally:
        run.stop()


def test_interrupting_the_demo_kills_its_engines(
    demo: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    start = demo.EngineRun.start

    def recorded(self: Any, *args: Any, **kwargs: Any) -> None:
        start(self, *args, **kwargs)
        started.append(self)

    def interrupt(self: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo.EngineRun, "start", recorded)
    monkeypatch.setattr(demo.Display, "update", interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            demo.run_engines(["graflow", "dagster"], tmp_path)
        assert len(started) == 2
        assert [run.proc.poll() for run in started] == [-9, -9]
    finally:
        for run in started:
            if run.proc.poll() is None:
                run.proc.kill()
                run.proc.wait()


DEADLINE_1 = ("--deadline", "1")


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_an_engine_process_ends_when_the_demo_is_gone(tmp_path: Path) -> None:
    env = engine_environment(tmp_path, tracking=False)
    env.setdefault("GRAFLOW_SECRET_KEY", "flagship-demo-test-" + "0" * 40)
    for scratch in (tmp_path, tmp_path / "d"):
        (scratch / "progress").mkdir(parents=True)
    # A stand-in for the demo: starts the engine's process the way the demo does, then dies.
    code = (
        "import os, subprocess, sys; p = subprocess.Popen([sys.executable, '-m', "
        "'flagship.engine_run', 'graflow', sys.argv[1], '--parent', str(os.getpid())], "
        "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(p.pid)"
    )
    parent = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(parent.stdout.split()[-1])
    try:
        _until(lambda: not _alive(pid), 60, "the orphaned engine process to end")
    finally:
        if _alive(pid):
            os.kill(pid, 9)  # the engine process this test started, which did not end

    # The same with a living parent, after its deadline (1 s).
    proc = subprocess.Popen(
        [sys.executable, "-m", "flagship.engine_run", "graflow", str(tmp_path / "d"), *DEADLINE_1],
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.wait(timeout=60) == -9
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_flagship_etl_natively_gives_the_expected_numbers(tmp_path: Path) -> None:
    run = run_native(etl.build, {**etl.PARAMS, "scratch_dir": str(tmp_path)})
    run.raise_for_error()

    assert run.result == EXPECTED_RESULT
    assert set(run.results) == {*etl.TASKS, "enrich"}
    channel = run.user_channel
    assert channel["rejected"] == EXPECTED_REJECTED
    assert channel["unpriced"] == [1038]  # currency XYZ has no rate
    assert channel["unknown_customers"] == ["C042"]
    assert channel["kpis"] == {
        "orders": 54,
        "revenue_usd": 12067.42,
        "avg_order_usd": 223.47,
        "customers": 17,
    }
    aggregate = run.results["aggregate"]
    assert sum(aggregate["by_region"].values()) == pytest.approx(12067.42)
    assert sum(aggregate["by_segment"].values()) == pytest.approx(12067.42)
    assert aggregate["by_segment"]["unknown"] > 0  # C042's order
    # to_usd failed once and was retried (the attempt counter is per workflow run)
    assert etl.attempts_of(tmp_path, run.run_id, "to_usd") == 2
    assert run.states["to_usd"] == "success"
    report = json.loads((etl.run_dir(tmp_path, run.run_id) / "report.json").read_text())
    assert report["summary"] == EXPECTED_RESULT

    # The checkpoint after join_enriched resumes with aggregate and publish only.
    resumed, meta = CheckpointManager.resume_from_checkpoint(
        str(etl.run_dir(tmp_path, run.run_id) / "enriched")
    )
    assert meta.user_metadata["stage"] == "enriched"
    before = len(resumed.completed_tasks)
    assert resumed.execute() == EXPECTED_RESULT
    assert resumed.completed_tasks[before:] == ["aggregate", "publish"]


def _table(stdout: str) -> dict[str, dict[str, str]]:
    """The side-by-side table's rows by engine, each as {column: cell}."""
    section = stdout.split("=== 2. Side by side", 1)[1].split("\n=== 3.", 1)[0]
    lines = [line.strip() for line in section.splitlines()[1:] if line.strip()]
    header = re.split(r"\s{2,}", lines[0])
    rows = {}
    for line in lines[2:]:
        cells = re.split(r"\s{2,}", line)
        if cells[0] in ENGINES:
            rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


@pytest.mark.slow
def test_flagship_demo_runs_on_all_four_engines_identically(tmp_path: Path) -> None:
    scratch = tmp_path / "demo"
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "demo.py"), "--scratch", str(scratch)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    rows = _table(out.stdout)
    assert sorted(rows) == sorted(ENGINES), out.stdout
    for engine, row in rows.items():
        assert row["same"] == "✓", (engine, row)
        assert row["result"] == "54 orders, $12,067.42", (engine, row)
        assert row["graflow"] == "8", (engine, row)
        assert int(row["tasks"]) >= 8, (engine, row)
        assert row["retries"] == "1 / 1", (engine, row)  # attempt counter / MLflow
        assert row["checkpoint"] == CHECKPOINT[engine], (engine, row)
        assert re.fullmatch(r"[0-9a-f]{8}", row["MLflow run"]), (engine, row)
    assert "every engine agrees with the native run" in out.stdout

    dag_file = scratch / "airflow-dags" / "flagship_etl.py"
    assert dag_file.exists(), out.stdout
    assert str(dag_file.relative_to(scratch)) in out.stdout or str(dag_file) in out.stdout
    migrated = scratch / "migrated" / "orders_etl.py"
    assert migrated.exists(), out.stdout
    assert "summary: 2 todo, 1 lossy, 1 info" in out.stdout
    assert "{'written': 2, 'total': 60.5}" in out.stdout  # the converted flow ran

    # The exported file is a DAG file Airflow loads: the workflow's tasks, one Airflow task each.
    airflow_env = engine_environment(scratch, tracking=False)  # the demo's Airflow home
    code = (
        "import runpy, sys; dag = runpy.run_path(sys.argv[1])['dag']; "
        "print(dag.dag_id, ' '.join(sorted(t.task_id for t in dag.tasks)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code, str(dag_file)],
        capture_output=True,
        text=True,
        timeout=300,
        env=airflow_env,
    )
    assert loaded.returncode == 0, loaded.stderr[-4000:]
    dag_id, *task_ids = loaded.stdout.splitlines()[-1].split()
    assert dag_id == "flagship_etl"
    assert set(etl.TASKS) <= set(task_ids)
