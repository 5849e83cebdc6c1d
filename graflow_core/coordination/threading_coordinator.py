"""Run parallel-group members on a small pool of threads, one branch context per member."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from graflow_core.coordination.coordinator import TaskCoordinator, run_member

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.engine import WorkflowEngine
    from graflow_core.core.handler import TaskResult
    from graflow_core.core.handlers.group_policy import GroupExecutionPolicy
    from graflow_core.core.task import Executable


class ThreadingCoordinator(TaskCoordinator):
    """Each member runs in its own branch context; ``thread_count`` threads share the work.

    Successful branches are merged into the parent in completion order (last writer wins)
    after all members have finished, so every member sees the channel as it was when the
    group started.
    """

    def __init__(self, thread_count: int | None = None) -> None:
        if thread_count is not None and (not isinstance(thread_count, int) or thread_count < 1):
            raise ValueError(f"thread_count must be an int >= 1, got {thread_count!r}")
        self.thread_count = thread_count or os.cpu_count() or 1

    def execute_group(
        self,
        group_id: str,
        tasks: list[Executable],
        execution_context: ExecutionContext,
        policy: GroupExecutionPolicy,
        engine: WorkflowEngine | None = None,
    ) -> None:
        from graflow_core.core.engine import WorkflowEngine

        run_engine = engine if engine is not None else WorkflowEngine()
        parent = execution_context
        members = list(tasks)
        results: dict[str, TaskResult] = {}
        finished: list[ExecutionContext] = []
        next_index = iter(range(len(members))).__next__
        take = threading.Lock()
        if parent._tracing:
            parent.tracer.on_parallel_group_start(group_id, [t.task_id for t in members], parent)

        def run_branch(member: Executable) -> None:
            branch = parent.create_branch_context(member.task_id)
            run_engine._run_branch(branch, member)
            finished.append(branch)

        def work() -> None:
            while True:
                with take:
                    try:
                        index = next_index()
                    except StopIteration:
                        return
                member = members[index]
                results[member.task_id] = run_member(member.task_id, run_branch, member)

        count = min(self.thread_count, len(members))
        if count <= 1:
            work()
        else:
            threads = [
                threading.Thread(target=work, name=f"graflow-{group_id}-{i}", daemon=True)
                for i in range(count)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        for branch in finished:
            parent.merge_results(branch)
        ordered = {t.task_id: results[t.task_id] for t in members if t.task_id in results}
        if parent._tracing:
            parent.tracer.on_parallel_group_end(group_id, list(ordered), parent, ordered)
        policy.on_group_finished(group_id, members, ordered, parent)
