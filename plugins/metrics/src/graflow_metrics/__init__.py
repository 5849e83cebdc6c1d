"""Prometheus metrics, health checks and structured JSON logging for graflow workflows."""
