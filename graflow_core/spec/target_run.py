"""One workflow run on one target, described the same way for every engine.

:class:`TargetRun` is what :attr:`Bridge.run <graflow_core.spec.targets.Bridge>` returns: the
workflow's result, its final channel, the exception the run failed with, and what the
orchestrator did (its own task count and per-task states, wall time). The conformance suite and
the flagship demo compare these across engines; :func:`run_on` runs a workflow on any target by
name, and :func:`run_native` is the ``graflow`` target's ``run`` (the engine itself).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graflow_core.channels.base import RESULT_SUFFIX, task_results
from graflow_core.exceptions import ConfigError
from graflow_core.plugins import hookimpl

#: Task states a :class:`TargetRun` reports (the orchestrators' own names map onto these).
STATES = ("success", "failed", "skipped", "upstream_failed")


@dataclass
class TargetRun:
    """The outcome of running a workflow on ``target``.

    * ``result`` — what ``wf.execute()`` would return (the result of the last task executed);
      ``None`` when the run failed.
    * ``channel`` — the final channel as a dict, ``"<task>.__result__"`` keys included.
    * ``error`` — the exception the run failed with, as ``wf.execute()`` would raise it
      (e.g. ``GraflowRuntimeError`` with the task's own exception as ``__cause__``), or ``None``.
    * ``native_tasks`` — how many tasks the orchestrator ran (Airflow task instances, Prefect
      task runs, Dagster op steps; graflow tasks for the engine), skipped ones not counted.
    * ``states`` — the orchestrator's task name → one of :data:`STATES`.
    * ``wall_seconds`` — wall time of the run itself (rendering included, set-up such as DB
      initialisation excluded).
    * ``run_id`` — the orchestrator's run identity (``ExecutionContext.workflow_run_id``).
    """

    target: str
    result: Any = None
    channel: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None
    native_tasks: int = 0
    states: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    run_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run succeeded."""
        return self.error is None

    @property
    def results(self) -> dict[str, Any]:
        """Each task's stored result: ``{task_id: result}`` (from the channel)."""
        return task_results(self.channel)

    @property
    def user_channel(self) -> dict[str, Any]:
        """The channel without the ``"<task>.__result__"`` keys."""
        return {k: v for k, v in self.channel.items() if not k.endswith(RESULT_SUFFIX)}

    def raise_for_error(self) -> TargetRun:
        """Raise :attr:`error` if the run failed; else return ``self``."""
        if self.error is not None:
            raise self.error
        return self


def resolve_workflow(workflow: Any) -> Any:
    """A fresh ``WorkflowContext`` from a workflow, a builder, a reference or a spec."""
    from graflow_core.core.workflow import WorkflowContext

    if isinstance(workflow, str) and ":" in workflow and not workflow.lstrip().startswith("{"):
        from graflow_core.spec.references import import_ref

        workflow = import_ref(workflow)
    if isinstance(workflow, WorkflowContext):
        return workflow
    from graflow_core.spec.model import WorkflowSpec

    if isinstance(workflow, (WorkflowSpec, str, Mapping)):
        from graflow_core.spec.load import load_workflow

        return load_workflow(workflow)
    if callable(workflow):
        built = workflow()
        if isinstance(built, WorkflowContext):
            return built
    raise ConfigError(
        f"Cannot run {workflow!r}: give a workflow, a zero-argument function returning one, "
        "a 'module:attr' reference or a WorkflowSpec"
    )


def _as_spec_or_none(workflow: Any) -> Any:
    """``workflow`` as a ``WorkflowSpec`` when it is one (or its dict / JSON), else ``None``."""
    from graflow_core.spec.model import WorkflowSpec

    if isinstance(workflow, WorkflowSpec):
        return workflow
    if isinstance(workflow, Mapping) or (
        isinstance(workflow, str) and workflow.lstrip().startswith("{")
    ):
        from graflow_core.spec.load import _as_spec

        return _as_spec(workflow)
    return None


class _Recorder:
    """Per-run plugin: keeps the context and which tasks finished or failed."""

    def __init__(self) -> None:
        self.context: Any = None
        self.states: dict[str, str] = {}

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        if self.context is None:
            self.context = context

    @hookimpl
    def task_end(self, task: Any, task_id: str, context: Any, result: Any) -> None:
        self.states[task_id] = "success"

    @hookimpl
    def task_failure(self, task: Any, task_id: str, context: Any, error: BaseException) -> None:
        self.states[task_id] = "failed"


def run_native(
    workflow: Any, params: Mapping[str, Any] | None = None, **execute_kwargs: Any
) -> TargetRun:
    """Run ``workflow`` on the graflow engine (the ``graflow`` target's ``run``).

    A spec starts at its ``start_node`` (as every bridge starts it) unless ``start_node`` is
    given. A ``WorkflowContext`` is run as it is, like ``wf.execute()``: tasks added at run time
    stay in its graph; pass a builder or a reference for a fresh workflow per run.
    ``execute_kwargs`` go to ``wf.execute()``.
    """
    recorder = _Recorder()
    started = time.perf_counter()
    wf = resolve_workflow(workflow)
    start_node = getattr(_as_spec_or_none(workflow), "start_node", None)
    if start_node is not None:
        execute_kwargs.setdefault("start_node", start_node)  # as the bridges start a spec
    out = TargetRun("graflow")
    try:
        out.result, ctx = wf.execute(
            ret_context=True,
            initial_channel=dict(params or {}),
            plugins=[*execute_kwargs.pop("plugins", ()), recorder],
            **execute_kwargs,
        )
    except Exception as exc:
        out.error = exc
        ctx = recorder.context
    out.wall_seconds = time.perf_counter() - started
    if ctx is not None:
        out.channel = ctx.channel.to_dict()
        out.run_id = ctx.workflow_run_id
    out.states = recorder.states
    out.native_tasks = sum(1 for s in recorder.states.values() if s != "skipped")
    return out


def check_run_params(target: str, params: Mapping[str, Any] | None) -> None:
    """Raise :class:`~graflow_core.exceptions.ConfigError` unless every run parameter is JSON.

    Orchestrators store a run's parameters as JSON (Airflow's DAG-run conf, Dagster's run
    config, Prefect's flow-run parameters), so a bridge's ``run_workflow`` checks them before
    it renders anything; the error names the parameter and what to do. The graflow engine
    itself (:func:`run_native`) takes any value and does not call this.
    """
    for key, value in (params or {}).items():
        if not isinstance(key, str):
            raise ConfigError(
                f"Cannot run on {target}: run parameter {key!r} has a "
                f"{type(key).__name__} name; {target} stores run parameters as JSON, whose "
                "keys are strings. Use a string name."
            )
        try:
            json.dumps(value)
        except (TypeError, ValueError, RecursionError) as exc:
            raise ConfigError(
                f"Cannot run on {target}: run parameter '{key}' is not JSON-serialisable "
                f"({type(value).__name__}: {exc}); {target} stores run parameters as JSON. "
                "Pass a JSON value (str, number, bool, None, list, dict with string keys) - "
                "e.g. a path or an id, and load the object in the first task - or run it "
                "natively (run_native / --on graflow), which takes any value."
            ) from None


def run_on(
    target: str, workflow: Any, params: Mapping[str, Any] | None = None, **options: Any
) -> TargetRun:
    """Run ``workflow`` on the target called ``target`` (``"graflow"``, ``"airflow"`` ...).

    Raises :class:`~graflow_core.spec.errors.UnknownTargetError` for a target not installed and
    :class:`~graflow_core.exceptions.ConfigError` for one whose bridge cannot run workflows.
    """
    from graflow_core.spec.targets import get_target

    bridge = get_target(target)
    runner: Callable[..., TargetRun] | None = bridge.run
    if runner is None:
        raise ConfigError(
            f"Target '{target}' cannot run workflows locally (its bridge has no run); "
            "export the workflow and run it on the orchestrator instead"
        )
    return runner(workflow, dict(params or {}), **options)


__all__ = ["STATES", "TargetRun", "check_run_params", "resolve_workflow", "run_native", "run_on"]
