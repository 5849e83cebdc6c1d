from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _entry_points_loaded() -> None:
    """The graflow-metrics entry point is registered even if an earlier test of the session
    created the plugin manager with autoload off (explicit loading ignores that setting)."""
    from graflow_core.plugins import get_plugin_manager

    get_plugin_manager().load_entry_points()


@pytest.fixture
def registry():  # type: ignore[no-untyped-def]
    from prometheus_client import CollectorRegistry

    return CollectorRegistry()


@pytest.fixture
def served(registry) -> Iterator:  # type: ignore[no-untyped-def]
    """A MetricsPlugin on a fresh registry serving on a free port of 127.0.0.1."""
    from graflow_metrics import MetricsPlugin

    plugin = MetricsPlugin(registry=registry, port=0)
    try:
        yield plugin
    finally:
        plugin.close()


@pytest.fixture
def clean_health_checks() -> Iterator[None]:
    from graflow_metrics import health

    saved = health.registered_health_checks()
    for name in saved:
        health.unregister_health_check(name)
    try:
        yield
    finally:
        for name in health.registered_health_checks():
            health.unregister_health_check(name)
        for check in saved.values():
            health.register_health_check(check.name, check.fn, critical=check.critical)
