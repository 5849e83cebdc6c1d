"""The workflow engine: a FIFO loop over task ids with join, retry and checkpoint semantics.

Per task the loop does: cycle bookkeeping, the handler call (inlined for the default
"direct" handler), result storage in the channel, completion bookkeeping, then queues the
successors.  A successor with several *forward* predecessors (a join) is queued once, when the
last of them has completed; a predecessor in the same loop as the node triggers it directly.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any

from graflow_core.core.context import TaskExecutionContext
from graflow_core.core.handlers.direct import DirectTaskHandler
from graflow_core.core.hooks import HookSnapshot, hooks_for
from graflow_core.core.task import ParallelGroup, TaskWrapper
from graflow_core.core.workflow import _running, _start_running
from graflow_core.exceptions import (
    GraflowRuntimeError,
    GraflowWorkflowCanceledError,
    MaxStepsExceededError,
    as_runtime_error,
    describe_error,
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
        root = context.parent_context is None
        tracing = context._tracing and root
        hooks = hooks_for(context) if root else None
        name = context.workflow_name or ""
        result: Any = None
        try:
            if tracing:
                context.tracer.on_workflow_start(name, context)
            if hooks is not None and hooks.workflow_start is not None:
                hooks.workflow_start(context=context, workflow_name=name)
            try:
                result = self._run(context, start_task_id, None)
                _finish(context)
            except BaseException as exc:
                if hooks is not None and hooks.workflow_failure is not None:
                    hooks.workflow_failure(context=context, workflow_name=name, error=exc)
                raise
            if hooks is not None and hooks.workflow_end is not None:
                hooks.workflow_end(context=context, workflow_name=name, result=result)
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
        # Per-task hooks only: a plugin that observes workflows alone keeps tasks on the fast path.
        run_hooks = hooks_for(ctx)
        hooks = run_hooks if run_hooks is not None and run_hooks.task_hooks else None
        # Not for nested runs (a direct-backend group member runs in its parent's context).
        after_task = ctx._after_task if ctx.parent_context is None and start_task is None else None
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
                if (
                    hooks is None
                    and direct_builtin
                    and task.handler_type == "direct"
                    and task._plain
                ):
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
                    result = self._execute_extended(task, task_id, ctx, hooks)
            except Exception as exc:
                error = exc
            finally:
                stack.pop()
                if tracing:
                    tracer.on_task_end(
                        task, ctx, result=None if error is not None else result, error=error
                    )

            if error is not None:
                if self._handle_task_retry(task_id, error, ctx, task=task, hooks=hooks):
                    task_id = queue.popleft()
                    continue
                self._final_failure(task, task_id, error, ctx, hooks)
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
            if hooks is not None and hooks.task_end is not None:
                hooks.task_end(task=task, task_id=task_id, context=ctx, result=result)

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
            if after_task is not None:
                after_task(ctx, task_id)

            task_id = queue.popleft() if queue else None
        return last_result

    # -- the extended path: plugins, task types, timeouts, circuit breakers ---------------------

    def _execute_extended(
        self, task: Executable, task_id: str, ctx: ExecutionContext, hooks: HookSnapshot | None
    ) -> Any:
        """One attempt of a task that plugins observe or that has a type/timeout/breaker.

        Layers, outermost first: the ``execute_task`` hook (where it runs), the circuit breaker,
        the timeout, the task type, then the body (the direct call or the task's handler).
        """
        if hooks is not None and hooks.task_start is not None:
            hooks.task_start(task=task, task_id=task_id, context=ctx)
        direct = (
            task.handler_type == "direct" and type(self._handlers["direct"]) is DirectTaskHandler
        )
        if direct:
            engine = self

            def call() -> Any:
                if type(task) is TaskWrapper:
                    return task._invoke(ctx, (), {})
                if isinstance(task, ParallelGroup):
                    task._run_with(ctx, engine)
                    return None
                return task.run()

        else:
            handler = self._get_handler(task)

            def call() -> Any:
                return handler.execute_task(task, ctx)

        if not task._plain:
            call = _with_task_extensions(task, task_id, ctx, call)
        execute_hook = hooks.execute_task if hooks is not None else None
        try:
            if execute_hook is None:
                value = call()
            else:
                outcome = execute_hook(task=task, task_id=task_id, context=ctx, invoke=call)
                value = call() if outcome is None else _outcome_value(outcome, task_id)
        except Exception as exc:
            if direct:
                ctx.set_result(task_id, exc)
            raise
        if direct:
            ctx.set_result(task_id, value)
        return value

    def _final_failure(
        self,
        task: Executable,
        task_id: str,
        error: Exception,
        ctx: ExecutionContext,
        hooks: HookSnapshot | None,
    ) -> None:
        """A task failed for good: tell the plugins and the dead-letter store."""
        if hooks is not None and hooks.task_failure is not None:
            hooks.task_failure(task=task, task_id=task_id, context=ctx, error=error, final=True)
        store = ctx.dead_letter_store
        if store is not None and not isinstance(task, ParallelGroup):  # members are recorded
            try:
                store.record_failure(task=task, task_id=task_id, context=ctx, error=error)
            except Exception as exc:  # never hide the task's own error behind the store's
                import warnings

                warnings.warn(
                    f"Could not record the failure of task '{task_id}' in the dead-letter "
                    f"store {store!r}: {describe_error(exc)}",
                    RuntimeWarning,
                    stacklevel=2,
                )

    # -- helpers Graflow's tests call ----------------------------------------------------------

    def _execute_task(self, task: Executable, context: ExecutionContext) -> Any:
        with context.executing_task(task):
            return self._get_handler(task).execute_task(task, context)

    def _handle_task_retry(
        self,
        task_id: str,
        error: Exception,
        context: ExecutionContext,
        *,
        task: Executable | None = None,
        hooks: HookSnapshot | None = None,
    ) -> bool:
        """Re-queue a failed task at the head after its backoff delay, if it has retries left."""
        retry = context.retry_controller
        if retry.accept_retry(task_id):
            attempt = retry.increment(task_id, error)
            delay = retry.get_delay(task_id)
            if hooks is not None and task is not None:
                if hooks.task_failure is not None:
                    hooks.task_failure(
                        task=task, task_id=task_id, context=context, error=error, final=False
                    )
                if hooks.task_retry is not None:
                    hooks.task_retry(
                        task=task,
                        task_id=task_id,
                        context=context,
                        error=error,
                        attempt=attempt,
                        delay=delay,
                    )
            if delay > 0:
                time.sleep(delay)
            # At the head: the retry runs before anything queued behind the failed task, so
            # work queued meanwhile (a dynamic task's parent's successors) never sees the
            # failed attempt as its result.
            context.task_queue._ids.appendleft(task_id)
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


def _with_task_extensions(task: Executable, task_id: str, ctx: ExecutionContext, body: Any) -> Any:
    """Wrap ``body`` in the task's type, timeout and circuit breaker (innermost first).

    The breaker is outermost so that a timed-out attempt counts as a failure of the guarded
    dependency.
    """
    call = body
    type_name = task.task_type
    if type_name is not None:
        from graflow_core.core.task_types import get_task_type

        call = partial(get_task_type(type_name).execute, task, ctx, call)  # type: ignore[arg-type]
    timeout = task.timeout
    if timeout is not None:
        from graflow_core.core.timeouts import call_with_timeout

        call = partial(call_with_timeout, call, timeout, task_id)
    from graflow_core.resilience.circuit_breaker import circuit_breaker_for

    breaker = circuit_breaker_for(task)
    if breaker is not None:
        call = partial(breaker.call, call, task_id)
    return call


def _outcome_value(outcome: Any, task_id: str) -> Any:
    from graflow_core.plugins.outcome import TaskOutcome

    if not isinstance(outcome, TaskOutcome):
        from graflow_core.exceptions import PluginError

        raise PluginError(
            f"An execute_task hook returned {outcome!r} for task '{task_id}'; it must return "
            "TaskOutcome(value) when it executed the task, or None to let the core run it."
        )
    return outcome.value
