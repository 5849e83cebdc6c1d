"""Run graflow workflows on Apache Airflow 3 (DAGs, GraflowOperator) and turn Airflow DAGs back
into graflow workflows.

Importing this package is cheap: it does not import Airflow. The public names are resolved
lazily (PEP 562) from the submodule that defines them, the first time they are used:

- :func:`to_airflow_dag` — render a workflow as a DAG with one Airflow task per graflow step.
- :func:`spec_from_rendered_dag` — read the workflow spec back from a graflow-rendered DAG.
- :class:`GraflowTaskOperator` — the operator of a rendered step.
- :class:`GraflowOperator` — run a whole workflow inside one Airflow task (durable resume).
- :func:`from_airflow_dag` — turn a hand-written Airflow DAG into a graflow workflow.
- :func:`export_dag_file` — write a DAG file that imports a workflow by reference;
  :func:`load_dag` — what such a file calls.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule (relative to this package) that defines it. Other modules may append
# entries here; keep one entry per line.
_LAZY: dict[str, str] = {
    "to_airflow_dag": "render",
    "spec_from_rendered_dag": "render",
    "GraflowTaskOperator": "render",
    "GraflowBranchTaskOperator": "render",
    "export_dag_file": "dagfile",
    "load_dag": "dagfile",
    "GraflowOperator": "operator",
    "from_airflow_dag": "parse",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graflow_airflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
