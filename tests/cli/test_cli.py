"""The ``graflow`` command, run as a subprocess on small workflow files."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from cli_runner import assert_one_error_line as assert_error
from cli_runner import run_graflow as graflow

GRAFLOW_SCRIPT = Path(sys.executable).parent / "graflow"
HEADER = """\
from graflow_core.core.decorators import task
from graflow_core.core.workflow import workflow
"""

ETL = (
    HEADER
    + """
with workflow("etl") as wf:
    @task
    def extract():
        return [1, 2, 3]

    @task
    def transform(extract):
        return [x * 10 for x in extract]

    @task
    def load(transform):
        return sum(transform)

    extract >> transform >> load

if __name__ == "__main__":
    print("MAIN BLOCK RAN")
"""
)

FAILING = (
    HEADER
    + """
with workflow("bad") as wf:
    @task
    def first():
        return 1

    @task
    def second(first):
        raise ValueError(f"cannot handle {first}")

    first >> second
"""
)


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


# --- graflow run: success -------------------------------------------------------------------


def test_run_prints_the_result_and_skips_the_main_block(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    proc = graflow(tmp_path, "run", "etl.py")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "60\n"
    assert proc.stderr == ""


@pytest.mark.skipif(not GRAFLOW_SCRIPT.exists(), reason="console script not installed")
def test_console_script(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    proc = subprocess.run(
        [str(GRAFLOW_SCRIPT), "run", "etl.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (0, "60\n"), proc.stderr


def test_run_json_includes_each_tasks_result(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    proc = graflow(tmp_path, "run", "etl.py", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["workflow"] == "etl"
    assert data["status"] == "succeeded"
    assert data["result"] == 60
    assert data["completed_tasks"] == ["extract", "transform", "load"]
    assert data["results"] == {"extract": [1, 2, 3], "transform": [10, 20, 30], "load": 60}


def test_params_are_json_or_strings_in_the_channel(tmp_path: Path) -> None:
    write(
        tmp_path,
        "params.py",
        HEADER
        + """
with workflow("params") as wf:
    @task
    def show(n, name, flag, items, text):
        return (n, name, flag, items, text)
""",
    )
    proc = graflow(
        tmp_path,
        "run",
        "params.py",
        "--param",
        "n=3",
        "--param",
        "name=bob",
        "--param",
        "flag=true",
        "--param",
        'items=[1, "x"]',
        "--param",
        "text=a=b",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "(3, 'bob', True, [1, 'x'], 'a=b')\n"


def test_start_and_object_selection(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    proc = graflow(tmp_path, "run", "etl.py:wf", "--start", "transform", "--param", "extract=[5]")
    assert (proc.returncode, proc.stdout) == (0, "50\n"), proc.stderr


def test_several_workflows_need_an_object_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        "two.py",
        HEADER
        + """
with workflow("one") as first:
    @task
    def a():
        return "A"

with workflow("two") as second:
    @task
    def b():
        return "B"
""",
    )
    assert_error(
        graflow(tmp_path, "run", "two.py"),
        2,
        "two.py: several workflows found (first, second)",
        "two.py:first",
    )
    proc = graflow(tmp_path, "run", "two.py:second")
    assert (proc.returncode, proc.stdout) == (0, "'B'\n"), proc.stderr


def test_object_may_be_a_factory_function(tmp_path: Path) -> None:
    write(
        tmp_path,
        "factory.py",
        HEADER
        + """
def build():
    with workflow("built") as wf:
        @task
        def only():
            return 42
    return wf

def not_a_workflow():
    return 1
""",
    )
    proc = graflow(tmp_path, "run", "factory.py:build")
    assert (proc.returncode, proc.stdout) == (0, "42\n"), proc.stderr
    assert_error(
        graflow(tmp_path, "run", "factory.py:not_a_workflow"),
        2,
        "factory.py:not_a_workflow: not_a_workflow() returned int, not a workflow",
    )
    assert_error(graflow(tmp_path, "run", "factory.py"), 2, "factory.py: no workflow found")


def test_the_files_directory_is_importable(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    write(tmp_path / "flows", "helpers.py", "FACTOR = 7\n")
    write(
        tmp_path / "flows",
        "uses_helper.py",
        HEADER
        + """
from helpers import FACTOR

with workflow("h") as wf:
    @task
    def only():
        return FACTOR * 6
