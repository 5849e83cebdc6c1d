"""Fixtures of the graflow-mlflow tests (the store fixtures come from graflow_mlflow.testing)."""
