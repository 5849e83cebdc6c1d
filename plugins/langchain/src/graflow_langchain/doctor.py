"""``graflow doctor`` checks of graflow-langchain: langchain-core importable and recent enough,
and LangSmith tracing configured consistently (tracing on needs an API key)."""

from __future__ import annotations

import os

from graflow_core.diagnostics import Check
from graflow_core.plugins import env_flag

AREA = "langchain"
#: The oldest langchain-core graflow-langchain supports.
MIN_VERSION = (1, 0)


def diagnose() -> list[Check]:
    """The checks: ``import langchain_core`` and its version; LangSmith tracing."""
    return [_core_check(), _tracing_check()]


def _core_check() -> Check:
    import re

    try:
        import langchain_core
    except Exception as exc:
        return Check(
            AREA,
            "import langchain_core",
            "fail",
            f"import langchain_core failed: {type(exc).__name__}: {exc}",
            'pip install "graflow-core[langchain]"',
        )
    version = str(getattr(langchain_core, "__version__", "?"))
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:2])
    if numbers and numbers < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        return Check(
            AREA,
            "import langchain_core",
            "fail",
            f"{version} imported; graflow-langchain needs >={wanted}",
            f'pip install --upgrade "langchain-core>={wanted}"',
        )
    return Check(AREA, "import langchain_core", "ok", f"{version} imports")


def _tracing_check() -> Check:
    tracing = env_flag("LANGSMITH_TRACING") or env_flag("LANGCHAIN_TRACING_V2")
    if not tracing:
        return Check(AREA, "tracing", "ok", "LangSmith tracing off (runs stay local)")
    if any(os.environ.get(k, "").strip() for k in ("LANGSMITH_API_KEY", "LANGCHAIN_API_KEY")):
        return Check(AREA, "tracing", "ok", "LangSmith tracing on, API key set")
    return Check(
        AREA,
        "tracing",
        "warn",
        "LangSmith tracing on without LANGSMITH_API_KEY: traces cannot be uploaded",
        "set LANGSMITH_API_KEY, or LANGSMITH_TRACING=false",
    )


__all__ = ["diagnose"]
