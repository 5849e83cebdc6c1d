"""Circuit breakers: stop calling a failing dependency for a while instead of hammering it.

A :class:`CircuitBreaker` wraps task bodies (``breaker.call(invoke, task_id)``, which the
engine does for tasks declared with ``@task(circuit_breaker=...)`` or whose task type has a
breaker registered).  States:

* **closed** -- calls run.  Each failure that counts (see ``expected_exceptions``) is
  recorded; ``failure_threshold`` of them *in a row* open the circuit (a success resets the
  count).  With ``failure_window=seconds`` the rule is instead "``failure_threshold``
  failures within the last ``failure_window`` seconds", successes notwithstanding.
* **open** -- calls fail fast with :class:`CircuitOpenError`, without running the body, until
  ``recovery_timeout`` seconds have passed since the circuit opened.
* **half-open** -- up to ``half_open_max_calls`` trial calls may run at the same time (more
  fail fast).  A trial that succeeds closes the circuit; a trial that fails opens it again
  for another ``recovery_timeout``.

Breakers are thread-safe (parallel-group members run in threads) and use a monotonic clock,
injectable with ``clock=`` so tests need no sleeps.  Named breakers live in a process-wide
registry; :func:`circuit_breaker_for` resolves the breaker of a task.  See
``docs/resilience.md``.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from graflow_core.exceptions import ConfigError, GraflowRuntimeError, describe_error

__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "CircuitBreaker",
    "CircuitOpenError",
    "StateChangeListener",
    "UnknownCircuitBreakerError",
    "circuit_breaker_for",
    "clear_circuit_breakers",
    "get_circuit_breaker",
    "register_circuit_breaker",
    "registered_circuit_breakers",
    "unregister_circuit_breaker",
]

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"

StateChangeListener = Callable[["CircuitBreaker", str, str], None]
"""``listener(breaker, old_state, new_state)``, called after every state change."""


def _describe_error(error: BaseException | None) -> str:
    return "none" if error is None else describe_error(error)


class CircuitOpenError(GraflowRuntimeError):
    """A task was not run because its circuit breaker is open (fail fast).

    Attributes: ``breaker_name``, ``task_id``, ``failure_count`` (the failures that opened
    the circuit), ``last_error`` (the last of them) and ``retry_after`` (seconds until the
    circuit half-opens and lets a trial call through; 0 when trial calls are already
    running).
    """

    def __init__(
        self,
        breaker_name: str,
        task_id: str | None,
        failure_count: int,
        last_error: BaseException | None,
        retry_after: float,
        recovery_timeout: float,
        half_open_busy: bool = False,
        half_open_max_calls: int = 1,
    ) -> None:
        who = f"task '{task_id}'" if task_id is not None else "the call"
        if half_open_busy:
            when = "Its trial calls are already running (half-open); retry once they finish"
        else:
            when = (
                f"It half-opens in {retry_after:.1f}s (recovery_timeout={recovery_timeout:g}s)"
                f" and then lets {half_open_max_calls} trial call(s) through"
            )
        super().__init__(
            f"Circuit breaker '{breaker_name}' is open: {who} was not run. The circuit "
            f"opened after {failure_count} failure(s); last error: "
            f"{_describe_error(last_error)}. {when}. Fix the failing dependency, or close "
            f"the circuit now with get_circuit_breaker('{breaker_name}').reset()."
        )
        self.breaker_name = breaker_name
        self.task_id = task_id
        self.failure_count = failure_count
        self.last_error = last_error
        self.retry_after = retry_after


class UnknownCircuitBreakerError(ConfigError):
    """A task names a circuit breaker that is not registered."""

    def __init__(self, name: str, task_id: str | None, known: Iterable[str]) -> None:
        listed = ", ".join(repr(k) for k in sorted(known)) or "none"
        who = f"Task '{task_id}' uses" if task_id is not None else "Asked for"
        super().__init__(
            f"{who} circuit breaker '{name}', which is not registered (registered: "
            f"{listed}). Register it before the run with "
            f"register_circuit_breaker(CircuitBreaker('{name}', ...))."
        )
        self.name = name
        self.task_id = task_id


class CircuitBreaker:
    """Fail fast while a dependency is down; see the module docstring for the states.

    Args:
        name: how the breaker is named in errors and in the registry (default: ``"unnamed"``;
            a name is required to register it).
        failure_threshold: failures that open the circuit (>= 1).
        recovery_timeout: seconds the circuit stays open before it half-opens (>= 0).
        half_open_max_calls: trial calls allowed at the same time while half-open (>= 1).
        failure_window: ``None`` (default): count *consecutive* failures.  A number of
            seconds: count failures within that sliding window instead.
        expected_exceptions: the exception classes that count as failures (default: every
            ``Exception``).  Other errors propagate without touching the breaker.
        excluded_exceptions: classes that never count, even if they match
            ``expected_exceptions`` (e.g. a ``ValueError`` for bad input is not an outage).
        clock: a zero-argument function returning seconds (default ``time.monotonic``).
        on_state_change: a listener or a list of listeners ``(breaker, old, new)``.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        failure_threshold: int = 5,
        recovery_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        failure_window: float | None = None,
        expected_exceptions: type[BaseException] | tuple[type[BaseException], ...] = Exception,
        excluded_exceptions: type[BaseException] | tuple[type[BaseException], ...] = (),
        clock: Callable[[], float] = time.monotonic,
        on_state_change: StateChangeListener | Iterable[StateChangeListener] | None = None,
    ) -> None:
        label = f"CircuitBreaker({name!r})" if name is not None else "CircuitBreaker"
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigError(f"{label}: name must be a non-empty string, got {name!r}")
        if not isinstance(failure_threshold, int) or failure_threshold < 1:
            raise ConfigError(
                f"{label}: failure_threshold must be an int >= 1, got {failure_threshold!r}"
            )
        if not isinstance(recovery_timeout, (int, float)) or recovery_timeout < 0:
            raise ConfigError(
                f"{label}: recovery_timeout must be a number of seconds >= 0, "
                f"got {recovery_timeout!r}"
            )
        if not isinstance(half_open_max_calls, int) or half_open_max_calls < 1:
            raise ConfigError(
                f"{label}: half_open_max_calls must be an int >= 1, got {half_open_max_calls!r}"
            )
        if failure_window is not None and (
            not isinstance(failure_window, (int, float)) or failure_window <= 0
        ):
            raise ConfigError(
                f"{label}: failure_window must be None (consecutive failures) or a number of "
                f"seconds > 0, got {failure_window!r}"
            )
        self.name = name if name is not None else "unnamed"
        self.failure_threshold = failure_threshold
        self.recovery_timeout = float(recovery_timeout)
        self.half_open_max_calls = half_open_max_calls
        self.failure_window = None if failure_window is None else float(failure_window)
        self.expected_exceptions = _exception_tuple(label, "expected", expected_exceptions)
        self.excluded_exceptions = _exception_tuple(label, "excluded", excluded_exceptions)
        self.clock = clock
        self._listeners: list[StateChangeListener] = []
        if on_state_change is not None:
            if callable(on_state_change):
                self._listeners.append(on_state_change)
            else:
                self._listeners.extend(on_state_change)
        self._lock = threading.Lock()
        self._init_state()

    def _init_state(self) -> None:
        self._state = CLOSED
        self._failures: deque[float] = deque()  # failure times (window mode) or one per failure
        self._consecutive = 0
        self._opened_at = 0.0
        self._opened_with = 0  # failure count that opened the circuit
        self._last_error: BaseException | None = None
        self._half_open_in_flight = 0
        self._generation = 0  # bumped on every state change; stale call results are ignored

    # -- observation ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half_open"`` (open turns half-open on time)."""
        with self._lock:
            events = self._refresh(self.clock())
            state = self._state
        self._notify(events)
        return state

    @property
    def failure_count(self) -> int:
        """Failures counted towards opening (while open: the count that opened it)."""
        with self._lock:
            if self._state != CLOSED:
                return self._opened_with
            if self.failure_window is None:
                return self._consecutive
            self._expire(self.clock())
            return len(self._failures)

    @property
    def last_error(self) -> BaseException | None:
        """The last failure that counted."""
        return self._last_error

    def retry_after(self) -> float:
        """Seconds until an open circuit half-opens (0 when it is not open)."""
        with self._lock:
            if self._state != OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.recovery_timeout - self.clock())

    def add_listener(self, listener: StateChangeListener) -> None:
        """Call ``listener(breaker, old_state, new_state)`` after every state change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: StateChangeListener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    # -- control -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Close the circuit and forget all failures."""
        with self._lock:
            old = self._state
            generation = self._generation
            self._init_state()
            self._generation = generation + 1
        if old != CLOSED:
            self._notify([(old, CLOSED)])

    def call(self, fn: Callable[[], Any], task_id: str | None = None) -> Any:
        """Run ``fn()`` (a task body) through the breaker and return its result.

        Raises :class:`CircuitOpenError` without calling ``fn`` while the circuit is open
        (or half-open with all trial slots taken); otherwise re-raises whatever ``fn`` raised
        after recording it.
        """
        with self._lock:
            events = self._refresh(self.clock())
            state = self._state
            if state == OPEN:
                error = self._open_error(task_id, busy=False)
            elif state == HALF_OPEN and self._half_open_in_flight >= self.half_open_max_calls:
                error = self._open_error(task_id, busy=True)
            else:
                error = None
                if state == HALF_OPEN:
                    self._half_open_in_flight += 1
            generation = self._generation
        if events:
            self._notify(events)
        if error is not None:
            raise error
        trial = state == HALF_OPEN
        try:
            result = fn()
        except BaseException as exc:
            self._record(generation, trial, exc)
            raise
        self._record(generation, trial, None)
        return result

    # -- internals (called with the lock held unless noted) ------------------------------------

    def _open_error(self, task_id: str | None, busy: bool) -> CircuitOpenError:
        remaining = 0.0 if busy else self._opened_at + self.recovery_timeout - self.clock()
        return CircuitOpenError(
            self.name,
            task_id,
            self._opened_with,
            self._last_error,
            max(0.0, remaining),
            self.recovery_timeout,
            half_open_busy=busy,
            half_open_max_calls=self.half_open_max_calls,
        )

    def _counts(self, exc: BaseException) -> bool:
        return isinstance(exc, self.expected_exceptions) and not isinstance(
            exc, self.excluded_exceptions
        )

    def _record(self, generation: int, trial: bool, exc: BaseException | None) -> None:
        """Record the outcome of a call that started in ``generation`` (takes the lock)."""
        with self._lock:
            if generation != self._generation:
                return  # the breaker changed state meanwhile; this outcome is stale
            now = self.clock()
            events: list[tuple[str, str]] = []
            if trial:
                self._half_open_in_flight -= 1
            if exc is None:
                if trial:
                    events.append(self._transition(CLOSED, now))
                elif self.failure_window is None:
                    self._consecutive = 0
            elif self._counts(exc):
                self._last_error = exc
                if trial:
                    self._opened_with += 1  # consecutive failures since it last closed
                    events.append(self._transition(OPEN, now))
                else:
                    count = self._count_failure(now)
                    if count >= self.failure_threshold:
                        self._opened_with = count
                        events.append(self._transition(OPEN, now))
            # an error that does not count leaves the state alone (a trial slot is freed)
        self._notify(events)

    def _count_failure(self, now: float) -> int:
        if self.failure_window is None:
            self._consecutive += 1
            return self._consecutive
        self._failures.append(now)
        self._expire(now)
        return len(self._failures)

    def _expire(self, now: float) -> None:
        if self.failure_window is None:
            return
        horizon = now - self.failure_window
        failures = self._failures
        while failures and failures[0] <= horizon:
            failures.popleft()

    def _refresh(self, now: float) -> list[tuple[str, str]]:
        if self._state == OPEN and now - self._opened_at >= self.recovery_timeout:
            return [self._transition(HALF_OPEN, now)]
        return []

    def _transition(self, new: str, now: float) -> tuple[str, str]:
        old = self._state
        self._state = new
        self._generation += 1
        self._half_open_in_flight = 0
        if new == OPEN:
            self._opened_at = now
        elif new == CLOSED:
            self._consecutive = 0
            self._failures.clear()
            self._opened_with = 0
        return (old, new)

    def _notify(self, events: list[tuple[str, str]]) -> None:
        """Call the listeners (without the lock); a failing listener only warns."""
        for old, new in events:
            for listener in list(self._listeners):
                try:
                    listener(self, old, new)
                except Exception as exc:
                    warnings.warn(
                        f"circuit breaker '{self.name}': state-change listener {listener!r} "
                        f"failed on {old} -> {new}: {_describe_error(exc)}",
                        RuntimeWarning,
                        stacklevel=2,
                    )

    # -- pickling (checkpoints hold tasks, and tasks may hold breakers) ------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        # Monotonic timestamps mean nothing in another process: start closed there.
        self._init_state()

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker({self.name!r}, state={self._state!r}, "
            f"failure_threshold={self.failure_threshold}, "
            f"recovery_timeout={self.recovery_timeout:g})"
        )


