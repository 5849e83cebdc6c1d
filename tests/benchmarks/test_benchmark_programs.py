"""Keep the benchmark programs from rotting: run each once, tiny, against graflow_core.

These are not timing tests. Each program in ``benchmarks/programs/`` is written against Graflow's
API; here it is rewritten exactly as ``benchmarks/run.py`` does (import lines only) and run in a
fresh interpreter (this test's own, i.e. the project venv). The programs check their own results
(every task ran, every checkpoint key came back) and exit non-zero otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "benchmarks" / "run.py"


def _load_runner():
    spec = importlib.util.spec_from_file_location("_graflow_core_bench_runner", RUNNER)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


runner = _load_runner()


def _run(tmp_path: Path, program: str, *args: str) -> dict:
    path = runner.prepare_program(program, "graflow_core", tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run(
        [sys.executable, str(path), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{program} failed:\n{proc.stderr[-3000:]}"
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")]
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0][len("BENCH_RESULT ") :])
    module_file = result.get("module_file") or ""
    assert "graflow_core" in module_file, f"ran against the wrong package: {module_file}"
    return result


def test_rewrite_touches_import_lines_only() -> None:
    src = (
        "import json\n"
        "from graflow.core.decorators import task\n"
        "    from graflow import task, workflow\n"
        "import graflow\n"
        "import graflow as gf\n"
        "x = 'from graflow import nothing'  # graflow stays in strings/comments\n"
    )
    assert runner.rewrite_imports(src, "graflow_core") == (
        "import json\n"
        "from graflow_core.core.decorators import task\n"
        "    from graflow_core import task, workflow\n"
        "import graflow_core as graflow\n"
        "import graflow_core as gf\n"
        "x = 'from graflow import nothing'  # graflow stays in strings/comments\n"
    )
    assert runner.rewrite_imports(src, "graflow") == src
    with pytest.raises(ValueError):
        runner.rewrite_imports("import graflow.core\n", "graflow_core")


def test_every_program_is_covered() -> None:
    programs = {p.name for p in (ROOT / "benchmarks" / "programs").glob("*.py")}
    assert programs == {
        "chain.py",
        "parallel.py",
        "import_time.py",
        "checkpoint.py",
        "hooks.py",
        "spec_build.py",
    }


def test_spec_program(tmp_path: Path) -> None:
    r = _run(tmp_path, "spec_build.py", "40")
    assert r["n"] == 36 and r["build_s"] > 0 and r["preflight_s"] > 0


@pytest.mark.parametrize("mode", ["none", "observer", "host"])
def test_hooks_program(tmp_path: Path, mode: str) -> None:
    r = _run(tmp_path, "hooks.py", mode, "30")
    assert r["mode"] == mode and r["n"] == 30 and r["run_s"] > 0


def test_chain_program(tmp_path: Path) -> None:
    r = _run(tmp_path, "chain.py", "50")
    assert r["n"] == 50 and r["tasks_executed"] == 50
    assert r["run_s"] > 0 and r["build_s"] > 0 and r["peak_rss_mb"] > 0


def test_parallel_program(tmp_path: Path) -> None:
    r = _run(tmp_path, "parallel.py", "20")
    assert r["n"] == 20 and r["tasks_executed"] == 22  # src + 20 members + sink


@pytest.mark.parametrize("mode", ["package", "user"])
def test_import_program(tmp_path: Path, mode: str) -> None:
    r = _run(tmp_path, "import_time.py", mode)
    assert r["mode"] == mode and r["import_s"] >= 0


def test_checkpoint_program(tmp_path: Path) -> None:
    outdir = tmp_path / "ckpt"
    outdir.mkdir()
    r = _run(tmp_path, "checkpoint.py", "100", str(outdir))
    assert r["n"] == 100 and r["restored_keys"] == 100 and r["bytes"] > 0


def test_imports_bench_measures_an_integration() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "imports_bench.py"),
            "--runs",
            "1",
            "--only",
            "langchain",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")][-1]
    result = json.loads(line[len("BENCH_RESULT ") :])
    row = result["langchain"]
    assert row["package_imports_library"] is False
    assert row["library_ms"] > 0 and row["on_top_ms"] > 0 and row["package_ms"] > 0
    assert set(result) == {"runs", "graflow_core_ms", "langchain"}
    table = runner._import_table(result)
    assert any(ln.startswith("| langchain |") and "no ✅" in ln for ln in table)


def test_engines_bench_runs_the_example_and_renders_a_table() -> None:
    proc = subprocess.run(
        [
            *(sys.executable, str(ROOT / "benchmarks" / "engines_bench.py"), "--runs", "1"),
            *("--only", "graflow", "--only", "dagster"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")][-1]
    result = json.loads(line[len("BENCH_RESULT ") :])
    for engine in ("graflow", "dagster"):
        row = result[engine]
        assert "error" not in row, row
        assert row["graflow_tasks"] == 9 and row["native_tasks"] == 9 and row["wall_s"] > 0
    assert result["graflow"]["vs_graflow"] == 1.0
    table = runner._engines_table(result)
    assert [ln.split(" |")[0] for ln in table if ln.startswith("| ") and "engine" not in ln] == [
        "| graflow",
        "| dagster",
    ]
