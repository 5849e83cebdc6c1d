"""Airflow provider metadata: the ``apache_airflow_provider`` entry point of graflow-airflow.

Airflow's ``ProvidersManager`` calls :func:`get_provider_info` when it discovers providers
(``airflow providers list``, the UI's provider page). The function returns plain data and imports
nothing but :mod:`importlib.metadata`; the operator modules it names are imported by Airflow
only when a DAG uses them.
"""

from __future__ import annotations

from typing import Any

#: The distribution name Airflow matches the metadata against (it must equal the package name).
PACKAGE_NAME = "graflow-airflow"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(PACKAGE_NAME)
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return "0.0.0"


def get_provider_info() -> dict[str, Any]:
    """Describe graflow-airflow to Airflow (validated against ``provider_info.schema.json``).

    Lists the integration ("Graflow") and the modules defining its operators:
    :class:`~graflow_airflow.render.GraflowTaskOperator` (one graflow step of a rendered DAG) and
    :class:`~graflow_airflow.operator.GraflowOperator` (a whole workflow in one task).
    """
    return {
        "package-name": PACKAGE_NAME,
        "name": "Graflow",
        "description": "Run graflow workflows on Airflow: one Airflow task per graflow task "
        "(to_airflow_dag, graflow export --to airflow), a whole workflow in one resumable task "
        "(GraflowOperator), and Airflow DAGs back to graflow (from_airflow_dag).",
        "versions": [_version()],
        "integrations": [{"integration-name": "Graflow", "tags": ["software"]}],
        "operators": [
            {
                "integration-name": "Graflow",
                "python-modules": ["graflow_airflow.render", "graflow_airflow.operator"],
            }
        ],
    }
