"""CircuitBreaker: the state machine (on an injected clock), errors, threads, the registry."""

from __future__ import annotations

import contextlib
import pickle
import threading
import warnings
from types import SimpleNamespace

import pytest

from graflow_core.exceptions import ConfigError, GraflowRuntimeError
from graflow_core.resilience.circuit_breaker import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    CircuitBreaker,
    CircuitOpenError,
    UnknownCircuitBreakerError,
    circuit_breaker_for,
    get_circuit_breaker,
    register_circuit_breaker,
    registered_circuit_breakers,
    unregister_circuit_breaker,
)

pytestmark = pytest.mark.usefixtures("empty_breaker_registry")


class Down(ConnectionError):
    pass


def fail(message: str = "refused"):
    def body():
        raise Down(message)

    return body


def ok(value: object = "ok"):
    return lambda: value


def trip(breaker: CircuitBreaker, times: int, task_id: str = "charge") -> None:
    for _ in range(times):
        with pytest.raises(Down):
            breaker.call(fail(), task_id)


# -- the state machine ------------------------------------------------------------------------


def test_opens_after_threshold_consecutive_failures(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=3, recovery_timeout=10, clock=clock)
    assert breaker.state == CLOSED
    trip(breaker, 2)
    assert (breaker.state, breaker.failure_count) == (CLOSED, 2)
    trip(breaker, 1)
    assert (breaker.state, breaker.failure_count) == (OPEN, 3)


def test_a_success_resets_the_consecutive_count(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=3, clock=clock)
    trip(breaker, 2)
    assert breaker.call(ok(7), "charge") == 7
    assert breaker.failure_count == 0
    trip(breaker, 2)
    assert breaker.state == CLOSED


def test_open_circuit_fails_fast_without_running_the_body(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=2, recovery_timeout=30, clock=clock)
    trip(breaker, 2)
    ran = []
    clock.advance(12)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: ran.append(1), "charge")
    assert ran == []
    err = info.value
    assert isinstance(err, GraflowRuntimeError)
    assert (err.breaker_name, err.task_id, err.failure_count) == ("api", "charge", 2)
    assert isinstance(err.last_error, Down)
    assert err.retry_after == pytest.approx(18.0)
    text = str(err)
    for part in ("'api'", "task 'charge'", "2 failure(s)", "Down: refused", "18.0s", "reset()"):
        assert part in text, (part, text)


def test_half_open_after_recovery_timeout_then_success_closes(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=1, recovery_timeout=5, clock=clock)
    trip(breaker, 1)
    clock.advance(4.99)
    assert breaker.state == OPEN
    assert breaker.retry_after() == pytest.approx(0.01)
    clock.advance(0.01)
    assert breaker.state == HALF_OPEN
    assert breaker.call(ok("back"), "charge") == "back"
    assert (breaker.state, breaker.failure_count) == (CLOSED, 0)


def test_failed_trial_reopens_for_another_recovery_timeout(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=2, recovery_timeout=5, clock=clock)
    trip(breaker, 2)
    clock.advance(5)
    with pytest.raises(Down):
        breaker.call(fail("still down"), "charge")
    assert breaker.state == OPEN
    clock.advance(4)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(ok(), "charge")
    assert info.value.retry_after == pytest.approx(1.0)
    assert "still down" in str(info.value)
    assert info.value.failure_count == 3  # consecutive failures since it last closed
    clock.advance(1)
    assert breaker.state == HALF_OPEN


def test_half_open_admits_only_half_open_max_calls_trials(clock) -> None:
    breaker = CircuitBreaker(
        "api", failure_threshold=1, recovery_timeout=1, half_open_max_calls=2, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)
    rejected: list[CircuitOpenError] = []

    def third() -> str:
        with pytest.raises(CircuitOpenError) as info:
            breaker.call(ok(), "c")
        rejected.append(info.value)
        return "second"

    # trial 1 is running while trial 2 starts, and trial 2 is running when a third arrives
    assert breaker.call(lambda: breaker.call(third, "b"), "a") == "second"
    assert len(rejected) == 1
    assert "trial calls are already running" in str(rejected[0])
    assert breaker.state == CLOSED


def test_window_mode_counts_failures_within_the_window(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=3, failure_window=10, clock=clock)
    trip(breaker, 2)
    breaker.call(ok(), "t")  # successes do not reset the window count
    assert breaker.failure_count == 2
    clock.advance(10)  # the first two expire
    trip(breaker, 2)
    assert (breaker.state, breaker.failure_count) == (CLOSED, 2)
    clock.advance(5)
    trip(breaker, 1)
    assert breaker.state == OPEN


