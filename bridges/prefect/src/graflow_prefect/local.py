"""Run a workflow on Prefect here and now: the ``prefect`` target's ``run`` (``run_on("prefect")``).

:func:`run_workflow` renders the workflow with :func:`~graflow_prefect.flow.to_prefect_flow`
(one Prefect task run per graflow task), calls the flow against the configured Prefect API
(``PREFECT_API_URL``) — or, when none is configured, Prefect's own temporary local server on
127.0.0.1 with its SQLite database under ``PREFECT_HOME`` — and describes the outcome as a
:class:`~graflow_core.spec.target_run.TargetRun`:

* ``result`` and ``channel`` — what the flow run returned (Prefect's result of the flow run:
  the rendered flow returns ``{"result": ..., "channel": ...}`` here). A failed flow run's state
  holds only the exception, so the channel of a failed run is the one the engine had when it
  stopped, read in process;
* ``error`` — the exception the failed flow run raised, of the type ``wf.execute()`` raises
  (``GraflowRuntimeError`` with the task's exception as ``__cause__``);
* ``states`` / ``native_tasks`` — the flow run's task runs as the Prefect API reports them;
* ``run_id`` — the flow run id (``ExecutionContext.workflow_run_id`` of the run).

Starting the temporary server (10-30 s, once per process) is set-up: it is not counted in
``wall_seconds`` (``details["setup_seconds"]`` has it).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError
from graflow_core.plugins import hookimpl

if TYPE_CHECKING:
    from graflow_core.spec.target_run import TargetRun

__all__ = [
    "TaskRunInfo",
    "configured_api_problem",
    "ensure_api",
    "local_environment",
    "read_task_runs",
    "run_workflow",
]

#: Start-up timeout for Prefect's temporary server: 17-28 s on 2 cores, Prefect's default is 20.
EPHEMERAL_STARTUP_TIMEOUT = 120
#: Seconds to wait for a configured API's health endpoint.
HEALTH_TIMEOUT = 2.0
#: What to do when the configured API does not answer (``ensure_api`` and ``graflow doctor``).
CONFIGURED_API_FIX = (
    "start the server (`prefect server start`), correct PREFECT_API_URL (`prefect config "
    "view`), or unset it to run against a temporary local server"
)


def configured_api_problem(url: str) -> str | None:
    """Why the Prefect API at ``url`` does not answer (a GET of ``<url>/health`` within
    :data:`HEALTH_TIMEOUT` seconds), or ``None`` when it does."""
    from graflow_core.diagnostics import url_problem

    problem = url_problem(url.rstrip("/") + "/health", timeout=HEALTH_TIMEOUT)
    return None if problem is None else f"PREFECT_API_URL={url}: {problem}"


def local_environment(home: str | os.PathLike[str]) -> dict[str, str]:
    """Environment variables that keep Prefect's state inside ``home``.

    Profiles, the temporary server's SQLite database, result storage and the memo store (which
    Prefect does not derive from ``PREFECT_HOME``) live in ``home``; server analytics and logging
    to the API are off (the latter adds a background worker and a flush per run); the temporary
    server gets :data:`EPHEMERAL_STARTUP_TIMEOUT`. Set them before Prefect is imported. Used by
    the ``prefect_server`` fixture, the flagship demo and the benchmarks.
    """
    base = Path(home)
    return {
        "PREFECT_HOME": str(base),
        "PREFECT_PROFILES_PATH": str(base / "profiles.toml"),
        "PREFECT_MEMO_STORE_PATH": str(base / "memo_store.toml"),
        "PREFECT_LOCAL_STORAGE_PATH": str(base / "storage"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT),
    }


#: Prefect task-run state types → TargetRun states.
_STATES = {
    "COMPLETED": "success",
    "FAILED": "failed",
    "CRASHED": "failed",
    "CANCELLED": "failed",
    "CANCELLING": "failed",
}


# -- task runs read back from the API -------------------------------------------------------------


@dataclass(frozen=True)
class TaskRunInfo:
    """One Prefect task run as read back from the API.

    ``upstream`` holds, per input name (``"wait_for"`` and ``"__parents__"`` included), the ids of
    the task runs that input came from (Prefect's ``task_inputs``).
    """

    id: str
    name: str
    task_key: str
    state_type: str
    state_name: str
    run_count: int
    start_time: datetime | None
    end_time: datetime | None
    upstream: dict[str, list[str]] = field(default_factory=dict)
    parameters: dict[str, list[str]] = field(default_factory=dict)


_TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _task_run_info(run: Any) -> TaskRunInfo:
    upstream: dict[str, list[str]] = {}
    parameters: dict[str, list[str]] = {}
    for key, inputs in (run.task_inputs or {}).items():
        for item in inputs:
            kind = getattr(item, "input_type", None)
            if kind == "task_run":
                upstream.setdefault(key, []).append(str(item.id))
            elif kind == "parameter":
                parameters.setdefault(key, []).append(str(item.name))
    state_type = run.state_type.value if run.state_type is not None else ""
    return TaskRunInfo(
        id=str(run.id),
        name=run.name,
        task_key=run.task_key,
        state_type=state_type,
        state_name=run.state_name or "",
        run_count=run.run_count,
        start_time=run.start_time,
        end_time=run.end_time,
        upstream=upstream,
        parameters=parameters,
    )


def read_task_runs(
    flow_run_id: Any, *, expected: int | None = None, timeout: float = 30.0
) -> list[TaskRunInfo]:
    """Read the task runs of a flow run through the real Prefect client, sorted by start time.

    Prefect 3 records task-run states through its event pipeline, so they reach the API a little
    after the flow returns: this polls until every task run is in a final state and at least
    ``expected`` exist (without ``expected``: until two polls 0.1 s apart agree), or raises
    :class:`TimeoutError`. Pass ``expected`` when you know the count: it is exact and faster.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    flt = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    runs: list[TaskRunInfo] = []
    previous: list[tuple[str, str]] | None = None
    with get_client(sync_client=True) as client:
        while True:
            runs = [_task_run_info(r) for r in _all_task_runs(client, flt)]
            seen = sorted((r.id, r.state_type) for r in runs)
            done = all(r.state_type in _TERMINAL for r in runs)
            # Without `expected`: the same final picture twice in a row (events of task runs
            # may still be on their way).
            enough = seen == previous if expected is None else len(runs) >= expected
            if done and enough:
                break
            previous = seen
            if time.monotonic() > deadline:
                states = {r.name: r.state_type for r in runs}
                raise TimeoutError(
                    f"task runs of flow run {flow_run_id} not final after {timeout} s "
                    f"(expected {expected}, have {states})"
                )
            time.sleep(0.1 if expected is None else 0.05)
    runs.sort(key=lambda r: (r.start_time is None, r.start_time or datetime.min, r.name))
    return runs


def _all_task_runs(client: Any, flt: Any) -> list[Any]:
    """Every task run matching ``flt`` (the API returns at most ``_PAGE`` per request; pages
    are ordered by id so that they neither overlap nor leave gaps)."""
    from prefect.client.schemas.sorting import TaskRunSort

    found: list[Any] = []
    while True:
        page = client.read_task_runs(
            flow_run_filter=flt, sort=TaskRunSort.ID_DESC, limit=_PAGE, offset=len(found)
        )
        found.extend(page)
        if len(page) < _PAGE:
            return found


_PAGE = 200


# -- one run --------------------------------------------------------------------------------------


class _RunKeeper:
    """Run plugin of one flow run: the engine's context and what the orchestrator ran.

    ``task_runs`` counts graflow tasks that ended (or failed for good) and are not parallel
    groups — each is one Prefect task run — so the read-back knows how many to wait for.
    """

    def __init__(self) -> None:
        self.context: Any = None
        self.error: BaseException | None = None
        self.task_runs = 0

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        # A flow-level retry runs the workflow again: keep the last attempt's run only.
        self.context, self.error, self.task_runs = context, None, 0

    @hookimpl
    def workflow_failure(self, context: Any, workflow_name: str, error: BaseException) -> None:
        self.error = error

    @hookimpl
    def task_end(self, task: Any, task_id: str, context: Any, result: Any) -> None:
        if not _is_group(task):
            self.task_runs += 1

    @hookimpl
    def task_failure(
        self, task: Any, task_id: str, context: Any, error: BaseException, final: bool
    ) -> None:
        if final and not _is_group(task):
            self.task_runs += 1

    def channel(self) -> dict[str, Any]:
        """The run's channel as a dict (``{}`` before the run started)."""
        if self.context is None:
            return {}
        channel = self.context.channel
        return {k: channel.get(k) for k in channel.keys()}  # noqa: SIM118 - Channel API


def _is_group(task: Any) -> bool:
    from graflow_core.core.task import ParallelGroup

    return isinstance(task, ParallelGroup)


def _return_channel(flow: Any, keeper: _RunKeeper) -> None:
    """Make ``flow`` (rendered for this one run) return ``{"result", "channel"}``.

    The flow's function keeps its name, signature and parameters; only its return value grows,
    so the final channel reaches us as the flow run's own result.
    """
    inner = flow.fn

    @functools.wraps(inner)
    def returning(**params: Any) -> dict[str, Any]:
        result = inner(**params)
        return {"result": result, "channel": keeper.channel()}

    flow.fn = returning


def ensure_api() -> tuple[str, float]:
    """The Prefect API runs will use, started first if it is Prefect's temporary server.

    Returns ``(api_url, seconds spent starting a server)``. With ``PREFECT_API_URL`` set, that
    URL once its ``/health`` answers within :data:`HEALTH_TIMEOUT` seconds. Without it,
    Prefect's temporary local server (one per process, on 127.0.0.1, SQLite under
    ``PREFECT_HOME``) is started now with at least :data:`EPHEMERAL_STARTUP_TIMEOUT` s to start
    (Prefect's default of 20 s is too short on small machines) unless it already runs.

    Raises:
        ConfigError: the configured API does not answer; or no API URL is configured and
            Prefect's temporary server is disabled (``PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=false``)
            or did not start.
    """
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_ALLOW_EPHEMERAL_MODE,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    )

    url = PREFECT_API_URL.value()
    if url:
        problem = configured_api_problem(str(url))
        if problem is not None:
            raise ConfigError(f"Cannot run on Prefect: {problem}. To fix: {CONFIGURED_API_FIX}.")
        return str(url), 0.0
    if not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
        raise ConfigError(
            "Cannot run on Prefect: PREFECT_API_URL is not set and Prefect's temporary local "
            "server is disabled (PREFECT_SERVER_ALLOW_EPHEMERAL_MODE=false). Set PREFECT_API_URL "
            "to a running server (`prefect server start`) or allow the temporary server."
        )
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if server.running:
        return server.api_url, 0.0
    timeout = max(
        int(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()), EPHEMERAL_STARTUP_TIMEOUT
    )
    started = time.perf_counter()
    try:
        server.start(timeout=timeout)
    except Exception as exc:
        raise ConfigError(
            f"Prefect's temporary local server did not start within {timeout} s: {exc}. Run "
            "`graflow doctor` (is PREFECT_HOME writable?), or start a server (`prefect server "
            "start`) and set PREFECT_API_URL."
        ) from exc
    return server.api_url, time.perf_counter() - started


