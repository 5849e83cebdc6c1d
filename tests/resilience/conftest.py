"""Fixtures for the resilience tests: a signing key, an importable module of tasks, a manual
clock and an empty circuit-breaker registry."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from resilience_helpers import Clock

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


@pytest.fixture
def clock() -> Clock:
    """A manual clock to pass as ``CircuitBreaker(clock=...)`` (it pickles with the breaker)."""
    return Clock()


@pytest.fixture
def empty_breaker_registry() -> Iterator[None]:
    """The test starts with an empty registry; other tests' registrations come back after."""
    from graflow_core.resilience import circuit_breaker as cb

    saved = (dict(cb._by_name), dict(cb._by_type))
    cb.clear_circuit_breakers()
    yield
    cb.clear_circuit_breakers()
    cb._by_name.update(saved[0])
    cb._by_type.update(saved[1])
