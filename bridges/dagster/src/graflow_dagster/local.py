"""Run a graflow workflow on Dagster in this process: :func:`run_workflow` (the ``dagster``
target's ``run``; ``run_on("dagster", wf, params)``).

The workflow is rendered with :func:`~graflow_dagster.render.to_dagster_job` (one op per
graflow task) and run with ``job.execute_in_process()`` on a real Dagster instance: the one
given, else the ``DAGSTER_HOME`` instance when ``DAGSTER_HOME`` is set, else an ephemeral
in-memory one. What comes back is a :class:`~graflow_core.spec.target_run.TargetRun` read from
what Dagster did:

* ``result`` / ``channel`` — from the op outputs Dagster passed between the ops
  (:func:`~graflow_dagster.render.graflow_result`);
* ``states`` — per op, from the run's step events: ``success``, ``failed`` (the op failed, or it
  is a group member that failed for good and handed a failure payload to its group's join),
  ``skipped`` (Dagster skipped it: a branch not taken; or it produced nothing), and
  ``upstream_failed`` (Dagster did not run it because an upstream op failed);
* ``native_tasks`` — the ops that started; ``run_id`` — the Dagster run id, which is also
  ``ExecutionContext.workflow_run_id`` in every op;
* ``error`` — the exception the first failed op (in plan order, the order the graflow engine
  runs the steps in, so when independent branches fail it is the one the engine stops at)
  raised, as ``wf.execute()`` raises it natively (``GraflowRuntimeError`` with the task's
  exception as ``__cause__``, ``ParallelGroupError`` for a group whose policy fails ...).
  Dagster reduces exceptions to text in its events; the exception object itself is taken in
  process from a Dagster failure hook (``HookContext.op_exception``) attached to the job for
  this run.

Without ``GRAFLOW_SECRET_KEY`` (and without the insecure opt-out), a random key of this process
signs the run's pickled step values (large values, exception results of failed tasks) for the
run; they never leave the process (``details["ephemeral_signing_key"]``).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graflow_core.spec.target_run import TargetRun, check_run_params, resolve_workflow

if TYPE_CHECKING:
    from dagster import DagsterInstance

SUCCESS = "success"
FAILED = "failed"
SKIPPED = "skipped"
UPSTREAM_FAILED = "upstream_failed"


def local_environment(home: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Environment variables for local Dagster runs, like the other bridges' ``local_environment``.

    Dagster's telemetry is off (``DAGSTER_DISABLE_TELEMETRY``). With ``home``, ``DAGSTER_HOME``
    is that directory (made absolute, as Dagster requires; create it before a run opens the
    instance): runs and their events are kept there in SQLite. Without it, ``DAGSTER_HOME`` is
    not set and :func:`run_workflow` uses an ephemeral in-memory instance. Set them before a run
    (Dagster reads them when it opens the instance).
    """
    env = {"DAGSTER_DISABLE_TELEMETRY": "1"}
    if home is not None:
        env["DAGSTER_HOME"] = str(Path(home).expanduser().absolute())
    return env


def _renderable(workflow: Any) -> Any:
    """What ``to_dagster_job`` takes: a spec, its dict/JSON, a reference or a workflow."""
    from graflow_core.spec import WorkflowSpec

    if isinstance(workflow, (str, Mapping, WorkflowSpec)) or hasattr(workflow, "graph"):
        return workflow
    return resolve_workflow(workflow)  # a zero-argument builder


@contextlib.contextmanager
def _open_instance(instance: DagsterInstance | None) -> Iterator[tuple[DagsterInstance, str]]:
    """The instance to run on and a label saying which one it is."""
    from dagster import DagsterInstance

    if instance is not None:
        yield instance, "given"
        return
    home = os.environ.get("DAGSTER_HOME")
    if home:
        try:
            opened = DagsterInstance.get()
        except Exception as exc:
            from graflow_core.exceptions import ConfigError

            raise ConfigError(
                f"Cannot open the Dagster instance of DAGSTER_HOME={home}: "
                f"{type(exc).__name__}: {exc}. Create the directory (with a valid dagster.yaml, "
                "or none), pass instance=..., or unset DAGSTER_HOME to run on an ephemeral "
                "instance; `graflow doctor` checks the set-up"
            ) from exc
        with opened:
            yield opened, home
        return
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral, "ephemeral"


