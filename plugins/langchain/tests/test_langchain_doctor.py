"""graflow-langchain's ``graflow doctor`` checks."""

from __future__ import annotations

import pytest
from graflow_langchain.doctor import diagnose


def test_langchain_core_imports_and_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    import langchain_core

    for name in (
        "LANGSMITH_TRACING",
        "LANGCHAIN_TRACING_V2",
        "LANGSMITH_API_KEY",
        "LANGCHAIN_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    core, tracing = diagnose()
    assert (core.status, core.detail) == ("ok", f"{langchain_core.__version__} imports")
    assert tracing.status == "ok"
    monkeypatch.setenv("LANGSMITH_TRACING", "true")
    tracing = diagnose()[1]
    assert tracing.status == "warn" and "LANGSMITH_API_KEY" in tracing.fix
    monkeypatch.setenv("LANGSMITH_API_KEY", "k")
    assert diagnose()[1].status == "ok"


def test_the_entry_point_object_implements_the_hook() -> None:
    from graflow_langchain.plugin import plugin

    assert [c.name for c in plugin.diagnose()] == ["import langchain_core", "tracing"]
