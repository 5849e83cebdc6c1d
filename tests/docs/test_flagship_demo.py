"""The flagship demo (README's main command): the ETL workflow's numbers, and the whole demo
end to end on the real engines (Airflow, Prefect, Dagster, MLflow; nothing mocked)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

from flagship import etl  # noqa: E402

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
    airflow_home = scratch / "airflow"
    airflow_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PREFECT_"))
    } | {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
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
