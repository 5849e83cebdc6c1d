"""pytest fixtures for running graflow workflows on dagster in tests (loaded through ``pytest11``)."""
