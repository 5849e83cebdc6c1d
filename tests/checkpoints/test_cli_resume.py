"""`graflow resume` refuses unverifiable checkpoints with one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_runner import assert_one_error_line as one_error_line
from cli_runner import run_graflow as graflow

FLOW = """
from graflow_core.core.decorators import task
from graflow_core.core.workflow import workflow

with workflow("resumable") as wf:
    @task(inject_context=True)
    def one(ctx):
        ctx.checkpoint(path="ck/run")
        return 20

    @task
    def two(one):
        return one + 1

    one >> two
"""


def _checkpoint(tmp_path: Path) -> Path:
    (tmp_path / "flow.py").write_text(FLOW)
    ran = graflow(tmp_path, "run", "flow.py")
    assert ran.returncode == 0, ran.stderr
    return tmp_path / "ck" / "run"


def test_resume_ok_and_via_file_url(tmp_path):
    base = _checkpoint(tmp_path)
    ok = graflow(tmp_path, "resume", "ck/run")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "21"
    ok = graflow(tmp_path, "resume", f"file://{base}")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "21"


def test_tampered_checkpoint_is_refused(tmp_path):
    base = _checkpoint(tmp_path)
    meta = Path(f"{base}.meta.json")
    meta.write_text(meta.read_text().replace('"steps": 1', '"steps": 0'))
    one_error_line(
        graflow(tmp_path, "resume", "ck/run"),
        2,
        "not a readable graflow checkpoint",
        "run.meta.json: refused",
        "modified or corrupted",
    )


def test_wrong_and_missing_key(tmp_path):
    _checkpoint(tmp_path)
    one_error_line(
        graflow(tmp_path, "resume", "ck/run", env={"GRAFLOW_SECRET_KEY": "w" * 40}),
        2,
        "signed with a different key",
    )
    env = {k: v for k, v in os.environ.items() if k != "GRAFLOW_SECRET_KEY"}
    proc = subprocess.run(
        [sys.executable, "-m", "graflow_core", "resume", "ck/run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    one_error_line(proc, 2, "GRAFLOW_SECRET_KEY is not set", "token_hex(32)")


def test_unknown_scheme(tmp_path):
    one_error_line(
        graflow(tmp_path, "resume", "nosuchfs://bucket/run"),
        2,
        "cannot resume",
        "no checkpoint store handles 'nosuchfs://'",
    )
