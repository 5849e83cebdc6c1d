"""docs/resilience.md shows real output: the fail-fast message and the CLI's table header."""

from __future__ import annotations

import re
from pathlib import Path

from graflow_core.resilience.circuit_breaker import CircuitOpenError

DOC = Path(__file__).resolve().parents[2] / "docs" / "resilience.md"


def test_documented_circuit_open_message_is_the_real_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"```\n(Circuit breaker 'payments-api' is open.*?)```", text, re.S)
    assert match, "docs/resilience.md lost the CircuitOpenError example"
    documented = " ".join(match.group(1).split())
    real = str(
        CircuitOpenError(
            "payments-api", "charge", 5, ConnectionError("connection refused"), 18.2, 30.0
        )
    )
    assert documented == real


def test_documented_list_header_is_the_real_one() -> None:
    text = DOC.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("ID "))
    assert header.split() == ["ID", "STATUS", "TASK", "WORKFLOW", "ATTEMPTS", "REPLAYABLE", "ERROR"]
