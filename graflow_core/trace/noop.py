"""The default tracer, which records nothing (and which the engine skips entirely)."""

from __future__ import annotations

from graflow_core.trace.base import Tracer


class NoopTracer(Tracer):
    """A tracer that does nothing; with it the engine makes no tracer calls at all."""
