"""The ``graflow`` entry point of graflow-dagster: registers the ``dagster`` target.

The plugin object implements only ``register_bridges`` (no per-task hooks), so having
graflow-dagster installed costs nothing in workflow runs that do not use Dagster. Importing this
module imports neither Dagster nor the bridge's rendering code: the bridge's ``render``,
``parse`` and ``export`` load them on first call.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.spec import Bridge, Capabilities

_EMULATED_POLICY = (
    "emulated",
    "a member that fails after its last Dagster retry emits a failure payload; the group's "
    "join op evaluates the policy",
)

#: Where the ``dagster`` target differs from the shared step runtime's capabilities
#: (:data:`graflow_core.steps.plan.STEP_CAPABILITIES`); see ``docs/dagster.md``.
DAGSTER_FEATURES: dict[str, Any] = {
    "parallel_groups": ("native", "members are ops fanning out from the group's upstream op"),
    "nested_groups": ("native", "nested fan-out/fan-in"),
    "group_policy": _EMULATED_POLICY,
    "group_policy.strict": ("native", "the join op fails the run when a member failed"),
    "group_backend": (
        "ignored",
        "Dagster's executor decides concurrency (multiprocess by default, in-process in tests)",
    ),
    "retries": ("native", "op RetryPolicy(max_retries)"),
    "retry_delay": ("native", "RetryPolicy(delay=initial_interval)"),
    "retry_backoff": (
        "emulated",
        "Backoff.EXPONENTIAL waits delay*(2^n-1); factor and max_interval are in the op tags",
    ),
    "retry_jitter": ("native", "Jitter.PLUS_MINUS"),
    "timeouts": ("emulated", "enforced by graflow inside the op; also in the op's tags"),
    "goto": ("native", "optional outputs: the ops not jumped to show as skipped"),
    "next_task": (
        "hosted",
        "tasks it adds run inside its op (the graflow engine); a jump to a static successor "
        "is a branch",
    ),
    "next_iteration": ("hosted", "the iterations run inside the task's op"),
    "terminate": ("hosted", "the whole workflow runs inside one op"),
    "cancel": ("hosted", "the whole workflow runs inside one op"),
    "cycles": ("hosted", "the whole workflow runs inside one op"),
    "checkpoints": (
        "ignored",
        "each op's output is the checkpoint: Dagster re-executes failed ops from their inputs",
    ),
    "channels": ("emulated", "channel writes travel between ops as Dagster outputs"),
    "typed_channels": ("emulated", "channel writes travel between ops as Dagster outputs"),
}


def capabilities() -> Capabilities:
    """The :class:`~graflow_core.spec.Capabilities` of the ``dagster`` target."""
    from graflow_core.spec import Capabilities
    from graflow_core.steps.plan import STEP_CAPABILITIES

    return Capabilities(
        "dagster",
        {**STEP_CAPABILITIES.features, **DAGSTER_FEATURES},
        default=STEP_CAPABILITIES.default,
    )


@functools.cache
def bridge() -> Bridge:
    """The ``dagster`` :class:`~graflow_core.spec.Bridge` (built once)."""
    from graflow_core.spec.targets import Bridge, LazyCallable

    return Bridge(
        "dagster",
        capabilities(),
        render=LazyCallable("graflow_dagster.render:to_dagster_job"),
        parse=LazyCallable("graflow_dagster.parse:job_to_spec"),
        export=LazyCallable("graflow_dagster.export:export_definitions"),
        run=LazyCallable("graflow_dagster.local:run_workflow"),
        diagnose=LazyCallable("graflow_dagster.doctor:diagnose"),
        distribution="graflow-dagster",
        description="graflow workflows as Dagster jobs (one op per task)",
    )


class DagsterPlugin:
    """The pluggy plugin of graflow-dagster: registers the ``dagster`` bridge, nothing else."""

    @hookimpl
    def register_bridges(self) -> list[Bridge]:
        """The ``dagster`` target."""
        return [bridge()]


plugin = DagsterPlugin()