def run_workflow(
    workflow: Any, params: Mapping[str, Any] | None = None, **flow_options: Any
) -> TargetRun:
    """Run ``workflow`` as a Prefect flow run in this process; its outcome as a ``TargetRun``.

    Args:
        workflow: a ``WorkflowContext``, a ``WorkflowSpec`` (or its dict / JSON), a function
            without arguments building a workflow, or a ``"module:attr"`` reference to one.
        params: the run parameters (the workflow's initial channel). Each becomes a flow
            parameter, so names must be Python identifiers.
        **flow_options: options of :func:`~graflow_prefect.flow.to_prefect_flow` (``name``,
            ``task_runner``, ``plugins``, ``tags``, ``start_node``, ``parameters`` ...) and
            of ``prefect.Flow`` (``retries``, ``timeout_seconds`` ...).

    A run that fails is not raised: it is returned with ``error`` set (``raise_for_error()``
    raises it). See the module docs for where each field comes from.

    Raises:
        ConfigError: the workflow cannot be rendered (see ``to_prefect_flow``), or there is no
            Prefect API to run against (see :func:`ensure_api`).
    """
    from graflow_core.spec.target_run import TargetRun
    from graflow_prefect.flow import to_prefect_flow

    run_params = dict(params or {})
    api_url, setup_seconds = ensure_api()

    started = time.perf_counter()
    keeper = _RunKeeper()
    options = dict(flow_options)
    # Every run parameter is a flow parameter with its value as default, so all of them reach
    # the initial channel exactly as given (None included), as in wf.execute(initial_channel=).
    parameters = {**dict(options.pop("parameters", None) or {}), **run_params}
    plugins = (*options.pop("plugins", ()), keeper)
    flow = to_prefect_flow(workflow, parameters=parameters, plugins=plugins, **options)
    _return_channel(flow, keeper)
    state: Any = flow(**run_params, return_state=True)

    out = TargetRun("prefect")
    out.run_id = str(state.state_details.flow_run_id)
    try:
        returned = state.result()
    except Exception as exc:
        # The engine's exception as wf.execute() raises it (in process, Prefect re-raises that
        # very object); Prefect's own when the engine did not fail (a crash, a cancellation).
        out.error = keeper.error if keeper.error is not None else exc
        out.channel = keeper.channel()
    else:
        out.result = returned["result"]
        out.channel = dict(returned["channel"])
    out.wall_seconds = time.perf_counter() - started

    read_started = time.perf_counter()
    try:
        runs = read_task_runs(out.run_id, expected=keeper.task_runs)
    except TimeoutError:  # fewer task runs than graflow tasks ran: report what Prefect has
        runs = read_task_runs(out.run_id, timeout=10.0)
    out.states = {r.name: _STATES.get(r.state_type, "failed") for r in runs}
    out.native_tasks = sum(1 for r in runs if _STATES.get(r.state_type) != "skipped")
    out.details = {
        "api_url": api_url,
        "flow_name": flow.name,
        "flow_run_id": out.run_id,
        "flow_state": state.name,
        "task_runs": [
            {"id": r.id, "name": r.name, "state": r.state_name, "run_count": r.run_count}
            for r in runs
        ],
        "setup_seconds": setup_seconds,
        "readback_seconds": time.perf_counter() - read_started,
    }
    return out
