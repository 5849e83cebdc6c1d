"""Run graflow workflows as Prefect 3 flows and record Prefect flows back into graflow workflows."""