def _failure_recorder(errors: dict[str, BaseException]) -> Any:
    """A Dagster failure hook keeping each failed op's exception object in ``errors``."""
    from dagster import failure_hook

    @failure_hook(name="graflow_record_failure")
    def record(context: Any) -> None:
        exc = context.op_exception
        if exc is not None:
            errors[context.op.name] = exc

    return record


def _step_events(result: Any) -> tuple[dict[str, str], set[str], dict[str, int], dict[str, str]]:
    """From the run's events: final Dagster state per op, the ops that started, retries per
    op, and the error text of each failed op."""
    from dagster import DagsterEventType

    final = {
        DagsterEventType.STEP_SUCCESS.value: SUCCESS,
        DagsterEventType.STEP_FAILURE.value: FAILED,
        DagsterEventType.STEP_SKIPPED.value: SKIPPED,
    }
    states: dict[str, str] = {}
    started: set[str] = set()
    retries: dict[str, int] = {}
    messages: dict[str, str] = {}
    for event in result.all_events:
        key = event.step_key
        if not key:
            continue
        kind = event.event_type_value
        if kind in final:
            states[key] = final[kind]
            if kind == DagsterEventType.STEP_FAILURE.value:
                error = getattr(event.event_specific_data, "error", None)
                messages[key] = getattr(error, "message", None) or str(event.message or "")
        elif kind == DagsterEventType.STEP_START.value:
            started.add(key)
        elif kind == DagsterEventType.STEP_RESTARTED.value:
            retries[key] = retries.get(key, 0) + 1
    return states, started, retries, messages


def _run_failure_message(result: Any) -> str:
    from dagster import DagsterEventType

    for event in result.all_events:
        if event.event_type_value == DagsterEventType.RUN_FAILURE.value:
            return str(event.message or "the Dagster run failed")
    return "the Dagster run failed"


def run_workflow(
    workflow: Any,
    params: Mapping[str, Any] | None = None,
    *,
    instance: DagsterInstance | None = None,
    log_level: str | None = None,
    **job_options: Any,
) -> TargetRun:
    """Run ``workflow`` as a Dagster job in this process and report it as a ``TargetRun``.

    Args:
        workflow: a workflow, a zero-argument function building one, a ``"module:attr"``
            reference or a ``WorkflowSpec`` (or its dict/JSON). Its tasks must be importable by
            reference (each op loads the workflow's spec).
        params: the run parameters (graflow's initial channel); they are the run config of the
            job's ``graflow`` resource, so Dagster records them with the run.
        instance: the Dagster instance to run on (default: the ``DAGSTER_HOME`` instance when
            ``DAGSTER_HOME`` is set, else an ephemeral in-memory instance).
        log_level: the level of Dagster's console logger for this run (e.g. ``"ERROR"`` to keep
            a progress display clean; default: Dagster's).
        job_options: passed to :func:`~graflow_dagster.render.to_dagster_job` (``start_node``,
            ``tags``, ``store``, ``inline_max``, ``plugins``, ``check`` ...).

    Returns:
        The :class:`~graflow_core.spec.target_run.TargetRun` (``target="dagster"``). A failed run
        is reported in ``error`` (not raised); ``raise_for_error()`` raises it. Rendering
        problems (a preflight error, a bad reference) raise a ``GraflowError`` instead.

    Raises:
        ConfigError: ``DAGSTER_HOME`` is set but its instance cannot be opened, or a run
            parameter is not JSON-serialisable (Dagster stores run config as JSON).
    """
    from graflow_core.signing import process_key
    from graflow_dagster.render import RESOURCE_KEY, to_dagster_job

    run_params = dict(params or {})
    check_run_params("dagster", run_params)  # Dagster stores the run config as JSON
    run_config: dict[str, Any] = {"resources": {RESOURCE_KEY: {"config": {"params": run_params}}}}
    if log_level is not None:
        run_config["loggers"] = {"console": {"config": {"log_level": log_level.upper()}}}
    with _open_instance(instance) as (the_instance, instance_label), process_key() as ephemeral:
        started_at = time.perf_counter()  # instance set-up excluded, rendering included
        errors: dict[str, BaseException] = {}
        job = to_dagster_job(_renderable(workflow), **job_options)
        job = job.with_hooks({_failure_recorder(errors)})
        result = job.execute_in_process(
            run_config=run_config, instance=the_instance, raise_on_error=False
        )
        order = {step.id: step.index for step in _plan(job, job_options).steps}
        out = _target_run(job, result, run_params, errors, order)  # signed values: key set
        out.wall_seconds = time.perf_counter() - started_at
    out.details["instance"] = instance_label
    out.details["ephemeral_signing_key"] = ephemeral
    return out


