"""Golden-file tests: every example under examples/migration converts to its checked-in output.

Regenerate the golden files after an intended change of the converters with::

    GRAFLOW_MIGRATE_REGEN=1 .venv/bin/pytest migration_tools/tests/test_migrate_golden.py

then review the diff (``git diff examples/migration``) before committing it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from graflow_migrate import migrate_source
from migrate_test_helpers import (
    CASES,
    REGEN_ENV,
    ROOT,
    golden_path,
    regenerate,
    relative,
    source_path,
)


def _convert(frontend: str, name: str) -> tuple[str, str]:
    # paths relative to the repository root, as the README's commands give them
    src = relative(source_path(frontend, name))
    out = relative(golden_path(frontend, name))
    text = (ROOT / src).read_text(encoding="utf-8")
    result = migrate_source(text, frontend, path=src, output=out)
    return result.code, result.report.to_text()


@pytest.mark.parametrize(("frontend", "name", "flow"), CASES, ids=[c[1] for c in CASES])
def test_example_matches_golden_file(frontend: str, name: str, flow: str) -> None:
    code, report = _convert(frontend, name)
    code_file = golden_path(frontend, name)
    report_file = golden_path(frontend, name, ".report.txt")
    if regenerate():
        code_file.parent.mkdir(parents=True, exist_ok=True)
        code_file.write_text(code, encoding="utf-8")
        report_file.write_text(report, encoding="utf-8")
    assert code_file.exists(), f"missing golden file; run with {REGEN_ENV}=1"
    assert code == code_file.read_text(encoding="utf-8"), (
        f"{relative(code_file)} differs from the converter's output; if the change is intended, "
        f"regenerate with {REGEN_ENV}=1 and review the diff"
    )
    assert report == report_file.read_text(encoding="utf-8")
    compile(code, str(code_file), "exec")
    assert f"def {flow}(" in code and f"def build_{flow}(" in code


def test_golden_files_are_ruff_clean() -> None:
    files = [str(golden_path(f, n)) for f, n, _ in CASES]
    ruff = ROOT / ".venv" / "bin" / "ruff"
    command = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    proc = subprocess.run(
        [*command, "check", "--no-cache", "--output-format", "concise", *files],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_golden_files_have_no_orchestrator_imports() -> None:
    for frontend, name, _ in CASES:
        code = golden_path(frontend, name).read_text(encoding="utf-8")
        assert f"import {frontend}" not in code and f"from {frontend}" not in code, name
        assert "from graflow_core import" in code
