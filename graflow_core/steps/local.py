"""A reference static orchestrator: ``run_plan(spec, params)`` runs a plan step by step.

It does what Airflow or Dagster do with a rendered plan, without them, so that the step
runtime can be tested on its own and bridges have a reference to compare with:

* steps run in plan (topological) order, each with :func:`~graflow_core.steps.run_step`;
  with ``processes=True`` each step runs in a fresh process (``multiprocessing`` spawn, one
  process per step) and only payloads cross the boundary (the spec as JSON or a reference,
  ``StepInputs`` with upstream payloads, the ``StepOutput`` payload back);
* triggers: an ``all_success`` step is marked ``upstream_failed`` when an upstream step failed
  (or was ``upstream_failed``) and ``skipped`` when one was skipped; an ``all_done`` step
  (a group's join) runs once every upstream step is done, whatever its state;
* branches: the direct downstream steps of a step whose ``StepOutput.follow`` does not name
  them are skipped (Airflow's branch operator semantics);
* retries: a failing step runs again up to ``Step.retry.max_retries`` times, with the delay
  ``min(initial_interval * backoff_factor ** (n - 1), max_interval)`` before retry ``n``
  (``StepInputs.attempt`` counts the tries); ``StepSkipped`` / ``UpstreamFailed`` raised by
  ``run_step`` mark the step ``skipped`` / ``upstream_failed``;
* ``terminate_workflow``: the steps after a terminating step are skipped;
* the run's result is the result of the last step (plan order) that succeeded, its final
  channel the merge of every successful step's state and of the failed steps' partial outputs
  (:func:`~graflow_core.steps.failed_output`: what a failing task wrote before it raised and
  its exception result, as in the graflow engine's channel; :func:`final_channel`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graflow_core.steps.payload.state import (
    StepInputs,
    StepOutput,
    final_channel,
    final_result,
)
from graflow_core.steps.payload.values import ValueStore, value_store
from graflow_core.steps.plan import StepPlan
from graflow_core.steps.run import (
    StepSkipped,
    UpstreamFailed,
    failed_output,
    prepare,
    run_step,
)

SUCCESS = "success"
FAILED = "failed"
SKIPPED = "skipped"
UPSTREAM_FAILED = "upstream_failed"


@dataclass
class PlanRun:
    """What :func:`run_plan` did: per-step states, outputs, attempts, result and channel."""

    plan: StepPlan
    states: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, StepOutput] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    #: The partial output of each failed step (the channel state up to its failure).
    failed_outputs: dict[str, StepOutput] = field(default_factory=dict)
    result: Any = None
    channel: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run succeeded: no final step failed or missed a failed upstream.

        (Airflow decides a DAG run's state from its leaf tasks the same way: a member of a
        ``best_effort`` group may fail in a successful run.)
        """
        plan = self.plan
        leaves = [s.id for s in plan.steps if not plan.downstream(s.id)]
        return not any(self.states.get(leaf) in (FAILED, UPSTREAM_FAILED) for leaf in leaves)

    @property
    def error(self) -> BaseException | None:
        """The error of a failed run, as the graflow engine would raise it.

        That of the first failed step in plan order that no group absorbed (a member's failure
        is the group's business: the group step raises ``ParallelGroupError`` when its policy
        fails), so the run raises what a native run raises first.
        """
        if self.ok:
            return None
        absorbed: set[str] = set()
        for step in self.plan.steps:
            if step.kind == "group" and self.states.get(step.id) in (SUCCESS, FAILED):
                for _member, ids in step.members:
                    absorbed.update(ids)
        for step in self.plan.steps:
            if step.id in self.errors and step.id not in absorbed:
                return self.errors[step.id]
        return next(iter(self.errors.values()), None)

    def steps_in(self, state: str) -> list[str]:
        """The step ids that ended in ``state`` (``"success"``, ``"skipped"`` ...)."""
        return [s for s, st in self.states.items() if st == state]


def _child(
    spec_text: str,
    step_id: str,
    inputs: dict[str, Any],
    run_id: str,
    store: str,
    inline: int,
    start_node: str | None,
) -> tuple[str, Any]:
    """Run one step in a spawned process; returns ``("ok", payload)`` or ``("error", exc)``."""
    import pickle

    try:
        out = run_step(
            spec_text,
            step_id,
            StepInputs(**inputs),
            workflow_run_id=run_id,
            store=store,
            inline_max=inline,
            start_node=start_node,
        )
        return "ok", out.to_payload()
    except BaseException as exc:
        try:
            pickle.loads(pickle.dumps(exc))
            return "error", exc
        except Exception:
            from graflow_core.exceptions import GraflowRuntimeError
            from graflow_core.steps.run import FAILED_OUTPUT_ATTR

            fallback = GraflowRuntimeError(f"{type(exc).__name__}: {exc}")
            partial = getattr(exc, FAILED_OUTPUT_ATTR, None)
            if partial is not None:  # JSON-ready: it survives the trip
                setattr(fallback, FAILED_OUTPUT_ATTR, partial)
            return "error", fallback


