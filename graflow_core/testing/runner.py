"""Run a workflow for a test and inspect what happened: :func:`run_workflow` → :class:`WorkflowRun`.

The run is an ordinary run of the real engine.  The only addition is a recording tracer put in
front of the workflow's own tracer (which still receives every event), so that the result
knows which tasks completed and failed, in order, including parallel-group members.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from graflow_core.channels.base import RESULT_SUFFIX, task_results
from graflow_core.trace.base import Tracer

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import Executable
    from graflow_core.core.workflow import WorkflowContext

__all__ = ["WorkflowRun", "resume_workflow", "run_workflow"]

_MISSING: Any = object()


class _RunLog:
    """Task events of one run, shared by the root tracer and its parallel-branch clones."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: list[str] = []
        self.completed: list[str] = []
        self.failures: list[tuple[str, BaseException]] = []


class _RecordingTracer(Tracer):
    """Records task starts/ends into a :class:`_RunLog`, then forwards to ``inner``."""

    def __init__(self, inner: Tracer, log: _RunLog) -> None:
        self._inner = inner
        self._log = log

    def on_workflow_start(self, name: str, context: ExecutionContext) -> None:
        self._inner.on_workflow_start(name, context)

    def on_workflow_end(self, name: str, context: ExecutionContext, result: Any = None) -> None:
        self._inner.on_workflow_end(name, context, result=result)

    def on_task_queued(self, task: Executable, context: ExecutionContext) -> None:
        self._inner.on_task_queued(task, context)

    def on_task_start(self, task: Executable, context: ExecutionContext) -> None:
        with self._log.lock:
            self._log.started.append(task.task_id)
        self._inner.on_task_start(task, context)

    def on_task_end(
        self,
        task: Executable,
        context: ExecutionContext,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        log = self._log
        with log.lock:
            if error is None:
                log.completed.append(task.task_id)
            else:
                log.failures.append((task.task_id, error))
        self._inner.on_task_end(task, context, result=result, error=error)

    def on_dynamic_task_added(
        self,
        task_id: str,
        parent_task_id: str | None = None,
        is_iteration: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._inner.on_dynamic_task_added(task_id, parent_task_id, is_iteration, metadata)

    def on_parallel_group_start(
        self, group_id: str, member_ids: list[str], context: ExecutionContext
    ) -> None:
        self._inner.on_parallel_group_start(group_id, member_ids, context)

    def on_parallel_group_end(
        self,
        group_id: str,
        member_ids: list[str],
        context: ExecutionContext,
        results: dict[str, Any] | None = None,
    ) -> None:
        self._inner.on_parallel_group_end(group_id, member_ids, context, results)

    def clone(self, trace_id: str) -> Tracer:
        return _RecordingTracer(self._inner.clone(trace_id), self._log)

    def attach_to_trace(self, trace_id: str, parent_span_id: str | None = None) -> None:
        self._inner.attach_to_trace(trace_id, parent_span_id)

    def flush(self) -> None:
        self._inner.flush()

    def shutdown(self) -> None:
        self._inner.shutdown()


def _describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class WorkflowRun:
    """The outcome of one run made by :func:`run_workflow`.

    Attributes:
        workflow: the :class:`WorkflowContext` that was run (None when an ExecutionContext
            was run directly, e.g. after a resume).
        context: the run's :class:`ExecutionContext` (also after a failure).
        error: the exception the run ended with, or None when it succeeded.
        completed: ids of the tasks that finished without raising, in completion order
            (parallel-group members included, and the group node itself).
        started: ids of the tasks that started, in order (a retried task appears per attempt).
        failures: ``(task_id, exception)`` for every failed attempt, in order.
        skipped: joins that were still waiting for a predecessor when the run ended.
        channel: a snapshot (shallow copy) of the channel after the run: ``{key: value}``.
        duration: wall-clock seconds the run took.
    """

    def __init__(
        self,
        *,
        workflow: WorkflowContext | None,
        context: ExecutionContext,
        result: Any,
        error: Exception | None,
        log: _RunLog,
        duration: float,
    ) -> None:
        self.workflow = workflow
        self.context = context
        self._result = result
        self.error = error
        self.completed: list[str] = list(log.completed)
        self.started: list[str] = list(log.started)
        self.failures: list[tuple[str, BaseException]] = list(log.failures)
        self.skipped: list[str] = list(context.skipped_tasks)
        channel = context.channel
        self.channel: dict[str, Any] = channel.to_dict()
        self.duration = duration

    # -- outcome -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The workflow's name (``"<context>"`` when none is known)."""
        if self.workflow is not None:
            return self.workflow.name
        return self.context.workflow_name or "<context>"

    @property
    def succeeded(self) -> bool:
        """True when the run ended without an error."""
        return self.error is None

    @property
    def result(self) -> Any:
        """What ``execute()`` returned: the result of the last task executed.

        Raises ``AssertionError`` (chained to the run's error) when the run failed, so a test
        never mistakes a failed run's missing result for a real one.
        """
        __tracebackhide__ = True
        if self.error is not None:
            raise AssertionError(
                f"workflow '{self.name}' failed, so it has no result: "
                f"{_describe_error(self.error)}{self._failure_hint()}"
            ) from self.error
        return self._result

    @property
    def failed_task(self) -> str | None:
        """The id of the task whose failure ended the run (None if it succeeded)."""
        if self.error is None:
            return None
        task_id = getattr(self.error, "task_id", None) or getattr(self.error, "group_id", None)
        if isinstance(task_id, str):
            return task_id
        return self.failures[-1][0] if self.failures else None

    @property
    def results(self) -> dict[str, Any]:
        """``{task_id: result}`` of every task that stored a result (an exception if it failed)."""
        return task_results(self.channel)

    def get_result(self, task_id: str, default: Any = None) -> Any:
        """The stored result of ``task_id`` (``default`` if it stored none)."""
        return self.channel.get(f"{task_id}{RESULT_SUFFIX}", default)

    # -- assertions ----------------------------------------------------------------------------

    def _failure_hint(self) -> str:
        """`` (task 'x' raised ValueError: ...)`` for the task failures behind the run's error."""
        shown = [(t, e) for t, e in self.failures if e is not self.error]
        failed_members = getattr(self.error, "failed_tasks", None)
        if failed_members:
            member_ids = {entry[0] for entry in failed_members}
            shown = [(t, e) for t, e in shown if t in member_ids]
        elif shown:
            shown = shown[-1:]
        if not shown:
            return ""
        return " (" + "; ".join(f"task '{t}' raised {_describe_error(e)}" for t, e in shown) + ")"

    def _summary(self) -> str:
        parts = [f"completed, in order: {self.completed}"]
        if self.failures:
            failed = ", ".join(f"'{t}' ({_describe_error(e)})" for t, e in self.failures)
            parts.append(f"failed: {failed}")
        if self.skipped:
            parts.append(f"skipped: {self.skipped}")
        if self.error is not None:
            parts.append(f"the run failed with {_describe_error(self.error)}")
        return "; ".join(parts)

    def assert_succeeded(self) -> WorkflowRun:
        """Fail unless the run ended without an error."""
        __tracebackhide__ = True
        if self.error is not None:
            raise AssertionError(
                f"workflow '{self.name}' failed: {_describe_error(self.error)}"
                f"{self._failure_hint()}; completed, in order: {self.completed}"
            ) from self.error
        return self

    def _error_chain(self) -> list[BaseException]:
        """The run's error, what it wraps, and the member errors of a failed parallel group."""
        error = self.error
        if error is None:
            return []
        chain: list[BaseException] = [error]
        cause = getattr(error, "cause", None) or error.__cause__
        if isinstance(cause, BaseException) and cause is not error:
            chain.append(cause)
        failed_members = getattr(error, "failed_tasks", None)
        if failed_members:
            member_ids = {entry[0] for entry in failed_members}
            chain.extend(e for t, e in self.failures if t in member_ids and e not in chain)
        elif self.failures and self.failures[-1][1] not in chain:
            chain.append(self.failures[-1][1])
        return chain

    def assert_failed(
        self,
        error_type: type[BaseException] | tuple[type[BaseException], ...] = Exception,
        *,
        match: str | None = None,
        task_id: str | None = None,
    ) -> BaseException:
        """Fail unless the run failed; returns the matching error closest to the task.

        The engine wraps what a task raised (``GraflowRuntimeError``, ``RetryLimitExceededError``,
        ``ParallelGroupError`` for a group), so ``error_type`` and ``match`` (a regular
        expression searched in ``str(error)``) are checked against the run's error, the
        exception it wraps, and the errors of a failed group's members; the one returned is the
        original exception when it matches, else the wrapper.  ``task_id`` must be the task
        (or group) whose failure ended the run.
        """
        __tracebackhide__ = True
        import re

        error = self.error
        if error is None:
            raise AssertionError(
                f"workflow '{self.name}' succeeded, expected it to fail; "
                f"completed, in order: {self.completed}"
            )
        chain = self._error_chain()
        typed = [c for c in chain if isinstance(c, error_type)]
        if not typed:
            names = (
                " or ".join(t.__name__ for t in error_type)
                if isinstance(error_type, tuple)
                else error_type.__name__
            )
            raise AssertionError(
                f"workflow '{self.name}' failed with {_describe_error(error)}"
                f"{self._failure_hint()}, expected {names}"
            ) from error
        if match is not None:
            typed = [c for c in typed if re.search(match, str(c))]
            if not typed:
                raise AssertionError(
                    f"workflow '{self.name}' failed with {_describe_error(error)}"
                    f"{self._failure_hint()}; no error message matches {match!r}"
                ) from error
        if task_id is not None and self.failed_task != task_id:
            raise AssertionError(
                f"workflow '{self.name}' failed in task '{self.failed_task}', expected "
                f"task '{task_id}' ({_describe_error(error)})"
            ) from error
        return typed[-1]

    def assert_completed(self, *task_ids: str, in_order: bool = False) -> WorkflowRun:
        """Fail unless every one of ``task_ids`` completed (with ``in_order``: in that order).

        ``in_order`` checks the relative order only: other tasks may complete in between.
        """
        __tracebackhide__ = True
        missing = [t for t in task_ids if t not in self.completed]
        if missing:
            which = ", ".join(f"'{t}'" for t in missing)
            raise AssertionError(
                f"workflow '{self.name}': task{'s' if len(missing) > 1 else ''} {which} "
                f"did not complete; {self._summary()}"
            )
        if in_order:
            positions = [self.completed.index(t) for t in task_ids]
            if positions != sorted(positions):
                actual = sorted(task_ids, key=self.completed.index)
                raise AssertionError(
                    f"workflow '{self.name}': tasks completed in the order {actual}, "
                    f"expected {list(task_ids)}; completed, in order: {self.completed}"
                )
        return self

    def assert_not_run(self, *task_ids: str) -> WorkflowRun:
        """Fail if any of ``task_ids`` started in this run (successfully or not).

        After a resume, tasks that ran before the checkpoint do not count: their results are
        in the channel, but they did not run again.
        """
        __tracebackhide__ = True
        ran = [t for t in task_ids if t in self.started]
        if ran:
            which = ", ".join(f"'{t}'" for t in ran)
            raise AssertionError(
                f"workflow '{self.name}': expected {which} not to run, but "
                f"{'they' if len(ran) > 1 else 'it'} did; {self._summary()}"
            )
        return self

    def assert_skipped(self, *task_ids: str) -> WorkflowRun:
        """Fail unless each of ``task_ids`` is a join the run left waiting (``skipped``)."""
        __tracebackhide__ = True
        missing = [t for t in task_ids if t not in self.skipped]
        if missing:
            raise AssertionError(
                f"workflow '{self.name}': expected {missing} to be skipped; "
                f"skipped: {self.skipped}, completed, in order: {self.completed}"
            )
        return self

    def assert_result(self, task_id: str, expected: Any) -> WorkflowRun:
        """Fail unless task ``task_id`` stored a result equal to ``expected``."""
        __tracebackhide__ = True
        key = f"{task_id}{RESULT_SUFFIX}"
        if key not in self.channel:
            raise AssertionError(
                f"workflow '{self.name}': task '{task_id}' stored no result (it did not run); "
                f"{self._summary()}"
            )
        actual = self.channel[key]
        if not _equal(actual, expected):
            raise AssertionError(
                f"workflow '{self.name}': task '{task_id}' returned {actual!r}, "
                f"expected {expected!r}"
            )
        return self

    def assert_channel(self, key: str, expected: Any = _MISSING) -> WorkflowRun:
        """Fail unless the channel holds ``key`` (equal to ``expected``, when given)."""
        __tracebackhide__ = True
        if key not in self.channel:
            keys = sorted(k for k in self.channel if not k.endswith(RESULT_SUFFIX))
            raise AssertionError(
                f"workflow '{self.name}': channel has no key {key!r}; its keys "
                f"(besides task results) are {keys}"
            )
        actual = self.channel[key]
        if expected is not _MISSING and not _equal(actual, expected):
            raise AssertionError(
                f"workflow '{self.name}': channel[{key!r}] is {actual!r}, expected {expected!r}"
            )
        return self

    def __repr__(self) -> str:
        state = "succeeded" if self.error is None else f"failed: {_describe_error(self.error)}"
        return f"WorkflowRun({self.name!r}, {state}, completed={self.completed})"


def _equal(actual: Any, expected: Any) -> bool:
    try:
        return bool(actual == expected)
    except Exception:  # e.g. numpy arrays: ambiguous truth value
        return actual is expected


def run_workflow(
    target: WorkflowContext | ExecutionContext,
    *,
    start_node: str | None = None,
    max_steps: int = 10000,
    initial_channel: dict[str, Any] | None = None,
    plugins: Sequence[object] = (),
) -> WorkflowRun:
    """Run ``target`` with the real engine and return a :class:`WorkflowRun`.

    ``target`` is a :class:`WorkflowContext` (run like ``wf.execute(start_node, max_steps,
    initial_channel=..., plugins=...)``) or an :class:`ExecutionContext` (continued as is, e.g.
    one returned by ``CheckpointManager.resume_from_checkpoint``; then ``start_node``,
    ``max_steps`` and ``initial_channel`` must be left at their defaults).  ``plugins`` are hook
    implementations for this run only, e.g. a :class:`~graflow_core.testing.HookRecorder`.
    An exception raised by the run does not propagate: it is kept in
    :attr:`WorkflowRun.error` (check it with ``assert_succeeded()`` / ``assert_failed()``;
    reading ``.result`` of a failed run raises).
    """
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.workflow import WorkflowContext

    workflow: WorkflowContext | None
    if isinstance(target, WorkflowContext):
        workflow = target
        context = target.create_execution_context(start_node, max_steps, initial_channel)
        engine = target.create_engine()
    elif isinstance(target, ExecutionContext):
        if start_node is not None or max_steps != 10000 or initial_channel is not None:
            raise TypeError(
                "run_workflow(ExecutionContext): start_node, max_steps and initial_channel "
                "apply to a WorkflowContext only; the context already has its queue and channel"
            )
        from graflow_core.core.engine import WorkflowEngine

        workflow = None
        context = target
        engine = WorkflowEngine()
    else:
        raise TypeError(
            f"run_workflow() expects a WorkflowContext (from `with workflow(...) as wf`) or an "
            f"ExecutionContext, got {type(target).__name__}"
        )

    if plugins:
        context.use_plugins(*plugins)
    log = _RunLog()
    own_tracer = context.tracer
    context.set_tracer(_RecordingTracer(own_tracer, log))
    result: Any = None
    error: Exception | None = None
    started = time.perf_counter()
    try:
        result = engine.execute(context)
    except Exception as exc:
        error = exc
    finally:
        context.set_tracer(own_tracer)
    duration = time.perf_counter() - started
    return WorkflowRun(
        workflow=workflow,
        context=context,
        result=result,
        error=error,
        log=log,
        duration=duration,
    )


def resume_workflow(checkpoint_path: str, *, plugins: Sequence[object] = ()) -> WorkflowRun:
    """Resume the checkpoint at ``checkpoint_path`` (``.pkl`` optional) and run it to the end.

    Loading errors (a missing or unreadable checkpoint) propagate; errors of the resumed run
    are kept in :attr:`WorkflowRun.error` as with :func:`run_workflow`.
    """
    from graflow_core.core.checkpoint import CheckpointManager

    context, _ = CheckpointManager.resume_from_checkpoint(checkpoint_path)
    return run_workflow(context, plugins=plugins)
