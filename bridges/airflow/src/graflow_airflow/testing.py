"""pytest fixtures for running graflow workflows on airflow in tests (loaded through ``pytest11``)."""
