"""pytest fixtures for running graflow workflows on prefect in tests (loaded through ``pytest11``)."""
