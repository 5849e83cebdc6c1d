"""Fixtures of the spec tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _sample_registrations():
    """The sample module's task type and breaker, registered again (other tests clear them)."""
    import spec_sample_tasks as s

    from graflow_core.core.task_types import register_task_type
    from graflow_core.resilience.circuit_breaker import register_circuit_breaker

    register_task_type(s.EchoType(), replace=True)
    register_circuit_breaker(s.BREAKER)
    yield
