"""Run one task of the "pipeline" workflow in this process, as a static orchestrator's worker.

Usage: python mlflow_step_worker.py TASK_ID WORKFLOW_RUN_ID [fail] [scope=workflow]

Tracking is switched on the way a worker does it: GRAFLOW_MLFLOW=1 and MLFLOW_TRACKING_URI /
MLFLOW_EXPERIMENT_NAME in the environment (the caller sets them), no code.
"""

from __future__ import annotations

import sys

from graflow_core import task, workflow


def run(task_id: str, workflow_run_id: str, fail: bool, scope: str) -> None:
    with workflow("pipeline") as wf:

        @task(id=task_id)
        def step(size: int = 3) -> str:
            if fail:
                raise RuntimeError(f"{task_id} failed on purpose")
            return task_id

    ctx = wf.create_execution_context(initial_channel={"size": 3})
    ctx.workflow_run_id = workflow_run_id
    ctx.run_scope = scope
    wf.create_engine().execute(ctx)


if __name__ == "__main__":
    args = sys.argv[1:]
    scope = next((a.split("=", 1)[1] for a in args if a.startswith("scope=")), "step")
    try:
        run(args[0], args[1], "fail" in args[2:], scope)
    except Exception as exc:
        print(f"step failed: {exc}", file=sys.stderr)
        sys.exit(3)
