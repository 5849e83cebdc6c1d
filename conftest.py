"""Settings shared by every test directory (core tests/, bridges/, plugins/, migration_tools/)."""

from __future__ import annotations

import os

import pytest

# Checkpoints are signed (graflow_core.signing); the suite runs with a fixed test key.
# Subprocesses started by tests inherit it through the environment.
os.environ.setdefault("GRAFLOW_SECRET_KEY", "graflow-test-key-" + "0123456789abcdef" * 3)


def _clear_workflow_context() -> None:
    try:
        from graflow_core.core.workflow import clear_workflow_context
    except ImportError:  # pragma: no cover - the core is not importable yet
        return
    clear_workflow_context()


@pytest.fixture(autouse=True)
def _fresh_workflow_context():
    """Every test starts and ends without a current workflow context."""
    _clear_workflow_context()
    yield
    _clear_workflow_context()
