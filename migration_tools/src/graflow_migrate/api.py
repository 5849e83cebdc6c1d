"""The Python API of graflow-migrate: convert source text or a file, get code and a report."""

from __future__ import annotations

from dataclasses import dataclass

from graflow_migrate.errors import MigrationError
from graflow_migrate.report import MigrationReport

__all__ = ["FRONTENDS", "MigrationResult", "migrate_file", "migrate_source"]

#: The front ends: what the source file is written for.
FRONTENDS = ("prefect", "airflow")


@dataclass
class MigrationResult:
    """The converted code and the report of one conversion."""

    code: str
    report: MigrationReport


def migrate_source(
    text: str, frontend: str, *, path: str = "<string>", output: str | None = None
) -> MigrationResult:
    """Convert ``text`` (Prefect flow code or an Airflow DAG file) into graflow code.

    Args:
        text: the Python source.
        frontend: ``"prefect"`` or ``"airflow"``.
        path: the file name used in the report and in error messages.
        output: the output file name recorded in the report.

    Raises:
        InvalidSourceError: ``text`` is not valid Python (the message has ``file:line:col``).
        MigrationError: an unknown front end, or a file the parser cannot read.
    """
    if frontend not in FRONTENDS:
        raise MigrationError(f"unknown front end {frontend!r}; use one of: {', '.join(FRONTENDS)}")
    from graflow_migrate._source import Lines, parse_module

    module, tree = parse_module(text, path)
    lines = Lines(text, module, tree)
    report = MigrationReport(source=path, frontend=frontend, output=output)
    try:
        if frontend == "prefect":
            from graflow_migrate.prefect import convert_prefect

            code = convert_prefect(lines, report, tree)
        else:
            from graflow_migrate.airflow import convert_airflow

            code = convert_airflow(lines, report, tree)
    except RecursionError:
        raise MigrationError(
            f"{path}: nested too deeply for graflow-migrate; convert the file by hand"
        ) from None
    _check_output(code, path)
    return MigrationResult(code, report)


def migrate_file(path: str, frontend: str, *, output: str | None = None) -> MigrationResult:
    """Read ``path`` and convert it (see :func:`migrate_source`)."""
    from graflow_migrate._source import read_source

    return migrate_source(read_source(path), frontend, path=path, output=output)


def _check_output(code: str, path: str) -> None:
    """The generated code must compile; anything else is a bug in graflow-migrate."""
    try:
        compile(code, path, "exec", dont_inherit=True)
    except SyntaxError as exc:  # pragma: no cover - a converter bug
        raise MigrationError(
            f"{path}: graflow-migrate produced invalid Python at line {exc.lineno} "
            f"({exc.msg}); please report this with the input file"
        ) from None