def test_expected_and_excluded_exceptions(clock) -> None:
    breaker = CircuitBreaker(
        "api",
        failure_threshold=1,
        expected_exceptions=(ConnectionError, TimeoutError),
        excluded_exceptions=ConnectionRefusedError,
        clock=clock,
    )

    def raise_(exc: Exception):
        def body():
            raise exc

        return body

    with pytest.raises(ValueError):
        breaker.call(raise_(ValueError("bad input")), "t")
    with pytest.raises(ConnectionRefusedError):
        breaker.call(raise_(ConnectionRefusedError("excluded")), "t")
    assert (breaker.state, breaker.failure_count) == (CLOSED, 0)
    with pytest.raises(TimeoutError):
        breaker.call(raise_(TimeoutError("slow")), "t")
    assert breaker.state == OPEN


def test_error_that_does_not_count_frees_the_trial_slot(clock) -> None:
    breaker = CircuitBreaker(
        "api", failure_threshold=1, recovery_timeout=1, expected_exceptions=Down, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)
    with pytest.raises(KeyError):
        breaker.call(lambda: {}["x"], "t")
    assert breaker.state == HALF_OPEN
    assert breaker.call(ok(1), "t") == 1
    assert breaker.state == CLOSED


def test_reset_closes_and_forgets(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=1, recovery_timeout=60, clock=clock)
    trip(breaker, 1)
    breaker.reset()
    assert (breaker.state, breaker.failure_count, breaker.retry_after()) == (CLOSED, 0, 0.0)
    assert breaker.call(ok(2), "t") == 2


def test_outcome_of_a_call_that_started_before_a_state_change_is_ignored(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=2, recovery_timeout=60, clock=clock)

    def slow_success() -> str:
        trip(breaker, 2)  # meanwhile, other calls open the circuit
        return "late"

    assert breaker.call(slow_success, "t") == "late"
    assert breaker.state == OPEN  # the late success did not close it


def test_late_failure_of_a_call_from_before_a_state_change_is_not_counted(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=2, recovery_timeout=5, clock=clock)

    def slow_failure() -> None:
        trip(breaker, 2)  # meanwhile: opened ...
        clock.advance(5)
        breaker.call(ok(), "other")  # ... half-opened and closed again by a good trial
        raise Down("late")

    with pytest.raises(Down, match="late"):
        breaker.call(slow_failure, "t")
    assert (breaker.state, breaker.failure_count) == (CLOSED, 0)


def test_trial_that_fails_after_a_reset_does_not_reopen(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=1, recovery_timeout=5, clock=clock)
    trip(breaker, 1)
    clock.advance(5)

    def trial() -> None:
        breaker.reset()
        raise Down("after reset")

    with pytest.raises(Down):
        breaker.call(trial, "t")
    assert (breaker.state, breaker.failure_count) == (CLOSED, 0)


def test_state_change_listeners_see_every_transition(clock) -> None:
    seen: list[tuple[str, str, str]] = []
    breaker = CircuitBreaker(
        "api",
        failure_threshold=1,
        recovery_timeout=1,
        clock=clock,
        on_state_change=lambda b, old, new: seen.append((b.name, old, new)),
    )
    extra: list[str] = []
    breaker.add_listener(lambda b, old, new: extra.append(new))
    trip(breaker, 1)
    clock.advance(1)
    with pytest.raises(Down):
        breaker.call(fail(), "t")
    clock.advance(1)
    breaker.call(ok(), "t")
    breaker.reset()  # already closed: no event
    assert seen == [
        ("api", CLOSED, OPEN),
        ("api", OPEN, HALF_OPEN),
        ("api", HALF_OPEN, OPEN),
        ("api", OPEN, HALF_OPEN),
        ("api", HALF_OPEN, CLOSED),
    ]
    assert extra == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_a_failing_listener_warns_and_the_call_goes_on(clock) -> None:
    def broken(b, old, new):
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker("api", failure_threshold=1, clock=clock, on_state_change=[broken])
    with pytest.warns(RuntimeWarning, match="listener bug"), pytest.raises(Down):
        breaker.call(fail(), "t")
    assert breaker.state == OPEN


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"recovery_timeout": -1}, "recovery_timeout"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
        ({"failure_window": 0}, "failure_window"),
        ({"expected_exceptions": (ValueError, "x")}, "expected_exceptions"),
    ],
)
def test_bad_configuration_is_a_config_error(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        CircuitBreaker("api", **kwargs)


def test_pickles_its_configuration_and_starts_closed(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=1, recovery_timeout=9, clock=clock)
    trip(breaker, 1)
    copy = pickle.loads(pickle.dumps(breaker))
    assert (copy.name, copy.failure_threshold, copy.recovery_timeout) == ("api", 1, 9.0)
    assert copy.state == CLOSED
    trip(copy, 1)
    assert copy.state == OPEN


# -- threads ----------------------------------------------------------------------------------


def test_failure_count_is_exact_under_many_threads() -> None:
    breaker = CircuitBreaker("api", failure_threshold=100_000)
    threads_n, calls = 16, 400
    start = threading.Barrier(threads_n)

    def worker() -> None:
        start.wait()
        for _ in range(calls):
            with contextlib.suppress(Down):
                breaker.call(fail(), "t")

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert breaker.failure_count == threads_n * calls


def test_opens_exactly_once_under_concurrent_failures() -> None:
    events: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        "api",
        failure_threshold=50,
        recovery_timeout=3600,
        on_state_change=lambda b, old, new: events.append((old, new)),
    )
    threads_n = 16
    start = threading.Barrier(threads_n)
    fast_failed = []

    def worker() -> None:
        start.wait()
        for _ in range(100):
            try:
                breaker.call(fail(), "t")
            except Down:
                pass
            except CircuitOpenError:
                fast_failed.append(1)

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert events == [(CLOSED, OPEN)]
    assert breaker.state == OPEN
    assert breaker.failure_count == 50
    assert len(fast_failed) >= threads_n * 100 - 50 - threads_n  # at most one in flight each


