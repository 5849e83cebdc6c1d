"""pytest fixtures for running graflow workflows on Dagster in tests (loaded through ``pytest11``).

Installing graflow-dagster makes these fixtures available in every pytest session:

``dagster_instance`` (session scope)
    A real, persistent :class:`dagster.DagsterInstance` in a temporary ``DAGSTER_HOME`` (SQLite
    run, event-log and schedule storage), with telemetry off. Pass it to
    ``job.execute_in_process(instance=dagster_instance)`` so that runs and their events are
    stored and can be inspected (``dagster_instance.all_logs(run_id)``,
    ``dagster_instance.get_run_by_id(run_id)``). The environment variables are set when the
    fixture starts and restored when the session ends.

``dagster_memory_instance`` (session scope)
    An ephemeral, in-memory :class:`dagster.DagsterInstance` (``DagsterInstance.ephemeral()``):
    events are kept in memory (``all_logs(run_id)`` works) and nothing is written, so a run
    costs ~0.2 s instead of ~1 s with SQLite storage. Use it where the run's records need not
    outlive the process (most tests); use ``dagster_instance`` for Dagster's CLI.

``dagster_home`` (session scope)
    The temporary ``DAGSTER_HOME`` directory of ``dagster_instance`` (a :class:`pathlib.Path`),
    for running Dagster's CLI in a subprocess against the same instance.

Nothing here imports Dagster until a fixture is used, so loading the plugin costs nothing in test
sessions that do not use Dagster.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dagster import DagsterInstance

#: Environment set while the ``dagster_instance`` fixture is active (``DAGSTER_HOME`` is added).
DAGSTER_TEST_ENV = {"DAGSTER_DISABLE_TELEMETRY": "yes"}


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary ``DAGSTER_HOME`` directory for this test session."""
    return tmp_path_factory.mktemp("dagster_home")


@pytest.fixture(scope="session")
def dagster_instance(dagster_home: Path) -> Iterator[DagsterInstance]:
    """A persistent Dagster instance in a temporary ``DAGSTER_HOME`` (telemetry off).

    Use it with ``job.execute_in_process(instance=dagster_instance)``; the run's events are
    then in ``dagster_instance.all_logs(result.run_id)``.
    """
    with pytest.MonkeyPatch.context() as patch:  # restores the environment afterwards
        for key, value in {**DAGSTER_TEST_ENV, "DAGSTER_HOME": str(dagster_home)}.items():
            patch.setenv(key, value)
        from dagster import instance_for_test

        overrides: dict[str, Any] = {"telemetry": {"enabled": False}}
        with instance_for_test(overrides=overrides, temp_dir=str(dagster_home)) as instance:
            yield instance


@pytest.fixture(scope="session")
def dagster_memory_instance() -> Iterator[DagsterInstance]:
    """An in-memory Dagster instance (fast; nothing written to disk; telemetry off)."""
    with pytest.MonkeyPatch.context() as patch:  # restores the environment afterwards
        for key, value in DAGSTER_TEST_ENV.items():
            patch.setenv(key, value)
        from dagster import DagsterInstance

        with DagsterInstance.ephemeral() as instance:
            yield instance
