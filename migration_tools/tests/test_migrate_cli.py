"""The ``graflow-migrate`` command as users run it: subprocesses, exit codes, report formats,
bad input (one error line, exit code 2, no traceback), and a cheap ``import graflow_migrate``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from graflow_migrate.report import JSON_SCHEMA
from migrate_test_helpers import ROOT, source_path


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graflow_migrate.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def assert_one_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("graflow-migrate: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_convert_to_file_with_text_report(tmp_path: Path) -> None:
    out = tmp_path / "etl.py"
    proc = run("prefect", str(source_path("prefect", "etl_retries")), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "summary: 2 todo, 1 lossy, 1 info" in proc.stdout
    assert "etl_retries.py:31: todo: @task(cache_key_fn=...)" in proc.stdout
    code = out.read_text()
    compile(code, str(out), "exec")
    assert "from graflow_core import RetryPolicy, task, workflow" in code


def test_json_report_to_file_matches_the_schema(tmp_path: Path) -> None:
    out, report = tmp_path / "x.py", tmp_path / "report.json"
    src = str(source_path("prefect", "etl_retries"))
    proc = run("prefect", src, "-o", str(out), "--report", str(report), "--format", "json")
    assert proc.returncode == 0 and proc.stdout == ""
    data = json.loads(report.read_text())
    assert set(JSON_SCHEMA["required"]) <= set(data)
    assert data["tool"] == "graflow-migrate" and data["frontend"] == "prefect"
    assert data["summary"]["todo"] == 2 and data["summary"]["converted"]["flow"] == 1
    item = JSON_SCHEMA["properties"]["findings"]["items"]
    for finding in data["findings"]:
        assert set(item["required"]) == set(finding)
        assert finding["severity"] in ("todo", "lossy", "info")
        assert finding["file"] == src and finding["line"] > 0
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema comes with the dev environment
        return
    jsonschema.validate(data, JSON_SCHEMA)


def test_without_output_code_goes_to_stdout_and_report_to_stderr() -> None:
    proc = run("airflow", str(source_path("airflow", "classic_python_operator")))
    assert proc.returncode == 0
    compile(proc.stdout, "<stdout>", "exec")
    assert "def build_weather_report():" in proc.stdout
    assert proc.stderr.startswith("graflow-migrate airflow: ")


def test_strict_exits_3_when_something_is_left_as_todo(tmp_path: Path) -> None:
    src = str(source_path("prefect", "etl_retries"))
    assert run("prefect", src, "-o", str(tmp_path / "a.py"), "--strict").returncode == 3
    clean = str(source_path("prefect", "parameters"))
    assert run("prefect", clean, "-o", str(tmp_path / "b.py"), "--strict").returncode == 0


def test_invalid_python_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("from prefect import flow\n\n@flow\ndef f(:\n    pass\n")
    proc = run("prefect", str(bad), "-o", str(tmp_path / "out.py"))
    assert_one_error_line(proc, f"{bad}:4:", "not valid Python")
    assert not (tmp_path / "out.py").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("prefect", "does/not/exist.py"), "no such file"),
        (("airflow", "."), "is a directory"),
        (("dagster", "x.py"), "invalid choice"),
        (("prefect",), "required"),
    ],
)
def test_bad_usage_is_one_error_line(args: tuple[str, ...], needle: str) -> None:
    assert_one_error_line(run(*args), needle)


def test_refuses_to_overwrite_the_source(tmp_path: Path) -> None:
    src = tmp_path / "flow.py"
    src.write_text("x = 1\n")
    assert_one_error_line(run("prefect", str(src), "-o", str(src)), "overwrite the source")
    assert src.read_text() == "x = 1\n"


def test_undecodable_file_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "latin.py"
    src.write_bytes(b"x = '\xff\xfe'\n")
    assert_one_error_line(run("prefect", str(src)), "cannot decode")


def test_import_is_cheap_and_help_does_not_load_libcst() -> None:
    code = (
        "import sys, graflow_migrate, graflow_migrate.cli\n"
        "heavy = [m for m in ('libcst', 'prefect', 'airflow') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    code = (
        "import sys\nfrom graflow_migrate.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('libcst' in sys.modules, 'prefect' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip().splitlines()[-1] == "False False"


def test_conversion_never_imports_the_orchestrators() -> None:
    code = (
        "import sys\nfrom graflow_migrate import migrate_file\n"
        f"migrate_file({str(source_path('prefect', 'fanout_map'))!r}, 'prefect')\n"
        f"migrate_file({str(source_path('airflow', 'taskflow_etl'))!r}, 'airflow')\n"
        "print([m for m in ('prefect', 'airflow') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "[]", proc.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("graflow-migrate")
    proc = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "prefect" in proc.stdout and "airflow" in proc.stdout
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("graflow-migrate 0.")


def test_latin1_source_stays_latin1(tmp_path: Path) -> None:
    src = tmp_path / "old.py"
    src.write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom prefect import flow, task\n\n\n@task\n"
        b"def greet(name: str) -> str:\n    return 'gr\xfc\xdf ' + name\n\n\n"
        b"@flow\ndef f(name: str = 'x'):\n    return greet(name)\n"
    )
    out = tmp_path / "new.py"
    assert run("prefect", str(src), "-o", str(out)).returncode == 0
    assert "grüß" in out.read_bytes().decode("latin-1")
    namespace: dict[str, object] = {}
    exec(compile(out.read_bytes(), str(out), "exec"), namespace)
    assert namespace["f"]() == "grüß x"  # type: ignore[operator]
