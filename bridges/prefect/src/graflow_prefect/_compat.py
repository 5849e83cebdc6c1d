"""Everything that depends on the Prefect version, in one place (Prefect 3.7 - 3.9).

Imported only when a bridged flow is built or runs (it imports Prefect).
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from typing import Any

import prefect
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRunResult
from prefect.context import ContextModel, FlowRunContext, TaskRunContext

PREFECT_VERSION: str = prefect.__version__

#: Prefect versions graflow-prefect is tested with: [first, last] minor versions (the floor is
#: also ``prefect>=3.7`` in the package's requirements, which ``graflow doctor`` compares).
SUPPORTED = ((3, 7), (3, 9))

#: Context variables of Prefect that are not ``ContextModel`` instances but that a task submitted
#: from another thread must see (deployment id and parameters, since Prefect 3.4).
_EXTRA_VARS = frozenset({"deployment_id", "deployment_parameters"})

#: Prefect accepts at most this many retry delays per task.
MAX_RETRY_DELAYS = 50


def current_flow_run_id() -> str | None:
    """The id of the flow run this thread is in, or ``None`` outside a flow run."""
    ctx = FlowRunContext.get()
    if ctx is None or ctx.flow_run is None:
        return None
    return str(ctx.flow_run.id)


def current_task_run() -> Any:
    """The task run this thread executes, or ``None``."""
    ctx = TaskRunContext.get()
    return None if ctx is None else ctx.task_run


def prefect_context_snapshot() -> list[tuple[contextvars.ContextVar[Any], Any]]:
    """Prefect's context variables as set in this thread (the flow run, settings, client ...).

    Threads started by the graflow engine (a parallel group's members) begin with an empty
    context; :func:`enter_prefect_context` gives them Prefect's, so that ``task.submit()`` from
    there reaches the flow's task runner.
    """
    found = []
    for var, value in contextvars.copy_context().items():
        if isinstance(value, ContextModel) or var.name in _EXTRA_VARS:
            found.append((var, value))
    return found


def enter_prefect_context(snapshot: Sequence[tuple[contextvars.ContextVar[Any], Any]]) -> None:
    """Set the variables of ``snapshot`` that this thread does not have yet."""
    if FlowRunContext.get() is not None:
        return
    for var, value in snapshot:
        var.set(value)


def task_options(
    *,
    name: str,
    retries: int,
    retry_delays: Sequence[float],
    jitter_factor: float | None,
    tags: Sequence[str] = (),
) -> dict[str, Any]:
    """Keyword arguments of ``prefect.Task`` for one graflow task."""
    options: dict[str, Any] = {
        "name": name,
        "task_run_name": name,
        "retries": retries,
        "persist_result": False,
        "cache_policy": NO_CACHE,
        "tags": list(tags) or None,
    }
    if retries:
        delays = list(retry_delays)
        if delays and all(d == delays[0] for d in delays):
            options["retry_delay_seconds"] = delays[0]
        elif delays:
            # Prefect repeats the last delay for attempts beyond the list.
            options["retry_delay_seconds"] = delays[:MAX_RETRY_DELAYS]
        if jitter_factor:
            options["retry_jitter_factor"] = jitter_factor
    return options


def _dependencies(upstream: Sequence[Any]) -> dict[str, set[Any]] | None:
    # Recorded as the task run's "upstream" inputs (the UI draws the edges) without Prefect
    # waiting on them or resolving their results: the engine already ordered the tasks, and
    # resolving would walk every upstream result value.
    if not upstream:
        return None
    return {"upstream": {TaskRunResult(id=run_id) for run_id in upstream}}


def run_task_now(task: Any, attempt: Any, upstream: Sequence[Any]) -> Any:
    """Run ``task`` in this thread as a task run of the current flow run; returns its State."""
    from prefect.task_engine import run_task

    return run_task(
        task=task,
        parameters={"attempt": attempt, "upstream": None},
        return_type="state",
        dependencies=_dependencies(upstream),
    )


def submit_task(task: Any, attempt: Any, upstream: Sequence[Any]) -> Any:
    """Submit ``task`` to the current flow run's task runner; returns its PrefectFuture."""
    ctx = FlowRunContext.get()
    if ctx is None:
        raise RuntimeError("no Prefect flow run in this thread to submit a task run to")
    return ctx.task_runner.submit(
        task, {"attempt": attempt, "upstream": None}, None, dependencies=_dependencies(upstream)
    )
