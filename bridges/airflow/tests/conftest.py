"""Fixtures of the graflow-airflow tests (``airflow_env`` comes from graflow_airflow.testing)."""

from __future__ import annotations

import itertools

import pytest

_ids = itertools.count()


@pytest.fixture
def dag_id(request) -> str:
    """A DAG id unique in the session (DAG runs of one id share the metadata database)."""
    return f"{request.node.name.split('[')[0]}_{next(_ids)}"