def run_plan(
    spec: Any,
    params: Mapping[str, Any] | None = None,
    *,
    processes: bool = True,
    workflow_run_id: str | None = None,
    store: str | ValueStore | None = None,
    inline_max: int | None = None,
    plugins: Sequence[object] = (),
    start_node: str | None = None,
    raise_on_failure: bool = True,
) -> PlanRun:
    """Run every step of ``spec``'s plan like a static orchestrator would (module docs).

    Args:
        spec: a spec (or dict/JSON), a workflow, or a ``"module:attr"`` reference.
        params: the run parameters (the initial channel).
        processes: run each step in a fresh spawned process (else in this process).
        workflow_run_id: the run's identity (default: a random one).
        store: the value store for large values (must be shared by the processes).
        inline_max: the inline limit in bytes.
        plugins: hook implementations for the step runs (in-process only).
        start_node: as for :func:`~graflow_core.steps.plan_steps`.
        raise_on_failure: raise :attr:`PlanRun.error` when the run failed (else check
            ``PlanRun.ok``).
    """
    import os

    params = dict(params or {})
    run_id = workflow_run_id or f"local-{os.urandom(6).hex()}"
    prep = prepare(spec, start_node=start_node)
    plan = prep.plan
    vs = value_store(store, inline_max=inline_max)
    run = PlanRun(plan)
    pool = None
    if processes:
        if plugins:
            from graflow_core.exceptions import ConfigError

            raise ConfigError("run_plan(processes=True) cannot pass plugin objects to processes")
        import multiprocessing

        # A reference or JSON text as given; else the spec already loaded above, as JSON.
        spec_text = spec if isinstance(spec, str) else prep.spec.to_json()
        # One fresh spawned process per step, like an orchestrator's worker.
        pool = multiprocessing.get_context("spawn").Pool(processes=1, maxtasksperchild=1)
    terminated = False
    try:
        for step in plan.steps:
            states = run.states
            up_states = [states[u] for u in step.upstream]
            not_followed = any(
                u in run.outputs
                and run.outputs[u].follow is not None
                and step.id not in (run.outputs[u].follow or ())
                for u in step.upstream
            )
            if terminated or not_followed:
                states[step.id] = SKIPPED
                continue
            if step.trigger == "all_success":
                if any(s in (FAILED, UPSTREAM_FAILED) for s in up_states):
                    states[step.id] = UPSTREAM_FAILED
                    continue
                if any(s == SKIPPED for s in up_states):
                    states[step.id] = SKIPPED
                    continue
            failed = {
                u: str(run.errors.get(u, f"step '{u}' {states[u]}"))
                for u in step.upstream
                if states[u] in (FAILED, UPSTREAM_FAILED)
            }
            skipped = [u for u in step.upstream if states[u] == SKIPPED]
            upstream = {u: run.outputs[u] for u in step.upstream if u in run.outputs}
            max_tries = 1 + (step.retry.max_retries if step.retry is not None else 0)
            attempt = 0
            while True:
                attempt += 1
                run.attempts[step.id] = attempt
                try:
                    if pool is None:
                        inputs = StepInputs(params, upstream, failed, skipped, attempt)
                        out = run_step(
                            prep,
                            step.id,
                            inputs,
                            workflow_run_id=run_id,
                            plugins=plugins,
                            store=vs,
                        )
                    else:
                        payloads = {k: v.to_payload() for k, v in upstream.items()}
                        fields = {
                            "params": params,
                            "upstream": payloads,
                            "failed": failed,
                            "skipped": skipped,
                            "attempt": attempt,
                        }
                        args = (spec_text, step.id, fields, run_id, vs.location, vs.inline_max)
                        status, value = pool.apply(_child, (*args, start_node))
                        if status == "error":
                            raise value
                        out = StepOutput.from_payload(value, store=vs)
                except StepSkipped:
                    states[step.id] = SKIPPED
                    break
                except UpstreamFailed:
                    states[step.id] = UPSTREAM_FAILED
                    break
                except Exception as exc:
                    if attempt < max_tries:
                        r = step.retry
                        assert r is not None
                        delay = min(
                            r.initial_interval * r.backoff_factor ** (attempt - 1), r.max_interval
                        )
                        if delay > 0:
                            time.sleep(delay)
                        continue
                    states[step.id] = FAILED
                    run.errors[step.id] = exc
                    partial = failed_output(exc, vs)
                    if partial is not None:
                        run.failed_outputs[step.id] = partial
                    break
                states[step.id] = SUCCESS
                run.outputs[step.id] = out
                terminated = terminated or out.terminated
                break
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    ok = [run.outputs[s.id] for s in plan.steps if s.id in run.outputs]
    run.channel = final_channel(params, [*ok, *run.failed_outputs.values()], vs)
    run.result = final_result(ok)
    error = run.error
    if raise_on_failure and error is not None:
        raise error
    return run


__all__ = ["FAILED", "SKIPPED", "SUCCESS", "UPSTREAM_FAILED", "PlanRun", "run_plan"]