def _exception_tuple(
    label: str, what: str, value: type[BaseException] | tuple[type[BaseException], ...]
) -> tuple[type[BaseException], ...]:
    items = value if isinstance(value, tuple) else (value,)
    for item in items:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise ConfigError(
                f"{label}: {what}_exceptions must be an exception class or a tuple of them, "
                f"got {item!r}"
            )
    return tuple(items)


# --------------------------------------------------------------------------------------------
# The process-wide registry
# --------------------------------------------------------------------------------------------

_registry_lock = threading.Lock()
_by_name: dict[str, CircuitBreaker] = {}
_by_type: dict[str, CircuitBreaker] = {}


def register_circuit_breaker(
    breaker: CircuitBreaker | str, task_type: str | None = None
) -> CircuitBreaker:
    """Register ``breaker`` under its name, and for ``task_type`` if given; return it.

    ``breaker`` may also be the name of a registered breaker, to use it for a task type:
    ``register_circuit_breaker("payments-api", task_type="http")``.  Registering a name or
    type again replaces the previous breaker (last registration wins).
    """
    with _registry_lock:
        if isinstance(breaker, str):
            if task_type is None:
                raise ConfigError(
                    f"register_circuit_breaker('{breaker}'): a name alone registers nothing; "
                    "pass a CircuitBreaker, or task_type= to use the named breaker for a type"
                )
            found = _by_name.get(breaker)
            if found is None:
                raise UnknownCircuitBreakerError(breaker, None, _by_name)
            breaker = found
        elif not isinstance(breaker, CircuitBreaker):
            raise ConfigError(
                f"register_circuit_breaker() needs a CircuitBreaker or a registered name, got "
                f"{breaker!r}"
            )
        elif breaker.name == "unnamed" and task_type is None:
            raise ConfigError(
                "register_circuit_breaker(): the breaker has no name; create it with "
                "CircuitBreaker('some-name', ...) or pass task_type="
            )
        if breaker.name != "unnamed":
            _by_name[breaker.name] = breaker
        if task_type is not None:
            if not isinstance(task_type, str) or not task_type:
                raise ConfigError(
                    f"register_circuit_breaker(): task_type must be a non-empty string, got "
                    f"{task_type!r}"
                )
            _by_type[task_type] = breaker
        return breaker


