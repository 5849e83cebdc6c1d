"""End to end: `graflow export --to dagster`, then Dagster's own CLI loads and runs the module.

Each test exports a workflow with graflow's CLI, validates the definitions with
`dagster definitions validate`, executes the job with `dagster job execute` in a subprocess
against the session's persistent instance (temporary DAGSTER_HOME), and reads the run back
from that instance: its status, its step events and the payloads the IO manager stored.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _env(dagster_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DAGSTER_HOME"] = str(dagster_home)
    env["DAGSTER_DISABLE_TELEMETRY"] = "yes"
    env.pop("PYTHONPATH", None)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\n"
            f"stderr:\n{done.stderr[-5000:]}"
        )
    return done.stdout


def _export(target: str, out: Path, env: dict[str, str], cwd: Path, *options: str) -> Path:
    args = [str(BIN / "graflow"), "export", target, "--to", "dagster", "-o", str(out), "--json"]
    for opt in options:
        args += ["--option", opt]
    found = json.loads(_run(args, env, cwd))
    assert found["target"] == "dagster"
    (path,) = found["files"]
    return Path(path)


def _last_run(instance: DagsterInstance, job: str) -> Any:
    runs = instance.get_runs(filters=RunsFilter(job_name=job), limit=1)
    assert runs, f"no run of {job} in the instance"
    return runs[0]


def _payload(home: Path, run_id: str, step: str, output: str = "result") -> Any:
    with open(home / "storage" / run_id / step / output, "rb") as fh:
        return pickle.load(fh)


def test_export_validate_execute_best_effort(
    dagster_instance: DagsterInstance, dagster_home: Path, tmp_path: Path
) -> None:
    flow = tmp_path / "flows" / "my_flow.py"
    flow.parent.mkdir()
    flow.write_text("from graflow_core.testing.catalog import build_best_effort\n")
    env = _env(dagster_home)
    path = _export(
        f"{flow}:build_best_effort",
        tmp_path / "defs",
        env,
        tmp_path,
        'executor="in_process"',
        'tags={"team": "data"}',
    )
    text = path.read_text()
    assert "my_flow:build_best_effort" in text and str(flow.parent) in text
    _run([str(BIN / "dagster"), "definitions", "validate", "-f", str(path)], env, tmp_path)
    _run(
        [str(BIN / "dagster"), "job", "execute", "-f", str(path), "-j", "catalog_best_effort"],
        env,
        tmp_path,
    )
    run = _last_run(dagster_instance, "catalog_best_effort")
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["graflow/workflow"] == "catalog_best_effort"
    assert run.tags["team"] == "data"
    succeeded = {
        e.dagster_event.step_key  # type: ignore[union-attr]
        for e in dagster_instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_SUCCESS)
    }
    assert succeeded == {"prepare", "ok1", "bad", "ok2", "tolerant", "collect"}
    messages = [e.message for e in dagster_instance.all_logs(run.run_id)]
    assert any("step 'bad' of group 'tolerant' failed for good" in m for m in messages)
    from graflow_core.steps import StepOutput

    collect = StepOutput.from_payload(_payload(dagster_home, run.run_id, "collect"))
    assert collect.result == 12
    assert collect.workflow_run_id == run.run_id
    assert _payload(dagster_home, run.run_id, "bad")["format"] == "graflow-step-failed"


def test_multiprocess_execute_with_run_config(
    dagster_instance: DagsterInstance, dagster_home: Path, tmp_path: Path
) -> None:
    """The default (multiprocess) executor: every op in its own process, payloads via files."""
    env = _env(dagster_home)
    store = tmp_path / "values"
    path = _export(
        f"{HERE / 'dagster_test_flows.py'}:build_data_flow",
        tmp_path / "defs",
        env,
        tmp_path,
        f'store="{store}"',
        "inline_max=1024",  # numbers' list goes by reference between the op processes
    )
    config = tmp_path / "run.yaml"
    config.write_text(
        "resources:\n  graflow:\n    config:\n      params:\n        n: 2000\n        unit: pts\n"
    )
    _run(
        [
            str(BIN / "dagster"),
            "job",
            "execute",
            "-f",
            str(path),
            "-j",
            "data_flow",
            "-c",
            str(config),
        ],
        env,
        tmp_path,
    )
    run = _last_run(dagster_instance, "data_flow")
    assert run.status == DagsterRunStatus.SUCCESS
    starts = dagster_instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
    assert [e.dagster_event.step_key for e in starts] == ["numbers", "total", "summary"]  # type: ignore[union-attr]
    pids = {e.dagster_event.pid for e in starts}  # type: ignore[union-attr]
    assert len(pids) == 3  # one process per op
    from graflow_core.steps import StepOutput

    numbers = _payload(dagster_home, run.run_id, "numbers")
    assert numbers["state"]["numbers.__result__"][1] == "r"  # a reference into the store
    assert list(store.rglob("*"))
    summary = StepOutput.from_payload(_payload(dagster_home, run.run_id, "summary"))
    assert summary.result == f"{sum(range(2000))} pts"
    assert summary.results == {"summary": f"{sum(range(2000))} pts"}


def test_export_refuses_unknown_options(dagster_home: Path, tmp_path: Path) -> None:
    env = _env(dagster_home)
    args = [
        str(BIN / "graflow"),
        "export",
        f"{HERE / 'dagster_test_flows.py'}:build_data_flow",
        "--to",
        "dagster",
        "-o",
        str(tmp_path),
        "--option",
        "colour=blue",
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 2
    assert "unknown option(s) colour" in done.stderr
    assert "Traceback" not in done.stderr
