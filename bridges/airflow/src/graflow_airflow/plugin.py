"""The ``graflow`` entry point of graflow-airflow: registers the ``airflow`` target.

The plugin implements ``register_bridges`` only — no per-task hooks — so having graflow-airflow
installed costs nothing in workflow runs that do not use Airflow. Importing this module imports
neither Airflow nor the rendering code; the bridge's ``render``, ``parse`` and ``export`` import
them when called.

``graflow preflight FILE --target airflow`` reads :data:`AIRFLOW_FEATURES` to say, per
feature a workflow uses, what the per-task DAG does with it (``docs/airflow.md`` explains each).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.spec import Bridge, Capabilities

_WHOLE = (
    "the whole workflow runs in one GraflowOperator task (resumes from its checkpoints when "
    "Airflow retries it)"
)

#: Where the ``airflow`` target differs from (or says more than) the shared step runtime's
#: capabilities (:data:`graflow_core.steps.plan.STEP_CAPABILITIES`); see ``docs/airflow.md``.
AIRFLOW_FEATURES: dict[str, Any] = {
    "static_edges": ("native", "upstream/downstream dependencies"),
    "parallel_groups": (
        "native",
        "members fan out from the group's upstream tasks (in a TaskGroup) and join at the "
        "group's task",
    ),
    "nested_groups": ("native", "nested fan-out/fan-in (nested TaskGroups)"),
    "group_policy": (
        "emulated",
        "the group's join task (trigger rule all_done) evaluates the policy from the members' "
        "task states",
    ),
    "group_backend": (
        "ignored",
        "members are separate Airflow tasks; the executor and pools decide the concurrency",
    ),
    "retries": ("native", "the operator's retries"),
    "retry_delay": ("native", "retry_delay"),
    "retry_backoff": (
        "emulated",
        "retry_exponential_backoff=factor, max_retry_delay=max_interval; Airflow waits between "
        "1x and 2x graflow's delay",
    ),
    "retry_jitter": ("ignored", "Airflow's backoff has its own deterministic spread"),
    "timeouts": ("native", "execution_timeout (graflow enforces the timeout too)"),
    "goto": ("native", "a branching task (BranchMixIn): the successors not taken show skipped"),
    "terminate": ("hosted", _WHOLE),
    "cancel": ("hosted", _WHOLE),
    "cycles": ("hosted", _WHOLE),
    "checkpoints": (
        "ignored",
        "an Airflow retry re-runs only the failed task from its upstream XComs",
    ),
    "custom_handlers": (
        "emulated",
        "the handler runs inside the Airflow task: register it where the workflow's module is "
        "imported, so the DAG processor and every worker have it",
    ),
    "llm_agent": (
        "emulated",
        "register the agent where the workflow's module is imported (every worker needs it)",
    ),
    "channels": ("emulated", "channel writes travel between Airflow tasks through XCom"),
    "typed_channels": ("emulated", "channel writes travel between Airflow tasks through XCom"),
}


def airflow_capabilities() -> Capabilities:
    """The :class:`~graflow_core.spec.Capabilities` of the ``airflow`` target: the step
    runtime's, with :data:`AIRFLOW_FEATURES` on top."""
    from graflow_core.spec import Capabilities
    from graflow_core.steps import STEP_CAPABILITIES

    base: Any = STEP_CAPABILITIES
    return Capabilities("airflow", {**base.features, **AIRFLOW_FEATURES}, base.default)


@functools.cache
def airflow_bridge() -> Bridge:
    """The ``airflow`` :class:`~graflow_core.spec.Bridge` (created on first use)."""
    from graflow_core.spec.targets import Bridge, LazyCallable

    return Bridge(
        "airflow",
        airflow_capabilities(),
        render=LazyCallable("graflow_airflow.render:to_airflow_dag"),
        parse=LazyCallable("graflow_airflow.render:spec_from_rendered_dag"),
        export=LazyCallable("graflow_airflow.dagfile:export_dag_file"),
        run=LazyCallable("graflow_airflow.local:run_workflow"),
        diagnose=LazyCallable("graflow_airflow.doctor:diagnose"),
        distribution="graflow-airflow",
        description="graflow workflows as Airflow DAGs (one Airflow task per graflow task)",
    )


class AirflowPlugin:
    """pluggy plugin of graflow-airflow: contributes the ``airflow`` target and nothing else."""

    @hookimpl
    def register_bridges(self) -> list[Bridge]:
        """The ``airflow`` bridge."""
        return [airflow_bridge()]


plugin = AirflowPlugin()
