"""Static targets: run a workflow one native orchestrator task per graflow task.

The shared runtime of the bridges that render a workflow as a static graph of native tasks in
separate processes (graflow-airflow's per-task DAGs, graflow-dagster's per-op jobs):

* :func:`plan_steps` -- spec → :class:`StepPlan` of :class:`Step` objects in run order, with
  triggers, retries, groups, branches and what is hosted (:mod:`graflow_core.steps.plan`);
* :func:`run_step` -- run one step in this process from :class:`StepInputs` (run params +
  upstream :class:`StepOutput` payloads), returning its :class:`StepOutput`
  (:mod:`graflow_core.steps.run`); when a step fails, :func:`failed_output` reads its partial
  output (the channel up to the failure) from the exception;
* :class:`StepOutput` ``.to_payload()`` / ``.from_payload()`` -- the JSON form that travels
  through XCom / an IO manager; large values go by reference to a signed :class:`ValueStore`
  (:mod:`graflow_core.steps.payload`);
* :func:`run_plan` -- the reference orchestrator: every step in its own process, only payloads
  passed (:mod:`graflow_core.steps.local`).

See docs/bridges.md, "Static targets: one native task per graflow task". Names load on first
use; ``import graflow_core`` does not import this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graflow_core._lazy import lazy_exports

if TYPE_CHECKING:
    from graflow_core.steps.local import PlanRun, run_plan
    from graflow_core.steps.payload.state import (
        StepInputs,
        StepOutput,
        final_channel,
        final_result,
        merge_states,
    )
    from graflow_core.steps.payload.values import StepPayloadError, ValueStore, value_store
    from graflow_core.steps.plan import (
        HOSTED_STEP_ID,
        STEP_CAPABILITIES,
        Reason,
        Step,
        StepPlan,
        StepPlanError,
        plan_steps,
        retry_of,
    )
    from graflow_core.steps.run import (
        FAILED_OUTPUT_ATTR,
        StepSkipped,
        UpstreamFailed,
        failed_output,
        prepare,
        run_step,
    )

_LAZY = {
    "plan_steps": "graflow_core.steps.plan",
    "Step": "graflow_core.steps.plan",
    "StepPlan": "graflow_core.steps.plan",
    "StepPlanError": "graflow_core.steps.plan",
    "Reason": "graflow_core.steps.plan",
    "HOSTED_STEP_ID": "graflow_core.steps.plan",
    "STEP_CAPABILITIES": "graflow_core.steps.plan",
    "retry_of": "graflow_core.steps.plan",
    "run_step": "graflow_core.steps.run",
    "failed_output": "graflow_core.steps.run",
    "FAILED_OUTPUT_ATTR": "graflow_core.steps.run",
    "prepare": "graflow_core.steps.run",
    "StepSkipped": "graflow_core.steps.run",
    "UpstreamFailed": "graflow_core.steps.run",
    "StepInputs": "graflow_core.steps.payload.state",
    "StepOutput": "graflow_core.steps.payload.state",
    "merge_states": "graflow_core.steps.payload.state",
    "final_channel": "graflow_core.steps.payload.state",
    "final_result": "graflow_core.steps.payload.state",
    "ValueStore": "graflow_core.steps.payload.values",
    "value_store": "graflow_core.steps.payload.values",
    "StepPayloadError": "graflow_core.steps.payload.values",
    "run_plan": "graflow_core.steps.local",
    "PlanRun": "graflow_core.steps.local",
}

__all__ = [
    "FAILED_OUTPUT_ATTR",
    "HOSTED_STEP_ID",
    "STEP_CAPABILITIES",
    "PlanRun",
    "Reason",
    "Step",
    "StepInputs",
    "StepOutput",
    "StepPayloadError",
    "StepPlan",
    "StepPlanError",
    "StepSkipped",
    "UpstreamFailed",
    "ValueStore",
    "failed_output",
    "final_channel",
    "final_result",
    "merge_states",
    "plan_steps",
    "prepare",
    "retry_of",
    "run_plan",
    "run_step",
    "value_store",
]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), __all__)