def unregister_circuit_breaker(name: str | None = None, *, task_type: str | None = None) -> None:
    """Remove the breaker registered as ``name`` and/or for ``task_type`` (absent: no-op)."""
    with _registry_lock:
        if name is not None:
            _by_name.pop(name, None)
        if task_type is not None:
            _by_type.pop(task_type, None)


def clear_circuit_breakers() -> None:
    """Forget every registered breaker (for tests)."""
    with _registry_lock:
        _by_name.clear()
        _by_type.clear()


def registered_circuit_breakers() -> dict[str, CircuitBreaker]:
    """A copy of the name -> breaker registry."""
    with _registry_lock:
        return dict(_by_name)


def get_circuit_breaker(name: str) -> CircuitBreaker:
    """The breaker registered as ``name``; :class:`UnknownCircuitBreakerError` if none."""
    found = _by_name.get(name)
    if found is None:
        raise UnknownCircuitBreakerError(name, None, list(_by_name))
    return found


def circuit_breaker_for(task: Any) -> CircuitBreaker | None:
    """The breaker guarding ``task``, or ``None``.

    ``task.circuit_breaker`` (a breaker or a registered name) wins; otherwise the breaker
    registered for ``task.task_type``.  A name that is not registered raises
    :class:`UnknownCircuitBreakerError` naming the task and the registered names.
    """
    spec = getattr(task, "circuit_breaker", None)
    if spec is None:
        task_type = getattr(task, "task_type", None)
        if task_type is None or not _by_type:
            return None
        return _by_type.get(task_type)
    if isinstance(spec, CircuitBreaker):
        return spec
    task_id = getattr(task, "task_id", None)
    if isinstance(spec, str):
        found = _by_name.get(spec)
        if found is None:
            raise UnknownCircuitBreakerError(spec, task_id, list(_by_name))
        return found
    raise ConfigError(
        f"Task '{task_id}': circuit_breaker must be a CircuitBreaker or the name of a "
        f"registered one, got {spec!r} ({type(spec).__name__})"
    )
