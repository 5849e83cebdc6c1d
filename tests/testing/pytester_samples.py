"""Sources of the modules the inner pytest sessions (``pytester``) of these tests import."""

from __future__ import annotations

#: ``etl.py``: ``build(graflow_workflow, fail=False, retries=None)`` → the workflow ``etl``,
#: ``extract >> transform >> load``; ``transform`` raises ``ValueError("bad row")`` when
#: ``fail`` and has ``max_retries=retries``.
ETL = """
from graflow_core import task


def build(graflow_workflow, fail=False, retries=None):
    with graflow_workflow("etl") as wf:

        @task
        def extract():
            return [3, 1, 2]

        @task(max_retries=retries)
        def transform(extract):
            if fail:
                raise ValueError("bad row")
            return sorted(extract)

        @task
        def load(transform):
            return len(transform)

        extract >> transform >> load
    return wf
"""
