"""``graflow spec``, ``graflow preflight`` and ``graflow plugins``, run as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from cli_runner import run_graflow

from graflow_core.spec import WorkflowSpec

GRAFLOW = [sys.executable, "-m", "graflow_core"]

PIPELINE = textwrap.dedent(
    """
    from graflow_core import task, workflow
    from graflow_core.spec import Bridge, Capabilities, register_target

    register_target(
        Bridge(
            "static-only",
            Capabilities(
                "static-only",
                {"static_edges": "native", "next_task": ("error", "no runtime tasks")},
                default="native",
            ),
        ),
        replace=True,
    )

    @task
    def extract():
        return [1, 2, 3]

    @task(inject_context=True)
    def route(ctx, extract):
        if sum(extract) > 5:
            ctx.next_task(load)
        return "routed"

    @task
    def load():
        return "loaded"

    with workflow("pipeline", version="2.0") as wf:
        extract >> route
    """
)

LAMBDA = textwrap.dedent(
    """
    from graflow_core import task, workflow

    with workflow("bad") as wf:
        task(id="anon")(lambda: 1) >> task(id="anon2")(lambda: 2)
    """
)


def _graflow(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "", "GRAFLOW_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return run_graflow(tmp_path, *args, env=env, inherit_env=False)


def test_spec_prints_json_that_loads_back(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    out = _graflow(tmp_path, "spec", "pipeline.py")
    assert out.returncode == 0, out.stderr
    spec = WorkflowSpec.from_json(out.stdout)
    assert spec.name == "pipeline" and spec.version == "2.0"
    assert spec.start_node == "extract"
    assert [t.id for t in spec.tasks][:2] == ["extract", "route"]
    assert spec.task("route").ref == "pipeline:route"
    assert "next_task" in spec.task("route").features


def test_spec_writes_a_file(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    out = _graflow(tmp_path, "spec", "pipeline.py:wf", "-o", "out/spec.json")
    assert out.returncode == 0, out.stderr
    assert "wrote the spec of workflow 'pipeline'" in out.stdout
    assert WorkflowSpec.from_json((tmp_path / "out" / "spec.json").read_text()).name == "pipeline"


def test_unreferencable_tasks_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(LAMBDA)
    out = _graflow(tmp_path, "spec", "bad.py")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("graflow: error: workflow 'bad' (bad.py) cannot be described")
    assert "anon" in lines[0] and "anon2" in lines[0] and "lambda" in lines[0]


def test_preflight_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "pipeline.py").write_text(PIPELINE)
    ok = _graflow(tmp_path, "preflight", "pipeline.py", "--target", "graflow")
    assert ok.returncode == 0, ok.stderr
    assert "everything is supported natively" in ok.stdout

    blocked = _graflow(tmp_path, "preflight", "pipeline.py", "--target", "static-only", "--json")
    assert blocked.returncode == 1, blocked.stderr
    report = json.loads(blocked.stdout)
    assert report["ok"] is False
    assert any(
        f["feature"] == "next_task" and f["subject"] == "route" and f["severity"] == "error"
        for f in report["findings"]
    )

    unknown = _graflow(tmp_path, "preflight", "pipeline.py", "--target", "airflow")
    assert unknown.returncode == 2
    assert "pip install graflow-airflow" in unknown.stderr


def test_plugins_lists_targets(tmp_path: Path) -> None:
    out = _graflow(tmp_path, "plugins", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["plugins"] == []
    assert data["targets"]["graflow"] == "graflow-core"
