"""Testing utilities for graflow workflows (the ``graflow`` pytest plugin lives here)."""
