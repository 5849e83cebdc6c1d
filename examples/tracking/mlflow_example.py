"""Track a workflow run in MLflow: a parent run, a child run per task (docs/mlflow.md).

    python examples/tracking/mlflow_example.py [TRACKING_URI]

Without a URI (and without ``$MLFLOW_TRACKING_URI``) the runs go to ``sqlite:///mlflow.db`` in
the current directory; look at them with ``mlflow ui --backend-store-uri sqlite:///mlflow.db``.
"""

from __future__ import annotations

import os
import sys

from graflow_mlflow import MlflowTracking
from tracked_pipeline import build_mlflow  # this folder is on sys.path

# Before the tracking library is imported (it is imported on first use).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def main(tracking_uri: str | None = None) -> None:
    tracking = MlflowTracking(tracking_uri, experiment="tracked_pipeline")
    result = build_mlflow().execute(initial_channel={"rows": 100}, plugins=[tracking])
    print("result:", result)

    from mlflow import MlflowClient

    client = MlflowClient(tracking.tracking_uri)
    experiment = client.get_experiment_by_name("tracked_pipeline")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])
    parent = next(r for r in reversed(runs) if "mlflow.parentRunId" not in r.data.tags)
    print(f"parent run {parent.info.run_name}: {parent.info.status}")
    for run in runs:
        if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id:
            print(
                f"  task {run.info.run_name}: {run.info.status}, params {run.data.params}, "
                f"metrics {sorted(run.data.metrics)}"
            )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
