"""``graflow run FILE --on TARGET``: the real command, on the engine and on Dagster."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli_runner import assert_one_error_line as assert_error
from cli_runner import run_graflow as graflow

FLOW = """\
from graflow_core.core.decorators import task
from graflow_core.core.workflow import workflow

with workflow("small") as wf:
    @task
    def first(n: int = 2) -> int:
        return n * 10

    @task
    def second(first: int) -> int:
        if first > 100:
            raise ValueError(f"too big: {first}")
        return first + 1

    first >> second
"""


@pytest.fixture
def flow(tmp_path: Path) -> Path:
    (tmp_path / "small.py").write_text(textwrap.dedent(FLOW))
    return tmp_path


def test_on_graflow_prints_a_summary_then_the_result(flow: Path) -> None:
    proc = graflow(flow, "run", "small.py", "--on", "graflow", "--param", "n=3")
    assert proc.returncode == 0, proc.stderr
    summary, result = proc.stdout.splitlines()[-2:]
    assert result == "31"
    assert summary.startswith("ran on graflow: 2 native tasks (2 success) in ")
    assert ", run id " in summary


def test_on_dagster_runs_each_task_as_an_op(flow: Path) -> None:
    proc = graflow(flow, "run", "small.py", "--on", "dagster", "--param", "n=4", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["target"] == "dagster" and data["status"] == "succeeded"
    assert data["result"] == 41
    assert data["results"] == {"first": 40, "second": 41}
    assert data["native_tasks"] == 2
    assert set(data["states"].values()) == {"success"} and len(data["states"]) == 2
    assert data["run_id"] and data["wall_seconds"] > 0


def test_a_failure_on_dagster_is_one_error_line_naming_the_task(flow: Path) -> None:
    proc = graflow(flow, "run", "small.py", "--on", "dagster", "--param", "n=20")
    assert proc.returncode == 1
    summary = proc.stdout.splitlines()[-1]
    assert summary.startswith("ran on dagster: ") and "1 failed" in summary
    errors = [line for line in proc.stderr.splitlines() if line.startswith("graflow: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    assert "'second'" in errors[0] and "too big: 200" in errors[0]
    assert "(small.py:12)" in errors[0]  # the task's line, not the bridge code that called it
    assert errors[0].endswith("(on dagster)")


def test_an_error_raised_by_bridge_code_is_not_located_in_the_bridge(tmp_path: Path) -> None:
    (tmp_path / "needs.py").write_text(
        "from graflow_core import task, workflow\n"
        "with workflow('needs') as wf:\n"
        "    @task\n"
        "    def needs(m: int) -> int:\n"
        "        return m\n"
        "    needs\n"
    )
    proc = graflow(tmp_path, "run", "needs.py", "--on", "dagster")
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("graflow: error:")]
    assert len(errors) == 1, proc.stderr
    assert "missing 1 required positional argument: 'm'" in errors[0]
    assert "graflow_dagster" not in errors[0] and "render.py" not in errors[0], errors[0]


def test_an_empty_workflow_is_the_engines_error_on_every_target(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text(
        "from graflow_core import workflow\nwith workflow('empty') as wf:\n    pass\n"
    )
    proc = graflow(tmp_path, "run", "empty.py", "--on", "dagster")
    assert_error(proc, 2, "workflow 'empty' (empty.py) has no tasks")


def test_unknown_and_uninstalled_targets(flow: Path) -> None:
    assert_error(
        graflow(flow, "run", "small.py", "--on", "nope"), 2, "--on nope:", "Unknown target 'nope'"
    )
    # A known target whose bridge is not installed (here: disabled) names the pip extra.
    proc = graflow(
        flow, "run", "small.py", "--on", "prefect", env={"GRAFLOW_DISABLE_PLUGINS": "prefect"}
    )
    assert_error(proc, 2, "pip install graflow-prefect", "graflow-core[prefect]")
    assert_error(
        graflow(flow, "run", "small.py", "--on", "dagster", "--start", "second"),
        2,
        "--start and --max-steps work with the graflow engine only",
    )


@pytest.mark.slow
def test_on_airflow_json_keeps_stdout_for_the_json(flow: Path, tmp_path: Path) -> None:
    """Airflow logs to stdout while it sets up and runs: with --json that goes to stderr."""
    from graflow_airflow.local import local_environment

    env = {k: v for k, v in local_environment(tmp_path / "airflow-home").items()}
    proc = graflow(flow, "run", "small.py", "--on", "airflow", "--param", "n=1", "--json", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)  # nothing but the JSON
    assert data["target"] == "airflow" and data["result"] == 11
    assert data["results"] == {"first": 10, "second": 11}
    assert data["native_tasks"] == 2


def test_on_graflow_checks_the_start_node_like_a_plain_run(tmp_path: Path) -> None:
    (tmp_path / "two.py").write_text(
        "from graflow_core import task, workflow\n"
        "with workflow('two') as wf:\n"
        "    @task\n"
        "    def a() -> int:\n"
        "        return 1\n"
        "    @task\n"
        "    def b() -> int:\n"
        "        return 2\n"
        "    a\n"
        "    b\n"
    )
    plain = graflow(tmp_path, "run", "two.py")
    on = graflow(tmp_path, "run", "two.py", "--on", "graflow")
    assert plain.returncode == on.returncode == 2
    assert plain.stderr == on.stderr and "--start" in on.stderr
    assert graflow(tmp_path, "run", "two.py", "--on", "graflow", "--start", "b").stdout.endswith(
        "2\n"
    )


def test_json_output_when_stderr_is_not_a_file(flow: Path) -> None:
    import contextlib
    import io

    from graflow_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", str(flow / "small.py"), "--on", "graflow", "--json"])
    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue())["result"] == 21