""",
    )
    proc = graflow(tmp_path, "run", "flows/uses_helper.py")
    assert (proc.returncode, proc.stdout) == (0, "42\n"), proc.stderr


# --- graflow run: errors --------------------------------------------------------------------


def test_workflow_failure_names_task_file_line_and_error(tmp_path: Path) -> None:
    write(tmp_path, "failing.py", FAILING)
    line = assert_error(
        graflow(tmp_path, "run", "failing.py"),
        1,
        "workflow 'bad' failed in task 'second'",
        "(failing.py:11)",
        "ValueError: cannot handle 1",
    )
    assert "An error occurred" not in line


def test_workflow_failure_with_json_and_traceback(tmp_path: Path) -> None:
    write(tmp_path, "failing.py", FAILING)
    proc = graflow(tmp_path, "run", "failing.py", "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["status"] == "failed"
    assert data["completed_tasks"] == ["first"]
    assert "ValueError: cannot handle 1" in data["error"]["message"]

    proc = graflow(tmp_path, "run", "failing.py", "--traceback")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("graflow: error: workflow 'bad' failed")


def test_runaway_loop_fails(tmp_path: Path) -> None:
    write(
        tmp_path,
        "loop.py",
        HEADER
        + """
with workflow("loop") as wf:
    @task
    def ping():
        return 1

    @task
    def pong():
        return 2

    ping >> pong >> ping
""",
    )
    assert_error(
        graflow(tmp_path, "run", "loop.py", "--start", "ping", "--max-steps", "5"),
        1,
        "workflow 'loop' failed",
    )


def test_file_not_found(tmp_path: Path) -> None:
    assert_error(graflow(tmp_path, "run", "missing.py"), 2, "missing.py: file not found")
    assert_error(graflow(tmp_path, "run", "missing.py:wf"), 2, "missing.py: file not found")
    assert_error(graflow(tmp_path, "visualize", "."), 2, "is a directory")


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "broken.py", "x = 1\n\ndef f(:\n    pass\n")
    assert_error(graflow(tmp_path, "run", "broken.py"), 2, "broken.py:3: syntax error")


def test_exception_while_importing_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "raises.py", HEADER + "\nVALUE = 1\nRESULT = VALUE / 0\n")
    assert_error(
        graflow(tmp_path, "run", "raises.py"),
        2,
        "raises.py:5: ZeroDivisionError: division by zero",
        "while importing raises.py",
    )


def test_duplicate_task_while_importing(tmp_path: Path) -> None:
    write(
        tmp_path,
        "dup.py",
        HEADER
        + """
with workflow("dup") as wf:
    @task(id="same")
    def a():
        return 1

    @task(id="same")
    def b():
        return 2
""",
    )
    assert_error(graflow(tmp_path, "run", "dup.py"), 2, "dup.py:", "DuplicateTaskError", "same")


def test_sys_exit_while_importing(tmp_path: Path) -> None:
    write(tmp_path, "exits.py", "import sys\nsys.exit(3)\n")
    assert_error(graflow(tmp_path, "run", "exits.py"), 2, "exits.py:2:", "sys.exit(3)")


def test_module_name_already_taken(tmp_path: Path) -> None:
    # (In a subdirectory: ``python -m`` puts the working directory on sys.path.)
    (tmp_path / "flows").mkdir()
    write(tmp_path / "flows", "argparse.py", ETL)
    assert_error(
        graflow(tmp_path, "run", "flows/argparse.py"),
        2,
        "flows/argparse.py: its module name 'argparse' is already taken",
        "rename the file",
    )


def test_no_workflow_found(tmp_path: Path) -> None:
    write(tmp_path, "empty.py", "X = 1\n")
    assert_error(graflow(tmp_path, "run", "empty.py"), 2, "empty.py: no workflow found")


def test_unknown_object(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    assert_error(
        graflow(tmp_path, "run", "etl.py:nope"),
        2,
        "etl.py:nope: 'nope' is not defined in etl.py; workflows defined there: wf",
    )


def test_unknown_start_task_lists_known_ids(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    assert_error(
        graflow(tmp_path, "run", "etl.py", "--start", "nope"),
        2,
        "unknown start task 'nope' in workflow 'etl'",
        "'extract', 'transform', 'load'",
    )


def test_ambiguous_start(tmp_path: Path) -> None:
    write(
        tmp_path,
        "twostarts.py",
        HEADER
        + """
with workflow("two starts") as wf:
    @task
    def a():
        return 1

    @task
    def b():
        return 2
""",
    )
    assert_error(
        graflow(tmp_path, "run", "twostarts.py"),
        2,
        "2 tasks without predecessors ('a', 'b')",
        "--start ID",
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "etl.py", "--param", "novalue"], "bad --param 'novalue'"),
        (["run", "etl.py", "--param", "=1"], "bad --param '=1'"),
        (["run", "etl.py", "--max-steps", "0"], "bad --max-steps 0"),
        (["run", "etl.py", "--max-steps", "many"], "invalid int value"),
        (["run"], "the following arguments are required"),
        ([], "the following arguments are required: COMMAND"),
        (["explode"], "invalid choice"),
        (["visualize", "etl.py", "--format", "svg"], "invalid choice"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], fragment: str) -> None:
    write(tmp_path, "etl.py", ETL)
    assert_error(graflow(tmp_path, *args), 2, fragment)


def test_keyboard_interrupt_exits_130(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    write(
        tmp_path,
        "slow.py",
        HEADER
        + f"""