def _plan(job: Any, job_options: Mapping[str, Any]) -> Any:
    """The step plan the job was rendered from (its spec is in the job's metadata)."""
    from graflow_core.steps import plan_steps
    from graflow_dagster.parse import job_to_spec

    return plan_steps(job_to_spec(job), start_node=job_options.get("start_node"))


def _target_run(
    job: Any,
    result: Any,
    params: Mapping[str, Any],
    errors: Mapping[str, BaseException],
    order: Mapping[str, int],
) -> TargetRun:
    """Read one ``execute_in_process`` result as a ``TargetRun`` (``order``: step id -> plan
    index, which chooses the error when several ops failed)."""
    from graflow_core.exceptions import GraflowRuntimeError
    from graflow_dagster._compat import nodes_in_order, op_tags, upstream_of
    from graflow_dagster.parse import TAG_STEP_ID
    from graflow_dagster.render import graflow_result

    seen = graflow_result(result, job, params)
    events, started, retries, messages = _step_events(result)
    failed_steps, skipped_steps = set(seen.failed), set(seen.skipped)
    chain_failed = set(seen.upstream_failed)
    states: dict[str, str] = {}
    step_ids: dict[str, str] = {}
    failed_ops: list[str] = []
    error: BaseException | None = None
    for node in nodes_in_order(job):
        name = node.name
        step_id = str(op_tags(node.definition).get(TAG_STEP_ID, name))
        step_ids[name] = step_id
        state = events.get(name)
        if state is None:  # Dagster did not run it: an upstream op failed, or it was skipped
            upstream = [src for _, _, sources in upstream_of(job, name) for src, _ in sources]
            bad = any(states.get(u) in (FAILED, UPSTREAM_FAILED) for u in upstream)
            state = UPSTREAM_FAILED if bad else SKIPPED
        elif state == SUCCESS and step_id in chain_failed:
            state = UPSTREAM_FAILED  # a member chain's later step: an earlier one failed
        elif state == SUCCESS and step_id in failed_steps:
            state = FAILED  # a group member that failed for good (its join applied the policy)
        elif state == SUCCESS and step_id in skipped_steps:
            state = SKIPPED  # it ran but produced nothing (the step runtime skipped it)
        states[name] = state
        if events.get(name) == FAILED:
            failed_ops.append(name)
    # the first failure in plan order (the order the engine runs the steps in), as natively
    first = min(failed_ops, key=lambda n: order.get(step_ids[n], len(order)), default=None)
    if first is not None:
        error = errors.get(first) or GraflowRuntimeError(
            f"Dagster op '{first}' (graflow step '{step_ids[first]}') failed: "
            f"{messages.get(first, 'no error recorded')}"
        )
    if error is None and not result.success:
        error = GraflowRuntimeError(_run_failure_message(result))
    return TargetRun(
        "dagster",
        result=seen.result if error is None else None,
        channel=seen.channel,
        error=error,
        native_tasks=len(started),
        states=states,
        run_id=str(result.run_id),
        details={
            "job": job.name,
            "success": bool(result.success),
            "step_ids": step_ids,
            "retries": retries,
        },
    )


__all__ = ["local_environment", "run_workflow"]
