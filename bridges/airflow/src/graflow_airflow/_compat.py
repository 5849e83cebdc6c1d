"""Differences between Airflow versions, in one place (graflow-airflow supports 3.3 and later).

Only imported by modules that import Airflow anyway (never by ``graflow_airflow/__init__``).
"""

from __future__ import annotations

from typing import Any

try:  # Airflow >= 3.1: the Task SDK owns the task exceptions
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException
except ImportError:  # pragma: no cover - older layouts
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowFailException,
        AirflowSkipException,
    )

try:  # the Task SDK's branching mix-in (what BranchPythonOperator uses)
    from airflow.sdk.bases.branch import BranchMixIn
except ImportError:  # pragma: no cover - the standard provider's copy
    from airflow.providers.standard.operators.branch import (  # type: ignore[assignment]
        BranchMixIn,
    )

__all__ = [
    "AIRFLOW_VERSION",
    "MIN_AIRFLOW",
    "AirflowFailException",
    "AirflowSkipException",
    "BranchMixIn",
    "backoff_factor_from",
    "exponential_backoff_argument",
]


#: The oldest Airflow graflow-airflow supports (``apache-airflow>=3.3`` in its pyproject and in
#: graflow-core's ``airflow`` extra; 3.2.x's ``dag.test()`` breaks with current ``svcs``).
MIN_AIRFLOW = (3, 3)


def _airflow_version() -> tuple[int, ...]:
    import re

    from airflow import __version__

    return tuple(int(p) for p in re.findall(r"\d+", __version__.split("+")[0])[:3])


#: The installed Airflow's version as numbers, e.g. ``(3, 3, 2)`` (``graflow doctor`` compares).
AIRFLOW_VERSION = _airflow_version()


# -- retry backoff (render.py) -------------------------------------------------------------------
# Airflow 3.3 (and 3.2, where the change landed: apache/airflow#56866) takes
# ``retry_exponential_backoff`` as a float multiplier (0 = constant delay). Earlier Task SDK
# versions took a bool (True = base 2). Detected from the class default, not the version string.


def _backoff_is_bool() -> bool:
    from airflow.sdk import BaseOperator

    return isinstance(getattr(BaseOperator, "retry_exponential_backoff", 0), bool)


def exponential_backoff_argument(factor: float) -> float | bool:
    """``retry_exponential_backoff`` for graflow's ``backoff_factor`` (1 means no backoff)."""
    if _backoff_is_bool():  # pragma: no cover - Airflow < 3.2 only
        return factor != 1.0
    return 0 if factor == 1.0 else float(factor)


def backoff_factor_from(value: Any) -> float:
    """graflow's ``backoff_factor`` for an operator's ``retry_exponential_backoff``."""
    if isinstance(value, bool):  # pragma: no cover - Airflow < 3.2 only
        return 2.0 if value else 1.0
    factor = float(value or 0)
    return 1.0 if factor == 0 else factor


def branch_mixins() -> tuple[type, ...]:
    """The ``BranchMixIn`` classes branching operators derive from (the Task SDK's, and the
    standard provider's where it still defines its own)."""
    found: list[type] = []
    try:
        from airflow.sdk.bases.branch import BranchMixIn as SdkBranchMixIn

        found.append(SdkBranchMixIn)
    except ImportError:  # pragma: no cover - older Task SDK
        pass
    try:
        from airflow.providers.standard.operators.branch import BranchMixIn as StdBranchMixIn

        if StdBranchMixIn not in found:
            found.append(StdBranchMixIn)
    except ImportError:  # pragma: no cover
        pass
    return tuple(found)
