"""``GroupExecutor``: picks the backend and policy for a parallel group and runs it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graflow_core.coordination.coordinator import CoordinationBackend, TaskCoordinator, run_member
from graflow_core.exceptions import ConfigError

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.engine import WorkflowEngine
    from graflow_core.core.handler import TaskResult
    from graflow_core.core.handlers.group_policy import GroupExecutionPolicy
    from graflow_core.core.task import Executable


class GroupExecutor:
    """Entry point the ``ParallelGroup`` node uses to run its members."""

    DEFAULT_BACKEND: CoordinationBackend = CoordinationBackend.THREADING

    @staticmethod
    def _resolve_backend(backend: str | CoordinationBackend | None) -> CoordinationBackend:
        if backend is None:
            return GroupExecutor.DEFAULT_BACKEND
        if isinstance(backend, CoordinationBackend):
            return backend
        if isinstance(backend, str):
            normalized = backend.lower()
            for candidate in CoordinationBackend:
                if normalized in (candidate.value, candidate.name.lower()):
                    return candidate
        raise ValueError(f"Unsupported coordination backend: {backend}")

    @staticmethod
    def _create_coordinator(
        backend: CoordinationBackend, config: dict[str, Any], exec_context: ExecutionContext
    ) -> TaskCoordinator:
        if backend == CoordinationBackend.THREADING:
            from graflow_core.coordination.threading_coordinator import ThreadingCoordinator

            return ThreadingCoordinator(config.get("thread_count"))
        if backend == CoordinationBackend.REDIS:
            raise ConfigError(
                "The Redis backend is not part of graflow_core. To run parallel groups on "
                "several machines, run the workflow on an orchestrator (graflow-airflow, "
                "graflow-prefect, graflow-dagster) and use its distributed executor."
            )
        raise ValueError("DIRECT backend should be handled separately")

    @staticmethod
    def execute_parallel_group(
        group_id: str,
        tasks: list[Executable],
        exec_context: ExecutionContext,
        *,
        backend: str | CoordinationBackend | None = None,
        backend_config: dict[str, Any] | None = None,
        policy: Any = "strict",
        engine: WorkflowEngine | None = None,
    ) -> None:
        """Run ``tasks`` with the chosen backend, then apply ``policy``."""
        from graflow_core.core.handlers.group_policy import resolve_group_policy

        resolved = GroupExecutor._resolve_backend(backend)
        policy_instance = resolve_group_policy(policy)
        if resolved == CoordinationBackend.DIRECT:
            GroupExecutor.direct_execute(group_id, tasks, exec_context, policy_instance, engine)
            return
        config = {**exec_context.config, **(backend_config or {})}
        coordinator = GroupExecutor._create_coordinator(resolved, config, exec_context)
        coordinator.execute_group(group_id, tasks, exec_context, policy_instance, engine)

    @staticmethod
    def direct_execute(
        group_id: str,
        tasks: list[Executable],
        execution_context: ExecutionContext,
        policy_instance: GroupExecutionPolicy,
        engine: WorkflowEngine | None = None,
    ) -> None:
        """Run members one after another in the *same* context (no branch isolation).

        As in Graflow, each member's run continues with whatever is queued in that context.
        """
        from graflow_core.core.engine import WorkflowEngine

        run_engine = engine if engine is not None else WorkflowEngine()
        results: dict[str, TaskResult] = {}
        for member in tasks:
            results[member.task_id] = run_member(
                member.task_id, run_engine._run, execution_context, member.task_id, member
            )
        policy_instance.on_group_finished(group_id, tasks, results, execution_context)
