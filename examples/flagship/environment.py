"""The environment of a local engine process: the demo's engines, its migrated flow, the bench.

One definition, used by ``examples/demo.py`` (every engine process and the converted Prefect
flow) and ``benchmarks/engines_bench.py``: the user's own orchestrator, tracking and graflow
settings are dropped, and Airflow's and Prefect's state lives under one scratch directory
(:func:`graflow_airflow.local.local_environment`, :func:`graflow_prefect.local.local_environment`;
neither imports its orchestrator). Dagster gets no ``DAGSTER_HOME``, so an ephemeral instance.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from graflow_airflow.local import local_environment as airflow_environment
from graflow_prefect.local import local_environment as prefect_environment

EXAMPLES = Path(__file__).resolve().parent.parent

#: Prefixes of the user's variables that never reach an engine process: the orchestrators' and
#: trackers' own settings, and graflow's (tracking plugins, metrics, step stores, disabled
#: plugins) -- except the signing key, see :data:`KEPT`.
FOREIGN_PREFIXES = ("AIRFLOW", "PREFECT_", "DAGSTER_", "MLFLOW_", "WANDB_", "GRAFLOW_")
#: graflow variables that do pass: checkpoints and outcome files are signed with them.
KEPT = frozenset({"GRAFLOW_SECRET_KEY", "GRAFLOW_SECRET_KEY_FALLBACKS"})


def engine_environment(
    scratch: str | os.PathLike[str],
    *,
    tracking: bool,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a local engine process whose state lives under ``scratch``.

    ``base`` (default ``os.environ``) minus :data:`FOREIGN_PREFIXES` (but :data:`KEPT`), plus:
    Airflow's home in ``scratch/airflow`` (file SQLite database, no example DAGs), Prefect's in
    ``scratch/prefect`` (its temporary local server's SQLite database), telemetry off, and
    ``examples/`` on ``PYTHONPATH`` (for :mod:`flagship`). With ``tracking``, every workflow run
    is tracked in MLflow into ``scratch/mlflow.db``; without, nothing is tracked at all. The
    folders are created.
    """
    root = Path(scratch)
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k in KEPT or not k.startswith(FOREIGN_PREFIXES)}
    airflow, prefect = root / "airflow", root / "prefect"
    for folder in (airflow / "dags", airflow / "plugins", airflow / "logs", prefect):
        folder.mkdir(parents=True, exist_ok=True)
    path = [str(EXAMPLES), env.get("PYTHONPATH")]
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(p for p in path if p),
            "DO_NOT_TRACK": "1",
            **airflow_environment(airflow),
            **prefect_environment(prefect),
            "DAGSTER_DISABLE_TELEMETRY": "yes",
            "MLFLOW_DISABLE_TELEMETRY": "true",
        }
    )
    if tracking:
        env.update(
            {
                "GRAFLOW_MLFLOW": "1",
                "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
                "GRAFLOW_MLFLOW_ARTIFACT_LOCATION": str(root / "mlflow-artifacts"),
            }
        )
    return env