import time
from pathlib import Path

with workflow("slow") as wf:
    @task
    def wait():
        Path({str(marker)!r}).write_text("x")
        time.sleep(60)
""",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "graflow_core", "run", "slow.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline, "the task never started"
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert stderr == "graflow: error: interrupted\n"


# --- graflow visualize and help -------------------------------------------------------------


def test_visualize_ascii_and_mermaid(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    proc = graflow(tmp_path, "visualize", "etl.py")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [i for i, line in enumerate(lines) if "│ extract │" in line] < [
        i for i, line in enumerate(lines) if "│ load │" in line
    ]
    assert "MAIN BLOCK RAN" not in proc.stdout

    proc = graflow(tmp_path, "visualize", "etl.py:wf", "--format", "mermaid")
    assert proc.returncode == 0, proc.stderr
    assert "flowchart TD\n" in proc.stdout
    assert "    extract --> transform\n    transform --> load\n" in proc.stdout


def test_visualize_falls_back_to_ascii_characters(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", ETL)
    proc = graflow(tmp_path, "visualize", "etl.py", env={"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii()
    assert "| extract |" in proc.stdout


def test_help_documents_exit_codes(tmp_path: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["visualize", "--help"]):
        proc = graflow(tmp_path, *args)
        assert proc.returncode == 0
        assert "exit codes:" in proc.stdout
        assert "130" in proc.stdout
    proc = graflow(tmp_path, "--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("graflow-core ")


def test_parallel_group_failure_and_member_results(tmp_path: Path) -> None:
    write(
        tmp_path,
        "groups.py",
        HEADER
        + """
import os

with workflow("groups") as wf:
    @task
    def begin():
        return 1

    @task
    def good():
        return "ok"

    @task
    def other():
        if os.environ.get("FAIL_MEMBER"):
            raise RuntimeError("member exploded")
        return "fine"

    @task
    def finish():
        return 2

    begin >> (good | other) >> finish
""",
    )
    proc = graflow(tmp_path, "run", "groups.py", "--json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert {k: results[k] for k in ("begin", "good", "other", "finish")} == {
        "begin": 1,
        "good": "ok",
        "other": "fine",
        "finish": 2,
    }
    assert_error(
        graflow(tmp_path, "run", "groups.py", env={"FAIL_MEMBER": "1"}),
        1,
        "workflow 'groups' failed in parallel group 'ParallelGroup_1'",
        "other: member exploded",
    )


# --- graflow resume -------------------------------------------------------------------------

CRASHING = (
    HEADER
    + """
import os
from graflow_core.core.context import TaskExecutionContext

with workflow("crashy") as wf:
    @task(inject_context=True)
    def one(ctx: TaskExecutionContext):
        ctx.checkpoint(path="ck/run")
        return 20

    @task
    def two(one):
        if os.environ.get("CRASH_IN_TWO"):
            os._exit(9)  # like kill -9, after the checkpoint was written
        return one + 1

    one >> two
"""
)


def test_resume_continues_a_killed_run_after_its_checkpoint(tmp_path: Path) -> None:
    write(tmp_path, "crashy.py", CRASHING)
    killed = graflow(tmp_path, "run", "crashy.py", env={"CRASH_IN_TWO": "1"})
    assert killed.returncode == 9
    assert sorted(p.name for p in (tmp_path / "ck").iterdir()) == [
        "run.meta.json",
        "run.pkl",
        "run.state.json",
    ]
    resumed = graflow(tmp_path, "resume", "ck/run", "--json")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["result"] == 21
    assert data["resumed_tasks"] == ["two"]
    assert data["completed_tasks"] == ["one", "two"]


def test_resume_from_elsewhere_needs_the_code_directory(tmp_path: Path) -> None:
    write(tmp_path, "crashy.py", CRASHING)
    graflow(tmp_path, "run", "crashy.py", env={"CRASH_IN_TWO": "1"})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    checkpoint = str(tmp_path / "ck" / "run.pkl")
    assert_error(graflow(elsewhere, "resume", checkpoint), 2, "'crashy'", "--path")
    ok = graflow(elsewhere, "resume", checkpoint, "--path", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "21"


def test_resume_missing_or_broken_checkpoint(tmp_path: Path) -> None:
    assert_error(graflow(tmp_path, "resume", "nope"), 2, "nope.pkl", "nope.state.json")
    for suffix, text in ((".pkl", "not a pickle"), (".state.json", "{}"), (".meta.json", "{}")):
        (tmp_path / f"bad{suffix}").write_text(text)
    assert_error(graflow(tmp_path, "resume", "bad"), 2, "not a readable graflow checkpoint")
