"""Run graflow workflows as Dagster jobs and turn Dagster jobs back into graflow workflows."""
