"""The ``graflow`` entry point of graflow-dagster: registers the ``dagster`` target.

The plugin object implements only ``register_bridges`` (no per-task hooks), so having
graflow-dagster installed costs nothing in workflow runs that do not use Dagster. Importing this
module imports neither Dagster nor the bridge's rendering code: the bridge's ``render``,
``parse`` and ``export`` load them on first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.spec import Bridge, Capabilities

_EMULATED_POLICY = (
    "emulated",
    "members of a non-strict group report a failure as a 'failed' payload after Dagster's last "
    "retry; the join op evaluates the group's policy",
)

#: What the ``dagster`` target can express (see ``docs/dagster.md``), by feature name.
FEATURES: dict[str, Any] = {
    "static_edges": "native",
    "parallel_groups": ("native", "members are ops fanning out from the group's upstream"),
    "nested_groups": ("native", "nested fan-out/fan-in"),
    "group_policy.strict": "native",
    "group_policy.best_effort": _EMULATED_POLICY,
    "group_policy.critical": _EMULATED_POLICY,
    "group_policy.at_least_n": _EMULATED_POLICY,
    "group_policy.custom": _EMULATED_POLICY,
    "group_backend": (
        "ignored",
        "Dagster's executor decides concurrency (multiprocess by default, in-process in tests)",
    ),
    "retries": ("native", "op RetryPolicy"),
    "retry_delay": ("native", "RetryPolicy(delay=initial_interval)"),
    "retry_backoff": (
        "emulated",
        "Dagster's Backoff.EXPONENTIAL waits delay*(2^n-1); factor and max_interval are kept in "
        "op tags",
    ),
    "retry_jitter": ("native", "Jitter.PLUS_MINUS"),
    "timeouts": ("emulated", "enforced by graflow inside the op; also in op tags"),
    "circuit_breakers": ("emulated", "the breaker runs in each op's process"),
    "max_cycles": "native",
    "task_type": ("native", "the task type runs inside the op"),
    "custom_handlers": (
        "emulated",
        "register the handler in the code location's process (load_workflow(handlers=...))",
    ),
    "bound_kwargs": "native",
    "inject_context": "native",
    "llm_client": "native",
    "llm_agent": ("emulated", "register the agent in the code location's process"),
    "channels": ("emulated", "channel writes travel between ops as Dagster outputs"),
    "typed_channels": ("emulated", "channel writes travel between ops as Dagster outputs"),
    "goto": ("native", "optional outputs: branches not taken show as skipped"),
    "next_task": ("hosted", "the dynamic part runs inside one op hosting the graflow engine"),
    "next_iteration": ("hosted", "the loop runs inside one op hosting the graflow engine"),
    "cycles": ("hosted", "the cycle runs inside one op hosting the graflow engine"),
    "terminate": ("hosted", "runs inside one op hosting the graflow engine"),
    "cancel": ("hosted", "runs inside one op hosting the graflow engine"),
    "checkpoints": (
        "ignored",
        "Dagster re-executes failed ops from their inputs; graflow checkpoints are not written",
    ),
}


def capabilities() -> Capabilities:
    """The :class:`~graflow_core.spec.Capabilities` of the ``dagster`` target."""
    from graflow_core.spec import Capabilities

    return Capabilities("dagster", FEATURES, default="native")


def _render(spec: Any, **options: Any) -> Any:
    from graflow_dagster.render import to_dagster_job

    return to_dagster_job(spec, **options)


def _parse(job: Any, **options: Any) -> Any:
    from graflow_dagster.parse import job_to_spec

    return job_to_spec(job, **options)


def _export(spec: Any, reference: str, out_dir: Any, **options: Any) -> Any:
    from graflow_dagster.export import export_definitions

    return export_definitions(spec, reference, out_dir, **options)


_BRIDGE: list[Bridge] = []


def bridge() -> Bridge:
    """The ``dagster`` :class:`~graflow_core.spec.Bridge` (built once)."""
    if not _BRIDGE:
        from graflow_core.spec import Bridge

        _BRIDGE.append(
            Bridge(
                "dagster",
                capabilities(),
                render=_render,
                parse=_parse,
                export=_export,
                distribution="graflow-dagster",
                description="graflow workflows as Dagster jobs (one op per task)",
            )
        )
    return _BRIDGE[0]


class DagsterPlugin:
    """The pluggy plugin of graflow-dagster: registers the ``dagster`` bridge, nothing else."""

    @hookimpl
    def register_bridges(self) -> list[Bridge]:
        """The ``dagster`` target."""
        return [bridge()]


plugin = DagsterPlugin()
