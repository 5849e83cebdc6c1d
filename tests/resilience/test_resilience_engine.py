"""Circuit breakers and dead letters inside real workflow runs (the engine's wiring)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from graflow_core import parallel, task, workflow
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task_types import TaskType, register_task_type, unregister_task_type
from graflow_core.exceptions import ConfigError, GraflowRuntimeError, RetryLimitExceededError
from graflow_core.resilience.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    CircuitOpenError,
    UnknownCircuitBreakerError,
    register_circuit_breaker,
)
from graflow_core.resilience.dead_letter import DeadLetterStore

pytestmark = pytest.mark.usefixtures("empty_breaker_registry")


def chain_of(breaker: object, calls: list[str], outcome: dict[str, object]):
    """A workflow start >> call_api where call_api is guarded by ``breaker``."""
    with workflow("api") as wf:

        @task
        def start() -> int:
            return 1

        @task(circuit_breaker=breaker)
        def call_api(start: int) -> str:
            calls.append("call_api")
            error = outcome.get("error")
            if isinstance(error, BaseException):
                raise error
            return "ok"

        start >> call_api
    return wf


def root_error(exc: BaseException) -> BaseException:
    return getattr(exc, "cause", None) or exc


def test_breaker_opens_across_runs_and_fails_fast(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=2, recovery_timeout=30, clock=clock)
    calls: list[str] = []
    outcome: dict[str, object] = {"error": ConnectionError("down")}
    wf = chain_of(breaker, calls, outcome)

    for _ in range(2):
        with pytest.raises(GraflowRuntimeError) as info:
            wf.execute()
        assert isinstance(root_error(info.value), ConnectionError)
    assert breaker.state == OPEN
    assert len(calls) == 2

    clock.advance(10)
    with pytest.raises(CircuitOpenError) as fast:
        wf.execute()
    assert len(calls) == 2  # the body did not run
    assert fast.value.task_id == "call_api"
    assert fast.value.retry_after == pytest.approx(20)

    clock.advance(20)  # 30 s after the circuit opened
    outcome["error"] = None
    assert wf.execute() == "ok"  # the half-open trial succeeds
    assert breaker.state == CLOSED


def test_breaker_by_registered_name(clock) -> None:
    breaker = register_circuit_breaker(
        CircuitBreaker("payments-api", failure_threshold=1, clock=clock)
    )
    calls: list[str] = []
    wf = chain_of("payments-api", calls, {"error": TimeoutError("slow")})
    with pytest.raises(GraflowRuntimeError):
        wf.execute()
    assert breaker.state == OPEN
    with pytest.raises(CircuitOpenError, match="'payments-api'"):
        wf.execute()
    assert len(calls) == 1


def test_unknown_breaker_name_fails_the_run_naming_the_task() -> None:
    register_circuit_breaker(CircuitBreaker("payments-api"))
    calls: list[str] = []
    wf = chain_of("payment-api", calls, {})
    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute()
    chain = [info.value, root_error(info.value)]
    error = next(e for e in chain if isinstance(e, UnknownCircuitBreakerError))
    assert isinstance(error, ConfigError)
    assert "Task 'call_api'" in str(error) and "'payments-api'" in str(error)
    assert calls == []


def test_breaker_registered_for_a_task_type(clock) -> None:
    class Http(TaskType):
        name = "resilience-test-http"

    register_task_type(Http(), replace=True)
    try:
        breaker = register_circuit_breaker(
            CircuitBreaker("http", failure_threshold=1, clock=clock), task_type=Http.name
        )
        calls: list[str] = []
        with workflow("typed") as wf:

            @task(type=Http.name)
            def get_page() -> str:
                calls.append("get")
                raise ConnectionError("no route")

        with pytest.raises(GraflowRuntimeError):
            wf.execute()
        assert breaker.state == OPEN
        with pytest.raises(CircuitOpenError, match="task 'get_page'"):
            wf.execute()
        assert calls == ["get"]
    finally:
        unregister_task_type(Http.name)


def test_retries_while_open_fail_fast_and_use_up_the_budget() -> None:
    breaker = CircuitBreaker("api", failure_threshold=2, recovery_timeout=3600)
    calls: list[str] = []
    with workflow("retrying") as wf:

        @task(circuit_breaker=breaker, retry_policy=RetryPolicy(max_retries=4, initial_interval=0))
        def flaky() -> None:
            calls.append("x")
            raise ConnectionError("down")

    with pytest.raises(RetryLimitExceededError) as info:
        wf.execute()
    assert len(calls) == 2  # attempts 3..5 failed fast
    assert isinstance(info.value.last_error, CircuitOpenError)


def test_retry_delay_at_least_recovery_timeout_makes_the_retry_the_trial() -> None:
    states: list[str] = []
    breaker = CircuitBreaker(
        "api",
        failure_threshold=1,
        recovery_timeout=0.05,
        on_state_change=lambda b, old, new: states.append(new),
    )
    calls: list[int] = []
    with workflow("recovering") as wf:

        @task(
            circuit_breaker=breaker,
            retry_policy=RetryPolicy(max_retries=1, initial_interval=0.06),
        )
        def flaky() -> str:
            calls.append(1)
            if len(calls) == 1:
                raise ConnectionError("blip")
            return "recovered"

    assert wf.execute() == "recovered"
    assert states == [OPEN, HALF_OPEN, CLOSED]


def test_parallel_members_share_a_breaker_safely() -> None:
    opened = []
    breaker = CircuitBreaker(
        "shared",
        failure_threshold=3,
        recovery_timeout=3600,
        on_state_change=lambda b, old, new: opened.append(new),
    )
    bodies: list[int] = []
    lock = threading.Lock()
    with workflow("fanout") as wf:
        members = []
        for i in range(16):

            @task(id=f"m{i}", circuit_breaker=breaker)
            def member() -> None:
                with lock:
                    bodies.append(1)
                raise ConnectionError("down")

            members.append(member)
        parallel(*members).with_execution(
            backend="threading", backend_config={"thread_count": 4}, policy="best_effort"
        )
    wf.execute()
    assert opened == [OPEN]
    assert breaker.state == OPEN
    assert 3 <= len(bodies) <= 3 + 4  # at most one call in flight per thread when it opened


def test_fast_failed_task_lands_in_the_dead_letter_store(tmp_path: Path) -> None:
    breaker = CircuitBreaker("api", failure_threshold=1, recovery_timeout=3600)
    store = DeadLetterStore(tmp_path / "dl")
    calls: list[str] = []
    with workflow("guarded", dead_letter_store=store) as wf:

        @task(circuit_breaker=breaker)
        def call_api(order: int = 0) -> str:
            calls.append("x")
            raise ConnectionError("down")

    for _ in range(2):
        with pytest.raises(GraflowRuntimeError):
            wf.execute(initial_channel={"order": 7})
    first, second = store.list()
    assert first.error_type == "ConnectionError"
    assert second.error_type == "graflow_core.resilience.circuit_breaker.CircuitOpenError"
    assert "Circuit breaker 'api' is open" in second.error_message
    assert second.inputs_repr == {"order": "7"}
    assert calls == ["x"]
