"""Where graflow-mlflow logs, and how it is switched on without code.

Nothing here imports MLflow.

Settings (constructor arguments win over the environment):

=================================  ==========================================================
``GRAFLOW_MLFLOW=1``               track every workflow run of the process (orchestrator workers)
``MLFLOW_TRACKING_URI``            the tracking store or server (MLflow's own variable)
``MLFLOW_EXPERIMENT_NAME``         the experiment (MLflow's own variable)
``GRAFLOW_MLFLOW_ARTIFACT_LOCATION``  artifact root of experiments graflow creates
``GRAFLOW_MLFLOW_LOG_INPUTS=0``    do not log task inputs as parameters
=================================  ==========================================================

Without a tracking URI the runs go to ``sqlite:///<cwd>/mlflow.db`` — MLflow's own default
store, made absolute when the plugin is created, so that ``mlflow ui`` started in the same
directory shows them and a task that changes directory keeps logging to the same file.
"""

from __future__ import annotations

import os
from pathlib import Path

ENABLE_ENV = "GRAFLOW_MLFLOW"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_ENV = "MLFLOW_EXPERIMENT_NAME"
ARTIFACT_LOCATION_ENV = "GRAFLOW_MLFLOW_ARTIFACT_LOCATION"
LOG_INPUTS_ENV = "GRAFLOW_MLFLOW_LOG_INPUTS"

#: The file name of the default local store (MLflow's default, ``sqlite:///mlflow.db``).
DEFAULT_DB_NAME = "mlflow.db"


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI``, else a SQLite file ``mlflow.db`` in the current directory."""
    uri = os.environ.get(TRACKING_URI_ENV, "").strip()
    if uri:
        return uri
    return "sqlite:///" + str(Path.cwd() / DEFAULT_DB_NAME)


def local_store_path(uri: str) -> Path | None:
    """The file or directory of a local store (``sqlite:///``, ``file:``, a path), else None.

    Used to serialise the find-or-create of a workflow's parent run between processes.
    """
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///") :].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None
    if uri.startswith("file://"):
        return Path(uri[len("file://") :])
    if uri.startswith("file:"):
        return Path(uri[len("file:") :])
    if "://" not in uri and uri:
        return Path(uri)
    return None
