"""Group execution policies: decide whether a parallel group failed, given its members' results.

A policy is given to ``ParallelGroup.with_execution(policy=...)`` as a name (``"strict"``,
``"best_effort"``) or an instance. ``ParallelGroup`` stores it in canonical form (see
:func:`canonicalize_group_policy`), and the group executor turns it back into an instance
with :func:`resolve_group_policy`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError, ParallelGroupError

if TYPE_CHECKING:
    from logging import Logger

    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.handler import TaskResult
    from graflow_core.core.task import Executable

_logger: Logger | None = None


def _log() -> Logger:
    """The module's logger (``logging`` is imported on first use only)."""
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger(__name__)
    return _logger


class InvalidGroupPolicyError(ConfigError, ValueError, TypeError):
    """A group policy specification is not valid.

    A :class:`ConfigError`; also a ``ValueError`` like Graflow's errors for bad policy
    values, and a ``TypeError``, which
    Graflow raises for some bad inputs (a policy of the wrong type, ``"critical"`` or
    ``"at_least_n"`` given as a bare name), so ``except`` clauses written for either work.
    """


class GroupExecutionPolicy(ABC):
    """Decides whether a finished parallel group failed.

    Subclasses implement :meth:`on_group_finished`, which raises
    :class:`~graflow_core.exceptions.ParallelGroupError` to fail the group.
    """

    def get_name(self) -> str:
        """Return the policy's name (the class name unless overridden)."""
        return self.__class__.__name__

    def _validate_group_results(
        self,
        group_id: str,
        tasks: Sequence[Executable],
        results: dict[str, TaskResult],
    ) -> None:
        """Raise ``ParallelGroupError`` unless ``results`` has exactly one entry per member."""
        expected = {task.task_id for task in tasks}
        actual = set(results)
        if expected == actual:
            return
        parts = []
        missing = expected - actual
        unexpected = actual - expected
        if missing:
            parts.append(f"missing results for tasks: {sorted(missing)}")
        if unexpected:
            parts.append(f"unexpected results for tasks: {sorted(unexpected)}")
        raise ParallelGroupError(
            f"Parallel group {group_id} result mismatch: {', '.join(parts)}",
            group_id=group_id,
            failed_tasks=[],
            successful_tasks=list(actual),
        )

    def _partition_group_results(
        self,
        results: dict[str, TaskResult],
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Return ``(successful ids, [(failed id, error message), ...])`` in result order."""
        successful: list[str] = []
        failed: list[tuple[str, str]] = []
        for task_id, result in results.items():
            if result.success:
                successful.append(task_id)
            else:
                failed.append((task_id, result.error_message or "Unknown error"))
        return successful, failed

    @abstractmethod
    def on_group_finished(
        self,
        group_id: str,
        tasks: Sequence[Executable],
        results: dict[str, TaskResult],
        context: ExecutionContext,
    ) -> None:
        """Check the members' ``results``; raise ``ParallelGroupError`` to fail the group."""


class StrictGroupPolicy(GroupExecutionPolicy):
    """``"strict"`` (the default): the group fails if any member failed."""

    def get_name(self) -> str:
        """Return ``"strict"``."""
        return "strict"

    def on_group_finished(
        self,
        group_id: str,
        tasks: Sequence[Executable],
        results: dict[str, TaskResult],
        context: ExecutionContext,
    ) -> None:
        """Raise ``ParallelGroupError`` if any member failed."""
        self._validate_group_results(group_id, tasks, results)
        successful, failed = self._partition_group_results(results)
        if failed:
            raise ParallelGroupError(
                f"Parallel group {group_id} failed: {len(failed)} task(s) failed",
                group_id=group_id,
                failed_tasks=failed,
                successful_tasks=successful,
            )


class BestEffortGroupPolicy(GroupExecutionPolicy):
    """``"best_effort"``: the group never fails; member failures are logged as a warning."""

    def get_name(self) -> str:
        """Return ``"best_effort"``."""
        return "best_effort"

    def on_group_finished(
        self,
        group_id: str,
        tasks: Sequence[Executable],
        results: dict[str, TaskResult],
        context: ExecutionContext,
    ) -> None:
        """Log failed members, if any; never raise for failures."""
        self._validate_group_results(group_id, tasks, results)
        _successful, failed = self._partition_group_results(results)
        if failed:
            _log().warning(
                "Parallel group %s completed with %d failure(s); continuing (best-effort). "
                "Failed tasks: %s",
                group_id,
                len(failed),
                [task_id for task_id, _ in failed],
            )


class CriticalGroupPolicy(GroupExecutionPolicy):
    """``"critical"``: the group fails only if one of ``critical_task_ids`` failed."""

    def __init__(self, critical_task_ids: Iterable[str]) -> None:
        """Fail the group only when a task in ``critical_task_ids`` (non-empty) fails."""
        if isinstance(critical_task_ids, str):
            raise InvalidGroupPolicyError(
                "critical_task_ids must be a collection of task ids, not the single string "
                f"{critical_task_ids!r}; use [{critical_task_ids!r}]"
            )
        ids = list(critical_task_ids)
        if not ids:
            raise ValueError("critical_task_ids must contain at least one task id")
        self._critical_task_ids = frozenset(ids)

    def get_name(self) -> str:
        """Return ``"critical"``."""
        return "critical"

    @property
    def critical_task_ids(self) -> list[str]:
        """The critical task ids, sorted."""
        return sorted(self._critical_task_ids)

    def on_group_finished(
        self,
        group_id: str,
        tasks: Sequence[Executable],
        results: dict[str, TaskResult],
        context: ExecutionContext,
    ) -> None:
        """Raise ``ParallelGroupError`` if a critical member failed.

        Raises ``ValueError`` if a critical id is not a member of the group.
        """
        self._validate_group_results(group_id, tasks, results)
        member_ids = {task.task_id for task in tasks}
        not_members = [tid for tid in self._critical_task_ids if tid not in member_ids]
        if not_members:
            raise ValueError(
                f"Critical task ids {sorted(not_members)} are not part of parallel group {group_id}"
            )
        successful, failed = self._partition_group_results(results)
        failed_critical = [
            (tid, results[tid].error_message or "Unknown error")
            for tid in self._critical_task_ids
            if not results[tid].success
        ]
        if failed_critical:
            raise ParallelGroupError(
                f"Critical tasks failed: {[tid for tid, _ in failed_critical]}",
                group_id=group_id,
                failed_tasks=failed_critical,
                successful_tasks=successful,
            )
        optional = [tid for tid, _ in failed if tid not in self._critical_task_ids]
        if optional:
            _log().warning(
                "Parallel group %s completed with optional failures; continuing. "
                "Optional tasks: %s",
                group_id,
                optional,
            )


class AtLeastNGroupPolicy(GroupExecutionPolicy):
    """``"at_least_n"``: the group fails if fewer than ``min_success`` members succeeded."""

    def __init__(self, min_success: int) -> None:
        """Require ``min_success`` (a non-negative int) successful members."""
        if isinstance(min_success, bool) or not isinstance(min_success, int):
            raise InvalidGroupPolicyError(f"min_success must be an integer, got {min_success!r}")
        if min_success < 0:
            raise ValueError("min_success must be non-negative")
        self.min_success = min_success

    def get_name(self) -> str:
        """Return ``"at_least_<min_success>"``."""
        return f"at_least_{self.min_success}"

    def on_group_finished(
        self,
        group_id: str,
        tasks: Sequence[Executable],
        results: dict[str, TaskResult],
        context: ExecutionContext,
    ) -> None:
        """Raise ``ParallelGroupError`` if fewer than ``min_success`` members succeeded.

        Raises ``ValueError`` if ``min_success`` exceeds the number of members.
        """
        self._validate_group_results(group_id, tasks, results)
        total = len(tasks)
        if self.min_success > total:
            raise ValueError(
                f"min_success ({self.min_success}) cannot exceed number of tasks ({total})"
            )
        successful, failed = self._partition_group_results(results)
        if len(successful) < self.min_success:
            raise ParallelGroupError(
                f"Only {len(successful)}/{self.min_success} tasks succeeded in group {group_id}",
                group_id=group_id,
                failed_tasks=failed,
                successful_tasks=successful,
            )
        if failed:
            _log().info(
                "Parallel group %s met at-least-%d policy despite %d failure(s).",
                group_id,
                self.min_success,
                len(failed),
            )


POLICY_REGISTRY: dict[str, type[GroupExecutionPolicy]] = {
    "strict": StrictGroupPolicy,
    "best_effort": BestEffortGroupPolicy,
    "critical": CriticalGroupPolicy,
    "at_least_n": AtLeastNGroupPolicy,
}

# Names usable on their own; "critical"/"at_least_n" need constructor arguments.
_NAMED_POLICIES = ("best_effort", "strict")

_USAGE = (
    "valid policies are the names 'strict' and 'best_effort', "
    "CriticalGroupPolicy([...task ids]), AtLeastNGroupPolicy(n), "
    "an instance of a GroupExecutionPolicy subclass, "
    "or a canonical dict such as {'type': 'critical', 'critical_task_ids': [...]} or "
    "{'type': 'at_least_n', 'min_success': n}"
)


def _policy_from_name(policy: str) -> GroupExecutionPolicy:
    name = policy.lower()
    if name in _NAMED_POLICIES:
        return POLICY_REGISTRY[name]()
    if name == "critical":
        raise InvalidGroupPolicyError(
            f"Group execution policy '{policy}' needs the critical task ids: use "
            "CriticalGroupPolicy(['task_a', ...]) or "
            "{'type': 'critical', 'critical_task_ids': ['task_a', ...]}"
        )
    if name == "at_least_n":
        raise InvalidGroupPolicyError(
            f"Group execution policy '{policy}' needs the minimum number of successes: use "
            "AtLeastNGroupPolicy(n) or {'type': 'at_least_n', 'min_success': n}"
        )
    raise InvalidGroupPolicyError(
        f"Unknown group execution policy '{policy}'. Available policies: "
        f"{sorted(POLICY_REGISTRY)}; {_USAGE}"
    )


def canonicalize_group_policy(
    policy: str | Mapping[str, Any] | GroupExecutionPolicy,
) -> str | dict[str, Any]:
    """Return the canonical, pickle-free form of a policy, as stored by ``with_execution``.

    ``"strict"``/``"best_effort"`` (names or instances) become those strings; a
    :class:`CriticalGroupPolicy` becomes ``{"type": "critical", "critical_task_ids": [sorted]}``;
    an :class:`AtLeastNGroupPolicy` becomes ``{"type": "at_least_n", "min_success": n}``; any
    other policy instance, including one of a subclass of the built-in policies, becomes
    ``{"type": "__custom__", "policy": instance}``. A canonical dict is accepted too.
    Invalid specifications raise :class:`InvalidGroupPolicyError` (a ``ValueError``) naming
    the bad value.
    """
    if isinstance(policy, str):
        _policy_from_name(policy)
        return policy
    policy_class = type(policy)
    if policy_class is StrictGroupPolicy:
        return "strict"
    if policy_class is BestEffortGroupPolicy:
        return "best_effort"
    if type(policy) is CriticalGroupPolicy:
        return {"type": "critical", "critical_task_ids": policy.critical_task_ids}
    if type(policy) is AtLeastNGroupPolicy:
        return {"type": "at_least_n", "min_success": policy.min_success}
    if isinstance(policy, GroupExecutionPolicy):
        return {"type": "__custom__", "policy": policy}
    if isinstance(policy, Mapping):
        return canonicalize_group_policy(resolve_group_policy(policy))
    raise InvalidGroupPolicyError(
        f"Unsupported policy specification type: {type(policy)!r} (got {policy!r}); {_USAGE}"
    )


def resolve_group_policy(
    policy: str | Mapping[str, Any] | GroupExecutionPolicy,
) -> GroupExecutionPolicy:
    """Return the policy instance for a name, a canonical dict or an instance (returned as is).

    Invalid specifications raise :class:`InvalidGroupPolicyError` (a ``ValueError``) naming
    the bad value and listing the valid forms.
    """
    if isinstance(policy, GroupExecutionPolicy):
        return policy
    if isinstance(policy, str):
        return _policy_from_name(policy)
    if isinstance(policy, Mapping):
        policy_type = policy.get("type")
        if not isinstance(policy_type, str):
            raise InvalidGroupPolicyError(
                f"Serialized policy must include a string 'type' field, got {dict(policy)!r}"
            )
        name = policy_type.lower()
        if name == "critical":
            critical_ids = policy.get("critical_task_ids")
            if not isinstance(critical_ids, list):
                raise InvalidGroupPolicyError(
                    f"'critical_task_ids' must be provided as a list, got {critical_ids!r}"
                )
            return CriticalGroupPolicy(critical_ids)
        if name == "at_least_n":
            min_success = policy.get("min_success")
            if isinstance(min_success, bool) or not isinstance(min_success, int):
                raise InvalidGroupPolicyError(
                    f"'min_success' must be provided as an integer, got {min_success!r}"
                )
            return AtLeastNGroupPolicy(min_success)
        if name in _NAMED_POLICIES:
            return _policy_from_name(name)
        if name == "__custom__":
            instance = policy.get("policy")
            if not isinstance(instance, GroupExecutionPolicy):
                raise InvalidGroupPolicyError(
                    "Serialized custom policy must include a GroupExecutionPolicy instance, "
                    f"got {instance!r}"
                )
            return instance
        raise InvalidGroupPolicyError(
            f"Unknown serialized group execution policy '{policy_type}'. Available types: "
            f"{sorted([*POLICY_REGISTRY, '__custom__'])}"
        )
    raise InvalidGroupPolicyError(
        f"Unsupported policy specification type: {type(policy)!r} (got {policy!r}); {_USAGE}"
    )
