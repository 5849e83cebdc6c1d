"""Tracers: observers of a run (Graflow-compatible)."""
