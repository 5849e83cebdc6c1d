"""Per-attempt timeouts: @task(timeout=...)."""

from __future__ import annotations

import threading
import time

import pytest

from graflow_core import RetryPolicy, task, workflow
from graflow_core.exceptions import ConfigError, GraflowRuntimeError, TaskTimeoutError


def test_slow_task_times_out_with_a_clear_error():
    release = threading.Event()
    with workflow("slow") as wf:

        @task(timeout=0.05)
        def slow():
            release.wait(5)
            return "late"

    started = time.perf_counter()
    with pytest.raises(TaskTimeoutError, match=r"Task 'slow' timed out after 0.05 s") as info:
        wf.execute()
    release.set()
    assert time.perf_counter() - started < 2
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, GraflowRuntimeError)


def test_fast_task_with_timeout_returns_and_sees_its_context():
    with workflow("fast") as wf:

        @task
        def first():
            return 20

        @task(timeout=5, inject_context=True)
        def second(ctx, first):
            assert ctx.task_id == "second"
            ctx.get_channel().set("seen", first)
            return first + 1

        first >> second

    result, ctx = wf.execute(ret_context=True)
    assert result == 21
    assert ctx.channel.get("seen") == 20


def test_timed_out_attempt_is_retried():
    attempts = []
    with workflow("retry-timeout") as wf:

        @task(timeout=0.05, retry_policy=RetryPolicy(max_retries=1, initial_interval=0))
        def sometimes_slow():
            attempts.append(1)
            if len(attempts) == 1:
                time.sleep(0.5)
            return len(attempts)

    assert wf.execute() == 2


def test_errors_inside_timed_task_propagate_unchanged():
    with workflow("err") as wf:

        @task(timeout=1)
        def broken():
            raise ValueError("bad value")

    with pytest.raises(GraflowRuntimeError, match="bad value") as info:
        wf.execute()
    assert isinstance(info.value.cause, ValueError)


@pytest.mark.parametrize("bad", [0, -1, "5", True])
def test_invalid_timeouts_are_rejected(bad):
    with pytest.raises(ConfigError, match="timeout must be a number of seconds > 0"):
        task(id="t", timeout=bad)(lambda: 1)


def test_timeouts_count_as_circuit_breaker_failures():
    from graflow_core.resilience.circuit_breaker import CircuitBreaker, CircuitOpenError

    breaker = CircuitBreaker("slow-api", failure_threshold=1, recovery_timeout=60)
    release = threading.Event()
    with workflow("guarded") as wf:

        @task(timeout=0.05, circuit_breaker=breaker)
        def call_api():
            release.wait(5)
            return "late"

    with pytest.raises(TaskTimeoutError):
        wf.execute()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        wf.execute()
    release.set()
