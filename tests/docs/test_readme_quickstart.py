"""The README's quick start must run as printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _newcomer_env() -> dict[str, str]:
    """The environment of someone who has set nothing up: no signing key, no opt-out."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GRAFLOW_") and k not in ("PYTHONPATH", "PYTHONHOME")
    }


def test_readme_quick_start_runs_and_prints_the_documented_result(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", readme, re.S)
    assert match, "README has no python block"
    script = tmp_path / "quickstart.py"
    script.write_text(match.group(1), encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=_newcomer_env(),
    )
    assert out.stdout.strip() == "total=6 max=3"


def test_checkpoint_demo_runs_and_resumes_identically() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "checkpoint_demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=_newcomer_env(),
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "tasks run after resume  : ['report']" in out.stdout
    assert "identical to step 1     : True" in out.stdout
