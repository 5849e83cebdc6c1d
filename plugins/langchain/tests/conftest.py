from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _entry_points_loaded() -> None:
    """The graflow-langchain entry point is registered even if an earlier test of the session
    created the plugin manager with autoload off (explicit loading ignores that setting)."""
    from graflow_core.plugins import get_plugin_manager

    get_plugin_manager().load_entry_points()
