"""docs/bridges.md, section 6 (static targets): the example runs as printed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _section() -> str:
    text = (ROOT / "docs" / "bridges.md").read_text(encoding="utf-8")
    start = text.index("## 6. Static targets")
    return text[start : text.index("\n## 7", start)]


def test_static_targets_example_runs_as_printed(capsys):
    blocks = re.findall(r"```python\n(.*?)```", _section(), re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "docs/bridges.md", "exec"), {"__name__": "static_guide"})
    out = capsys.readouterr().out
    assert "['reject'] notified: approved 250" in out
    assert "('decide', (), ('approve', 'reject'))" in out


def test_spec_page_points_to_the_section():
    spec = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    assert "bridges.md#6-static-targets-one-native-task-per-graflow-task" in spec
