"""Convert Prefect flow code and Airflow DAG files into graflow code, with a report of what could
not be converted.

>>> from graflow_migrate import migrate_file
>>> result = migrate_file("flows/etl.py", "prefect")        # doctest: +SKIP
>>> result.code, result.report.to_text()                      # doctest: +SKIP

Importing this package is cheap: libcst (and nothing of Prefect or Airflow, which are never
imported at all) loads only when a file is converted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graflow_migrate.api import MigrationResult, migrate_file, migrate_source
    from graflow_migrate.errors import InvalidSourceError, MigrationError
    from graflow_migrate.report import Finding, MigrationReport

__all__ = [
    "Finding",
    "InvalidSourceError",
    "MigrationError",
    "MigrationReport",
    "MigrationResult",
    "migrate_file",
    "migrate_source",
]

_LAZY = {
    "MigrationResult": "graflow_migrate.api",
    "migrate_file": "graflow_migrate.api",
    "migrate_source": "graflow_migrate.api",
    "MigrationError": "graflow_migrate.errors",
    "InvalidSourceError": "graflow_migrate.errors",
    "Finding": "graflow_migrate.report",
    "MigrationReport": "graflow_migrate.report",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graflow_migrate' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
