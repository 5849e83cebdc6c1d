"""Fixtures and hypothesis profiles of the cross-engine conformance suite (docs/conformance.md).

Profiles (``GRAFLOW_CONFORMANCE_PROFILE``):

``ci`` (default): ``conformance-ci`` -- derandomised (the same workflows every run), few
    examples, no deadline: the suite stays within its time budget on a 2-core machine.
``long``: ``conformance-long`` -- random workflows drawn afresh, many more of them; run by hand
    (``GRAFLOW_CONFORMANCE_PROFILE=long python -m pytest tests/conformance``).

The orchestrators are set up once per session by their bridges' own fixtures (``airflow_env``,
``prefect_server``, ``dagster_memory_instance``), and only for the engines a selected test uses.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# The random-workflow strategies (tests/spec) and the step tests' helpers are reused, not copied.
_TESTS = Path(__file__).resolve().parent.parent
for _folder in (_TESTS / "spec", _TESTS / "steps", Path(__file__).resolve().parent):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "conformance-ci",
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=_SUPPRESS,
)
settings.register_profile(
    "conformance-long",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SUPPRESS,
)


_names = itertools.count()


@pytest.fixture(scope="session")
def run_on_engine(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """``run_on_engine(engine, workflow, params)`` -> ``TargetRun`` through ``run_on``.

    The engine's session fixture is requested on first use, so a test selecting only some
    engines sets up only those orchestrators.
    """
    from graflow_core.spec.target_run import run_on

    def options(engine: str) -> dict[str, Any]:
        if engine == "airflow":
            request.getfixturevalue("airflow_env")
            return {"dag_id": f"conformance_{next(_names)}"}
        if engine == "prefect":
            request.getfixturevalue("prefect_server")
        if engine == "dagster":
            return {"instance": request.getfixturevalue("dagster_memory_instance")}
        return {}

    def run(engine: str, workflow: Any, params: dict[str, Any]) -> Any:
        return run_on(engine, workflow, params, **options(engine))

    yield run
