"""Run graflow workflows as Dagster jobs and turn Dagster jobs back into graflow workflows.

* :func:`to_dagster_job` — a workflow (or its spec) -> a :class:`dagster.JobDefinition`, one op
  per graflow task; :func:`to_dagster_definitions` — several workflows -> a code location's
  :class:`dagster.Definitions`; :func:`to_dagster_assets` — tasks as software-defined assets.
* :func:`from_dagster_job` — a Dagster job -> a runnable graflow workflow; :func:`job_to_spec`
  — the exact spec of a job rendered by graflow-dagster.
* :func:`export_definitions` — write a definitions module Dagster's CLI loads
  (``graflow export flow.py --to dagster -o DIR``).
* :func:`run_workflow` — run a workflow on Dagster in this process, as a ``TargetRun``
  (``run_on("dagster", wf, params)``); :func:`local_environment` — its environment variables
  (telemetry off, ``DAGSTER_HOME``); :func:`diagnose` — the ``graflow doctor`` checks.

``import graflow_dagster`` does not import Dagster: every name loads on first use. See
``docs/dagster.md``.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

_LAZY = {
    "to_dagster_job": "graflow_dagster.render",
    "to_dagster_definitions": "graflow_dagster.render",
    "to_dagster_assets": "graflow_dagster.render",
    "graflow_result": "graflow_dagster.render",
    "GraflowDagsterResult": "graflow_dagster.render",
    "from_dagster_job": "graflow_dagster.parse",
    "job_to_spec": "graflow_dagster.parse",
    "is_graflow_job": "graflow_dagster.parse",
    "DagsterConversionError": "graflow_dagster.parse",
    "export_definitions": "graflow_dagster.export",
    "run_workflow": "graflow_dagster.local",
    "local_environment": "graflow_dagster.local",
    "diagnose": "graflow_dagster.doctor",
    "capabilities": "graflow_dagster.plugin",
    "bridge": "graflow_dagster.plugin",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
