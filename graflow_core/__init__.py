"""graflow_core: a small, fast workflow core with Graflow's programming model."""

__version__ = "0.1.0"
