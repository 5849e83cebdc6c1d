"""pytest fixtures for MLflow tracking in tests (loaded through ``pytest11``)."""
