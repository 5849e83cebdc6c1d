"""Resilience features: circuit breakers and the dead-letter store.

Names load on first use (``from graflow_core.resilience import CircuitBreaker`` imports only
:mod:`graflow_core.resilience.circuit_breaker`); see ``docs/resilience.md``.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

_CB = "graflow_core.resilience.circuit_breaker"
_DL = "graflow_core.resilience.dead_letter"

_LAZY = {
    "CircuitBreaker": _CB,
    "CircuitOpenError": _CB,
    "UnknownCircuitBreakerError": _CB,
    "circuit_breaker_for": _CB,
    "clear_circuit_breakers": _CB,
    "get_circuit_breaker": _CB,
    "register_circuit_breaker": _CB,
    "registered_circuit_breakers": _CB,
    "unregister_circuit_breaker": _CB,
    "DeadLetter": _DL,
    "DeadLetterError": _DL,
    "DeadLetterNotFoundError": _DL,
    "DeadLetterNotReplayableError": _DL,
    "DeadLetterReplayError": _DL,
    "DeadLetterStore": _DL,
    "DeadLetterStoreWarning": _DL,
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
