"""Utilities of graflow_core that are not on the engine's hot path (graph drawing, ...)."""
