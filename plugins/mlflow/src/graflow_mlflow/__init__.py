"""MLflow tracking for graflow: one run per workflow run, a child run per task, on any
orchestrator.
"""
