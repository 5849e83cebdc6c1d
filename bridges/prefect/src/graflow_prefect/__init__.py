"""Run graflow workflows as Prefect 3 flows and record Prefect flows back into graflow workflows.

Importing this package is cheap: it does not import Prefect. The public names are resolved
lazily (PEP 562) from the submodule that defines them, the first time they are used:

- :func:`to_prefect_flow` — a real Prefect ``Flow`` running the workflow, one Prefect task run
  per graflow task (dynamic tasks included).
- :class:`PrefectTaskHost` — the ``execute_task`` run plugin doing that (for custom flows).
- :func:`retry_delays` — a ``RetryPolicy`` as Prefect's per-retry delays.
- :func:`spec_from_rendered_flow` — the spec a flow made by :func:`to_prefect_flow` runs.
- :func:`from_prefect_flow` — record a run of a Prefect flow into a graflow workflow;
  :func:`record_prefect_flow` — the same, returning the spec and what could not be expressed.
- :func:`export_prefect_flow_file` — write a flow module that imports a workflow by reference
  (``graflow export --to prefect``).

See ``docs/prefect.md``.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

_LAZY: dict[str, str] = {
    "to_prefect_flow": "graflow_prefect.flow",
    "PrefectTaskHost": "graflow_prefect.flow",
    "WorkflowSource": "graflow_prefect.flow",
    "retry_delays": "graflow_prefect.flow",
    "workflow_parameters": "graflow_prefect.flow",
    "spec_from_rendered_flow": "graflow_prefect.flow",
    "from_prefect_flow": "graflow_prefect.record",
    "record_prefect_flow": "graflow_prefect.record",
    "RecordedFlow": "graflow_prefect.record",
    "export_prefect_flow_file": "graflow_prefect.export",
    "run_workflow": "graflow_prefect.local",
    "local_environment": "graflow_prefect.local",
    "diagnose": "graflow_prefect.doctor",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
