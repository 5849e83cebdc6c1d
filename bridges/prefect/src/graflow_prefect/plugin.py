"""The ``graflow`` entry point of graflow-prefect: registers the prefect bridge with graflow.

The plugin implements ``register_bridges`` only — no per-task hooks — so having graflow-prefect
installed costs nothing in workflow runs that do not use Prefect (the per-task host,
:class:`graflow_prefect.flow.PrefectTaskHost`, is added to a bridged flow's runs only).
Importing this module imports neither Prefect nor the bridge's modules.

``graflow preflight FILE --target prefect`` reads :data:`PREFECT_FEATURES`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.spec import Bridge, Capabilities, WorkflowSpec

_ENGINE = "the graflow engine runs inside the flow; each task is a Prefect task run"

#: What the ``prefect`` target does with each feature (see graflow_core.spec.FEATURES).
PREFECT_FEATURES: dict[str, Any] = {
    "static_edges": ("native", "task runs in dependency order, upstream runs passed as wait_for"),
    "cycles": ("native", f"every iteration is a task run ({_ENGINE})"),
    "parallel_groups": ("native", "members are submitted to the flow's task runner concurrently"),
    "nested_groups": ("native", "nested concurrent submissions"),
    "group_policy": ("native", "the engine applies the policy to the members' outcomes"),
    "group_backend.threading": ("native", "the group's threads submit to the flow's task runner"),
    "group_backend.direct": ("native", "members run one after another as task runs"),
    "retries": ("native", "Prefect task retries (the core does not retry a second time)"),
    "retry_delay": ("native", "retry_delay_seconds"),
    "retry_backoff": ("native", "retry_delay_seconds as one delay per retry (backoff and cap)"),
    "retry_jitter": (
        "emulated",
        "retry_jitter_factor=0.5: Prefect draws around the delay (up to 1.5x), not capped",
    ),
    "timeouts": (
        "emulated",
        "graflow's per-attempt timeout inside the task run; Prefect records it as TimedOut and "
        "retries it like its own timeout",
    ),
    "circuit_breakers": ("native", "in the flow's process"),
    "max_cycles": "native",
    "task_type": ("native", "the task type runs inside the task run"),
    "custom_handlers": "native",
    "bound_kwargs": "native",
    "inject_context": "native",
    "llm_client": "native",
    "llm_agent": "native",
    "channels": ("native", "the engine's in-process channel, shared by the flow's task runs"),
    "typed_channels": ("native", "the engine's in-process channel"),
    "goto": ("native", _ENGINE),
    "next_task": ("native", f"tasks added at run time become further task runs ({_ENGINE})"),
    "next_iteration": ("native", "every iteration is a further task run"),
    "terminate": ("native", "the flow run ends early, Completed"),
    "cancel": ("native", "the flow run fails with GraflowWorkflowCanceledError"),
    "checkpoints": ("native", "written by the engine inside the flow run"),
}


def prefect_capabilities() -> Capabilities:
    """The :class:`~graflow_core.spec.Capabilities` of the ``prefect`` target."""
    from graflow_core.spec import Capabilities

    return Capabilities("prefect", PREFECT_FEATURES, default="native")


def _parse(flow: Any, **params: Any) -> WorkflowSpec:
    """A flow rendered by graflow reads back as its spec; any other flow is recorded by running
    it with ``params`` (:func:`~graflow_prefect.record.record_prefect_flow`)."""
    from graflow_prefect.flow import spec_from_rendered_flow

    rendered = spec_from_rendered_flow(flow)
    if rendered is not None:
        return rendered
    from graflow_prefect.record import record_prefect_flow

    return record_prefect_flow(flow, **params).spec


@functools.cache
def prefect_bridge() -> Bridge:
    """The ``prefect`` :class:`~graflow_core.spec.Bridge` (created on first use)."""
    from graflow_core.spec.targets import Bridge, LazyCallable

    return Bridge(
        "prefect",
        prefect_capabilities(),
        render=LazyCallable("graflow_prefect.flow:to_prefect_flow"),
        parse=_parse,
        export=LazyCallable("graflow_prefect.export:export_prefect_flow_file"),
        run=LazyCallable("graflow_prefect.local:run_workflow"),
        diagnose=LazyCallable("graflow_prefect.doctor:diagnose"),
        distribution="graflow-prefect",
        description="Prefect 3 flows: one task run per graflow task, dynamic tasks native",
    )


class PrefectPlugin:
    """pluggy plugin object for graflow-prefect: the ``prefect`` target, nothing per task."""

    @hookimpl
    def register_bridges(self) -> list[Bridge]:
        return [prefect_bridge()]


plugin = PrefectPlugin()
