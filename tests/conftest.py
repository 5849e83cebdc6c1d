"""Shared fixtures for the graflow_core test-suite."""

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


@pytest.fixture
def chdir_tmp(tmp_path, monkeypatch):
    """Run the test inside its own temporary directory (checkpoint files land there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def pm(monkeypatch):
    """A fresh process-wide plugin manager without entry-point plugins (reset again after)."""
    from graflow_core.plugins import get_plugin_manager, reset_plugin_manager

    monkeypatch.setenv("GRAFLOW_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.delenv("GRAFLOW_DISABLE_PLUGINS", raising=False)
    reset_plugin_manager()
    yield get_plugin_manager()
    reset_plugin_manager()
