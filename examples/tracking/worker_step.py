"""One step of the "pipeline" workflow in this process — what a static orchestrator's worker
(an Airflow task, a Dagster op) does — with tracking switched on by the environment only.

    GRAFLOW_MLFLOW=1 MLFLOW_TRACKING_URI=sqlite:///mlflow.db \\
        python examples/tracking/worker_step.py extract etl/run-1
    GRAFLOW_WANDB=1 WANDB_MODE=offline python examples/tracking/worker_step.py extract etl/run-1

Arguments: TASK_ID WORKFLOW_RUN_ID [fail] [scope=step|workflow]. Every process started with the
same WORKFLOW_RUN_ID logs into the same MLflow parent run / the same W&B run. Exit code 3 when
the step failed.
"""

from __future__ import annotations

import sys

from graflow_core import task, workflow


def run(task_id: str, workflow_run_id: str, fail: bool = False, scope: str = "step") -> str:
    """Run the one-task workflow ``pipeline`` as part of the workflow run ``workflow_run_id``."""
    with workflow("pipeline") as wf:

        @task(id=task_id)
        def step(size: int) -> str:
            if fail:
                raise RuntimeError(f"{task_id} failed on purpose")
            return f"{task_id}:{size}"

    ctx = wf.create_execution_context(initial_channel={"size": 3})
    ctx.workflow_run_id = workflow_run_id
    ctx.run_scope = scope
    result: str = wf.create_engine().execute(ctx)
    return result


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    scope = next((a.split("=", 1)[1] for a in args if a.startswith("scope=")), "step")
    try:
        print(run(args[0], args[1], "fail" in args[2:], scope))
    except Exception as exc:
        print(f"step failed: {exc}", file=sys.stderr)
        sys.exit(3)
