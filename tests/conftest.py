"""Shared fixtures for the graflow_core test-suite."""

from __future__ import annotations

import pytest


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
