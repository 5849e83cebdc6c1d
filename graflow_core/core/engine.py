"""The workflow engine: a FIFO loop over task ids with join, retry and checkpoint semantics.

Per task the loop does: cycle bookkeeping, the handler call (inlined for the default
"direct" handler), result storage in the channel, completion bookkeeping, then queues the
successors.  A successor with several *forward* predecessors (a join) is queued once, when the
last of them has completed; a predecessor in the same loop as the node triggers it directly.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from graflow_core.core.context import TaskExecutionContext
from graflow_core.core.handlers.direct import DirectTaskHandler
from graflow_core.core.task import ParallelGroup, TaskWrapper
from graflow_core.core.workflow import _running, _start_running
from graflow_core.exceptions import (
    GraflowRuntimeError,
    GraflowWorkflowCanceledError,
    MaxStepsExceededError,
    as_runtime_error,
)

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.graph import TaskGraph
    from graflow_core.core.handler import TaskHandler
    from graflow_core.core.task import Executable


class WorkflowEngine:
    """Executes an :class:`ExecutionContext` until its queue is empty."""

    def __init__(self) -> None:
        self._handlers: dict[str, TaskHandler] = {"direct": DirectTaskHandler()}

    def register_handler(self, handler_type: str, handler: TaskHandler) -> None:
        """Use ``handler`` for tasks declared with ``@task(handler=handler_type)``."""
        self._handlers[handler_type] = handler

    def _get_handler(self, task: Executable) -> TaskHandler:
        handler_type = getattr(task, "handler_type", "direct")
        handler = self._handlers.get(handler_type)
        if handler is None:
            supported = ", ".join(self._handlers)
            raise ValueError(f"Unknown handler type: {handler_type}. Supported: {supported}")
        return handler

    def execute(self, context: ExecutionContext, start_task_id: str | None = None) -> Any:
        """Run ``context``; returns the result of the last task executed.

        ``start_task_id`` runs that task first instead of dequeuing.
        """
        token = _start_running(context)
        tracing = context._tracing and context.parent_context is None
        name = context.workflow_name or ""
        result: Any = None
        try:
            if tracing:
                context.tracer.on_workflow_start(name, context)
            result = self._run(context, start_task_id, None)
            _finish(context)
            return result
        finally:
            _running.reset(token)
            if tracing:
                context.tracer.on_workflow_end(name, context, result=result)

    def execute_with_cycles(self, graph: TaskGraph, start_node: str, max_steps: int = 10) -> Any:
        """Run ``graph`` from ``start_node`` with at most ``max_steps`` steps."""
        from graflow_core.core.context import ExecutionContext

        return self.execute(ExecutionContext.create(graph, start_node, max_steps=max_steps))

    def _run_branch(self, context: ExecutionContext, member: Executable) -> Any:
        """Run one parallel-group member (and what follows it) in its branch context."""
        token = _start_running(context)
        try:
            result = self._run(context, member.task_id, member)
            _finish(context)
            return result
        finally:
            _running.reset(token)

    # -- the loop ------------------------------------------------------------------------------

    def _run(
        self,
        ctx: ExecutionContext,
        start_task_id: str | None,
        start_task: Executable | None,
    ) -> Any:
        graph = ctx.graph
        tasks = graph._tasks
        successors = graph._succ
        queue = ctx.task_queue._ids
        channel = ctx.channel
        fast_data = ctx._fast_data
        tracing = ctx._tracing
        tracer = ctx.tracer
        cycle_counts = ctx.cycle_controller.cycle_counts
        retry = ctx.retry_controller
        retry_counts = retry.retry_counts
        completed_set = ctx._completed_set
        completed_list = ctx.completed_tasks
        iteration_bases = ctx._iteration_bases
        arrivals = ctx._join_arrivals
        stack = ctx._task_ctx_stack
        direct = self._handlers["direct"]
        direct_builtin = type(direct) is DirectTaskHandler
        apply_settings = ctx._apply_task_settings
        run_start = start_task_id if start_task_id is not None else ctx.start_node
        joins = graph.join_predecessors(run_start)
        joins_version = graph._version

        last_result: Any = None
        task_id: str | None = start_task_id
        if task_id is None and queue:
            task_id = queue.popleft()

        pending_task = start_task

        while task_id is not None:
            if ctx.steps >= ctx.max_steps:
                raise MaxStepsExceededError(ctx.max_steps, task_id, len(queue) + 1)
            ctx.goto_called = ctx.terminate_called = ctx.cancel_called = False
            ctx.ctrl_message = None

            task = pending_task if pending_task is not None else tasks.get(task_id)
            pending_task = None
            if task is None:
                try:
                    task = graph.get_node(task_id)
                except KeyError:
                    raise GraflowRuntimeError(
                        f"Node '{task_id}' not found in graph. It was queued (as a start "
                        "node, successor or next_task target) but is not part of the "
                        "workflow; check the task id."
                    ) from None

            base_id = iteration_bases.get(task_id, task_id)
            if base_id is task_id and "_cycle_" in task_id:
                base_id = ctx._base_id(task_id)
            apply_settings(task, task_id, base_id)
            if not retry_counts.get(task_id):
                cycle_counts[base_id] = cycle_counts.get(base_id, 0) + 1

            task_ctx = TaskExecutionContext(task_id, ctx)
            if tracing:
                tracer.on_task_start(task, ctx)
            stack.append(task_ctx)
            task._execution_context = ctx
            error: Exception | None = None
            result: Any = None
            try:
                if direct_builtin and task.handler_type == "direct":
                    try:
                        if type(task) is TaskWrapper:
                            result = task._invoke(ctx, (), {})
                        elif isinstance(task, ParallelGroup):
                            task._run_with(ctx, self)

                        else:
                            result = task.run()
                    except Exception as exc:
                        result = exc
                        raise
                    finally:
                        key = f"{task_id}.__result__"
                        if fast_data is not None and not channel._expiry:  # type: ignore[attr-defined]
                            fast_data[key] = result
                        else:
                            channel.set(key, result)
                else:
                    result = self._get_handler(task).execute_task(task, ctx)
            except Exception as exc:
                error = exc
            finally:
                stack.pop()
                if tracing:
                    tracer.on_task_end(
                        task, ctx, result=None if error is not None else result, error=error
                    )

            if error is not None:
                if self._handle_task_retry(task_id, error, ctx):
                    task_id = queue.popleft()
                    continue
                if retry.get_max_retries_for_node(task_id) > 0:
                    retry.increment(task_id, error)
                    retry.check_retry_limit(task_id)
                wrapped = as_runtime_error(error)
                if wrapped is error:
                    raise error
                raise wrapped from error

            if ctx.cancel_called:
                raise GraflowWorkflowCanceledError(ctx.ctrl_message or "", task_id)

            if task_id not in completed_set:
                completed_set.add(task_id)
                completed_list.append(task_id)
            ctx.steps += 1
            last_result = result

            if ctx.terminate_called:
                if ctx.checkpoint_requested:
                    self._handle_deferred_checkpoint(ctx)
                break

            if not ctx.goto_called:
                source = base_id
                succ = successors.get(source)
                if succ:
                    if graph._version != joins_version:
                        joins = graph.join_predecessors(run_start)
                        joins_version = graph._version
                    for s in succ:
                        need = joins.get(s) if joins else None
                        if need is None or source not in need:
                            queue.append(s)
                            continue
                        arrived = arrivals.get(s)
                        if arrived is None:
                            arrived = arrivals[s] = set()
                        arrived.add(source)
                        if len(arrived) >= len(need):
                            del arrivals[s]
                            queue.append(s)

            if ctx.checkpoint_requested:
                self._handle_deferred_checkpoint(ctx)

            task_id = queue.popleft() if queue else None
        return last_result

    # -- helpers Graflow's tests call ----------------------------------------------------------

    def _execute_task(self, task: Executable, context: ExecutionContext) -> Any:
        with context.executing_task(task):
            return self._get_handler(task).execute_task(task, context)

    def _handle_task_retry(self, task_id: str, error: Exception, context: ExecutionContext) -> bool:
        """Re-queue a failed task at the tail after its backoff delay, if it has retries left."""
        retry = context.retry_controller
        if retry.accept_retry(task_id):
            retry.increment(task_id, error)
            delay = retry.get_delay(task_id)
            if delay > 0:
                time.sleep(delay)
            context.task_queue._ids.append(task_id)
            return True
        return False

    def _handle_deferred_checkpoint(self, context: ExecutionContext) -> None:
        from graflow_core.core.checkpoint import CheckpointManager

        CheckpointManager.create_checkpoint(
            context,
            path=context.checkpoint_request_path,
            metadata=context.checkpoint_request_metadata,
        )
        context.clear_checkpoint_request()


def _finish(ctx: ExecutionContext) -> None:
    """Joins still waiting when a run ends were skipped (a predecessor never completed)."""
    arrivals = ctx._join_arrivals
    if arrivals:
        ctx.skipped_tasks.extend(arrivals)
        arrivals.clear()
