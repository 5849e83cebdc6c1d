"""The neutral workflow spec: a plain, JSON-serialisable description of a workflow.

Bridges (Airflow, Prefect, Dagster) render *from* a :class:`WorkflowSpec` and parse back *into*
one; :func:`preflight` says, per target, what a workflow uses that the target cannot express.

* :func:`build_spec` / :func:`check_referencable` — workflow → spec (``build``)
* :func:`load_workflow` — spec → runnable workflow (``load``)
* :class:`WorkflowSpec`, :class:`TaskDef`, :class:`GroupDef`, :class:`PolicyDef`,
  :class:`RetryDef` — the spec types (``model``)
* :class:`Capabilities`, :class:`Support` — what a target supports (``capabilities``)
* :class:`Bridge`, :func:`register_target`, :func:`get_target` — targets (``targets``)
* :func:`run_on`, :class:`TargetRun` — run a workflow on any target, described alike
  (``target_run``)
* :func:`preflight`, :class:`PreflightReport`, :class:`Finding` (``preflight_check``)

See ``docs/spec.md``. Names load on first use.
"""

from __future__ import annotations

from graflow_core._lazy import lazy_exports

_LAZY = {
    "SCHEMA_VERSION": "graflow_core.spec.model",
    "WorkflowSpec": "graflow_core.spec.model",
    "TaskDef": "graflow_core.spec.model",
    "GroupDef": "graflow_core.spec.model",
    "PolicyDef": "graflow_core.spec.model",
    "RetryDef": "graflow_core.spec.model",
    "build_spec": "graflow_core.spec.build",
    "check_referencable": "graflow_core.spec.build",
    "load_workflow": "graflow_core.spec.load",
    "SpecError": "graflow_core.spec.errors",
    "SpecLoadError": "graflow_core.spec.errors",
    "SpecProblem": "graflow_core.spec.errors",
    "PreflightError": "graflow_core.spec.errors",
    "UnknownTargetError": "graflow_core.spec.errors",
    "detect_features": "graflow_core.spec.features",
    "DYNAMIC_FEATURES": "graflow_core.spec.features",
    "Capabilities": "graflow_core.spec.capabilities",
    "Support": "graflow_core.spec.capabilities",
    "FEATURES": "graflow_core.spec.capabilities",
    "LEVELS": "graflow_core.spec.capabilities",
    "Bridge": "graflow_core.spec.targets",
    "TargetInfo": "graflow_core.spec.targets",
    "register_target": "graflow_core.spec.targets",
    "unregister_target": "graflow_core.spec.targets",
    "get_target": "graflow_core.spec.targets",
    "available_targets": "graflow_core.spec.targets",
    "LazyCallable": "graflow_core.spec.targets",
    "TargetRun": "graflow_core.spec.target_run",
    "run_on": "graflow_core.spec.target_run",
    "run_native": "graflow_core.spec.target_run",
    "preflight": "graflow_core.spec.preflight_check",
    "feature_uses": "graflow_core.spec.preflight_check",
    "PreflightReport": "graflow_core.spec.preflight_check",
    "Finding": "graflow_core.spec.preflight_check",
    "FeatureUse": "graflow_core.spec.preflight_check",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
