"""``graflow-migrate``: convert Prefect flows and Airflow DAG files into graflow code."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``graflow-migrate`` command."""
    print("graflow-migrate: not implemented yet", file=sys.stderr)
    return 2
