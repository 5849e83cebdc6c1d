"""What a target (an orchestrator bridge) can express, and what it does with the rest.

A :class:`Capabilities` maps *features* (:data:`FEATURES`) to a :class:`Support`: a level and a
note saying what happens. Levels (:data:`LEVELS`):

``native``
    the target has the feature (Airflow retries are Airflow retries);
``emulated``
    the bridge reproduces it with other means (a channel kept in XCom);
``hosted``
    the dynamic part runs inside one native task that hosts the graflow engine;
``ignored``
    the feature is dropped (a jitter flag a target cannot express);
``error``
    the workflow cannot be exported to this target.

Features with a parameter are written ``family.value`` (``group_policy.critical``,
``task_type.mlflow``, ``group_backend.threading``); :meth:`Capabilities.support` falls back
from ``family.value`` to ``family`` and then to the target's ``default``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NATIVE = "native"
EMULATED = "emulated"
HOSTED = "hosted"
IGNORED = "ignored"
ERROR = "error"

#: Support levels, from best to worst.
LEVELS = (NATIVE, EMULATED, HOSTED, IGNORED, ERROR)

#: Severity of a preflight finding for each level (``None``: no finding).
SEVERITY: dict[str, str | None] = {
    NATIVE: None,
    EMULATED: "info",
    HOSTED: "warning",
    IGNORED: "warning",
    ERROR: "error",
}

#: Every feature preflight looks for, with what it means.
FEATURES: dict[str, str] = {
    "static_edges": "edges between tasks known before the run (a >> b)",
    "cycles": "a cycle in the static graph (a loop back edge)",
    "parallel_groups": "parallel groups (a | b) whose members run concurrently",
    "nested_groups": "a parallel group that is a member of another group",
    "group_policy": "a group execution policy (.strict, .best_effort, .critical, "
    ".at_least_n, .custom)",
    "group_backend": "a group's coordination backend (.threading, .direct)",
    "retries": "retrying a failed task (max_retries / RetryPolicy, workflow default)",
    "retry_delay": "a delay before retrying (RetryPolicy.initial_interval > 0)",
    "retry_backoff": "exponential backoff (RetryPolicy.backoff_factor != 1)",
    "retry_jitter": "random jitter on retry delays (RetryPolicy.jitter)",
    "timeouts": "a per-attempt timeout (@task(timeout=...))",
    "circuit_breakers": "a circuit breaker guarding a task",
    "max_cycles": "a per-task cycle budget (@task(max_cycles=...))",
    "task_type": "a plugin task type (.<name>, e.g. task_type.mlflow)",
    "custom_handlers": "a custom TaskHandler (@task(handler=...))",
    "bound_kwargs": "keyword arguments bound at instance creation",
    "inject_context": "the task receives the TaskExecutionContext",
    "llm_client": "an injected LLM client",
    "llm_agent": "an injected LLM agent",
    "next_task": "queueing a task at run time (ctx.next_task)",
    "goto": "skipping static successors (next_task(..., goto=True))",
    "next_iteration": "re-running a task at run time (ctx.next_iteration)",
    "terminate": "ending the run early (ctx.terminate_workflow)",
    "cancel": "cancelling the run (ctx.cancel_workflow)",
    "checkpoints": "checkpoints requested by a task (ctx.checkpoint)",
    "channels": "reading/writing the channel directly",
    "typed_channels": "typed channels (ctx.get_typed_channel)",
}


@dataclass(frozen=True)
class Support:
    """How a target handles one feature: ``level`` (see :data:`LEVELS`) and a ``note``."""

    level: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            from graflow_core.exceptions import ConfigError

            raise ConfigError(
                f"Unknown support level {self.level!r}; use one of {', '.join(LEVELS)}"
            )

    def to_dict(self) -> dict[str, str]:
        """``{"level": ..., "note": ...}``."""
        return {"level": self.level, "note": self.note}


SupportLike = Support | str | tuple[str, str]


def _support(value: SupportLike) -> Support:
    if isinstance(value, Support):
        return value
    if isinstance(value, str):
        return Support(value)
    level, note = value
    return Support(level, note)


@dataclass(frozen=True)
class Capabilities:
    """What target ``target`` supports.

    ``features`` maps feature names to a :class:`Support` (a level string or a
    ``(level, note)`` pair is accepted too); features not listed get ``default``.

    Example::

        Capabilities(
            "airflow",
            {
                "static_edges": "native",
                "retries": "native",
                "next_task": ("hosted", "runs inside one GraflowOperator task"),
            },
        )
    """

    target: str
    features: Mapping[str, SupportLike] = field(default_factory=dict)
    default: SupportLike = Support(ERROR, "not supported by this target")

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", {k: _support(v) for k, v in self.features.items()})
        object.__setattr__(self, "default", _support(self.default))

    def support(self, feature: str) -> Support:
        """The support for ``feature`` (``family.value`` falls back to ``family``, then default)."""
        features: Mapping[str, Any] = self.features
        found = features.get(feature)
        if found is None and "." in feature:
            found = features.get(feature.split(".", 1)[0])
        return found if found is not None else self.default  # type: ignore[return-value]

    def supports(self, feature: str) -> bool:
        """True if the feature is native or emulated."""
        return self.support(feature).level in (NATIVE, EMULATED)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"target", "features": {name: {"level", "note"}}, "default"}``."""
        features: Mapping[str, Any] = self.features
        default: Any = self.default
        return {
            "target": self.target,
            "features": {k: v.to_dict() for k, v in features.items()},
            "default": default.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Capabilities:
        """Read :meth:`to_dict`'s form."""
        features = {
            k: Support(v["level"], v.get("note", "")) for k, v in data.get("features", {}).items()
        }
        default = data.get("default")
        return cls(
            data["target"],
            features,
            Support(default["level"], default.get("note", "")) if default else Support(ERROR),
        )

    @classmethod
    def everything(cls, target: str, note: str = "") -> Capabilities:
        """Capabilities supporting every feature natively (the ``graflow`` engine itself)."""
        return cls(target, {}, Support(NATIVE, note))


#: The graflow engine itself: everything is native.
GRAFLOW = Capabilities.everything("graflow", "runs on the graflow engine")
