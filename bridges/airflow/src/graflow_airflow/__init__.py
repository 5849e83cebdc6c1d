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
- :func:`run_workflow` — run a workflow on Airflow in this process (``dag.test()``), as a
  ``TargetRun``; :func:`local_environment` — the variables of a self-contained Airflow home.
- :func:`diagnose` — the Airflow checks of ``graflow doctor``.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

# public name -> module that defines it. Keep one entry per line.
_LAZY: dict[str, str] = {
    "to_airflow_dag": "graflow_airflow.render",
    "spec_from_rendered_dag": "graflow_airflow.render",
    "GraflowTaskOperator": "graflow_airflow.render",
    "GraflowBranchTaskOperator": "graflow_airflow.render",
    "export_dag_file": "graflow_airflow.dagfile",
    "load_dag": "graflow_airflow.dagfile",
    "GraflowOperator": "graflow_airflow.operator",
    "from_airflow_dag": "graflow_airflow.parse",
    "run_workflow": "graflow_airflow.local",
    "local_environment": "graflow_airflow.local",
    "diagnose": "graflow_airflow.doctor",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
