"""Differences between the supported Airflow versions (3.2, 3.3), in one place.

Only imported by modules that import Airflow anyway (never by ``graflow_airflow/__init__``).
"""

from __future__ import annotations

try:  # Airflow >= 3.1: the Task SDK owns the task exceptions
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # pragma: no cover - older layouts
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowFailException,
        AirflowSkipException,
    )

__all__ = ["AirflowFailException", "AirflowSkipException"]
