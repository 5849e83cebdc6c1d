"""Fixtures for the resilience tests: a signing key, an importable module of tasks."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

SECRET = "resilience-tests-" + "k" * 32

TASKS_SOURCE = '''
from pathlib import Path

from graflow_core import task, workflow
from graflow_core.core.retry import RetryPolicy


@task
def fetch():
    return {"order": 42, "amount": 9.5}


@task
def charge(fetch, flag):
    """Fails until the file ``flag`` exists (the 'fix' of the outage)."""
    if not Path(flag).exists():
        raise ConnectionError(f"payments down for order {fetch['order']}")
    return f"charged {fetch['order']}"


@task(retry_policy=RetryPolicy(max_retries=2, initial_interval=0))
def charge_with_retries(fetch, flag):
    if not Path(flag).exists():
        raise ConnectionError("still down")
    return "charged"


def build(store, flag, *, charge_task=None, channel=None):
    with workflow("billing", dead_letter_store=store) as wf:
        fetch >> (charge_task or charge)
    return wf, {"flag": str(flag), **(channel or {})}
'''


@pytest.fixture(autouse=True)
def signing_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", SECRET)
    monkeypatch.delenv("GRAFLOW_SECRET_KEY_FALLBACKS", raising=False)
    monkeypatch.delenv("GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS", raising=False)
    return SECRET


@pytest.fixture
def make_module(tmp_path: Path) -> Iterator[Callable[[str], ModuleType]]:
    """Write source to an importable module with a unique name; yield a factory."""
    created: list[str] = []
    sys.path.insert(0, str(tmp_path))

    def make(source: str = TASKS_SOURCE) -> ModuleType:
        import importlib

        name = f"dl_tasks_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        created.append(name)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield make
    sys.path.remove(str(tmp_path))
    for name in created:
        sys.modules.pop(name, None)