def test_half_open_trial_limit_holds_across_threads(clock) -> None:
    breaker = CircuitBreaker(
        "api", failure_threshold=1, recovery_timeout=1, half_open_max_calls=3, clock=clock
    )
    trip(breaker, 1)
    clock.advance(1)
    release = threading.Event()
    entered: list[int] = []
    rejected: list[int] = []
    lock = threading.Lock()

    def body() -> str:
        with lock:
            entered.append(1)
        assert release.wait(10)
        return "ok"

    def worker() -> None:
        try:
            breaker.call(body, "t")
        except CircuitOpenError:
            with lock:
                rejected.append(1)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for _ in range(1000):
        with lock:
            if len(entered) + len(rejected) == 10 or (len(entered) == 3 and len(rejected) == 7):
                break
        threading.Event().wait(0.005)
    release.set()
    for t in threads:
        t.join()
    assert (len(entered), len(rejected)) == (3, 7)
    assert breaker.state == CLOSED


# -- registry ---------------------------------------------------------------------------------


def test_register_and_get_by_name() -> None:
    breaker = register_circuit_breaker(CircuitBreaker("payments-api"))
    assert get_circuit_breaker("payments-api") is breaker
    assert registered_circuit_breakers() == {"payments-api": breaker}
    replacement = register_circuit_breaker(CircuitBreaker("payments-api"))
    assert get_circuit_breaker("payments-api") is replacement  # last registration wins
    unregister_circuit_breaker("payments-api")
    with pytest.raises(UnknownCircuitBreakerError):
        get_circuit_breaker("payments-api")


def test_unnamed_breaker_cannot_be_registered_by_name() -> None:
    with pytest.raises(ConfigError, match="no name"):
        register_circuit_breaker(CircuitBreaker())


def test_circuit_breaker_for_resolution_order() -> None:
    own = CircuitBreaker("own")
    named = register_circuit_breaker(CircuitBreaker("payments-api"))
    http = register_circuit_breaker(CircuitBreaker("http-default"), task_type="http")
    task = SimpleNamespace(task_id="t", circuit_breaker=None, task_type=None)
    assert circuit_breaker_for(task) is None
    task.task_type = "http"
    assert circuit_breaker_for(task) is http
    task.task_type = "sql"
    assert circuit_breaker_for(task) is None
    task.circuit_breaker = "payments-api"
    task.task_type = "http"
    assert circuit_breaker_for(task) is named  # the task's own setting wins over its type
    task.circuit_breaker = own
    assert circuit_breaker_for(task) is own
    assert circuit_breaker_for(object()) is None


def test_register_a_named_breaker_for_a_task_type() -> None:
    named = register_circuit_breaker(CircuitBreaker("payments-api"))
    assert register_circuit_breaker("payments-api", task_type="http") is named
    assert circuit_breaker_for(SimpleNamespace(task_type="http")) is named
    unregister_circuit_breaker(task_type="http")
    assert circuit_breaker_for(SimpleNamespace(task_type="http")) is None
    with pytest.raises(UnknownCircuitBreakerError, match="'nope'"):
        register_circuit_breaker("nope", task_type="http")


def test_unknown_name_names_the_task_and_the_registered_breakers() -> None:
    register_circuit_breaker(CircuitBreaker("payments-api"))
    register_circuit_breaker(CircuitBreaker("geo"))
    task = SimpleNamespace(task_id="charge", circuit_breaker="payment-api", task_type=None)
    with pytest.raises(UnknownCircuitBreakerError) as info:
        circuit_breaker_for(task)
    assert isinstance(info.value, ConfigError)
    text = str(info.value)
    assert "Task 'charge'" in text
    assert "'payment-api'" in text
    assert "'geo', 'payments-api'" in text


def test_listener_failures_do_not_leak_warnings_when_none(clock) -> None:
    breaker = CircuitBreaker("api", failure_threshold=1, clock=clock)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trip(breaker, 1)
