"""The documented example runs as a script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "langchain" / "research_assistant.py"


def test_research_assistant_example_runs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAFLOW_DISABLE_PLUGIN")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=180, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "owls: 3 facts; fr: Les hiboux chassent la nuit."
    tree = "\n".join(lines)
    for nested in ("  - research", "    - ParallelGroup_1", "      - sentences", "    - notes"):
        assert nested in tree, tree
    assert lines[-1] == "direct run: bats - 3 facts"
