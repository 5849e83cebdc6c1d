"""docs/testing.md: its example project runs as printed, with the plugin loaded as users get it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<name>[\w.]+) -->\n```python\n(?P<code>.*?)```", re.S)


def _files() -> dict[str, str]:
    files: dict[str, str] = {}
    for match in FILE_BLOCK.finditer(DOC.read_text(encoding="utf-8")):
        files[match["name"]] = files.get(match["name"], "") + match["code"] + "\n"
    return files


def test_the_doc_has_example_files() -> None:
    files = _files()
    assert {"etl.py", "test_etl.py", "test_checkpoints.py", "test_plugins.py"} <= set(files)


def test_the_doc_examples_pass(pytester: pytest.Pytester) -> None:
    files = _files()
    for name, code in files.items():
        pytester.makepyfile(**{name[:-3]: code})
    expected = sum(code.count("\ndef test_") for name, code in files.items() if name[:5] == "test_")
    assert expected >= 9
    result = pytester.runpytest("-p", "no:randomly", "--strict-markers")
    result.assert_outcomes(passed=expected)


def test_the_documented_failure_message_is_real(pytester: pytest.Pytester) -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```text\n(AssertionError: .*?)```", text, re.S)
    assert block, "the doc shows no failure message"
    documented = " ".join(block[1].split())
    pytester.makepyfile(etl=_files()["etl.py"])
    pytester.makepyfile(
        """
        from etl import build_etl
        from graflow_core.testing import run_workflow

        def test_it():
            run_workflow(build_etl([1, -2])).assert_completed("report")
        """
    )
    out = pytester.runpytest().stdout.str()
    line = next(ln for ln in out.splitlines() if ln.startswith("E   ") and "AssertionError" in ln)
    actual = line[1:].strip()
    prefix = documented.split("...")[0].rstrip()
    assert actual.startswith(prefix), f"doc: {documented}\nreal: {actual}"
