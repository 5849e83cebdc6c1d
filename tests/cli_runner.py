"""Running the real ``graflow`` command in a subprocess, for the CLI tests of every folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_graflow(
    cwd: Path, *args: str, env: dict[str, str] | None = None, inherit_env: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -m graflow_core ARGS`` in ``cwd``; ``env`` is added to this process's
    environment, or with ``inherit_env=False`` is the whole environment."""
    base = {**os.environ, "PYTHONIOENCODING": "utf-8"} if inherit_env else {}
    return subprocess.run(
        [sys.executable, "-m", "graflow_core", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
    )


def assert_one_error_line(
    proc: subprocess.CompletedProcess[str], code: int, *fragments: str
) -> str:
    """The run failed with ``code`` and exactly one ``graflow: error:`` line (no traceback)
    containing every fragment; returns that line."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("graflow: error: ")
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in line, line
    return line
