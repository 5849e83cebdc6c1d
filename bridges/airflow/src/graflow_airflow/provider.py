"""Airflow provider metadata (the ``apache_airflow_provider`` entry point); imports nothing heavy."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    """Describe graflow-airflow to ``airflow providers list``."""
    return {
        "package-name": "graflow-airflow",
        "name": "Graflow",
        "description": "Run graflow workflows on Airflow: DAG rendering and GraflowOperator.",
        "versions": ["0.1.0"],
    }
