"""Helpers for the resilience tests that must be importable by name (pickling finds them)."""

from __future__ import annotations


class Clock:
    """A manual monotonic clock (for ``CircuitBreaker(clock=...)``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
