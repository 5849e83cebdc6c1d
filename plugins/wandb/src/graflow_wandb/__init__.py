"""Weights & Biases tracking for graflow: one run per workflow run, task steps logged, on any
orchestrator.
"""
