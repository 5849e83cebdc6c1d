"""``graflow-migrate``: convert Prefect flows and Airflow DAG files into graflow code.

::

    graflow-migrate prefect SRC.py [-o OUT.py] [--report REPORT] [--format text|json]
    graflow-migrate airflow DAG.py [-o OUT.py] [--report REPORT] [--format text|json]

Without ``-o`` the converted code goes to stdout and the report to stderr; with ``-o`` the
report goes to stdout (or to ``--report FILE``). Exit codes: 0 converted (possibly with TODOs,
see the report), 2 usage error or bad input (file missing, not valid Python), 3 with
``--strict`` when something was left as TODO. Errors are one line: ``graflow-migrate: error: ...``.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_TODO = 3

_EPILOG = """\
exit codes:
  0  converted (constructs left as TODO are listed in the report)
  2  usage error or bad input (file not found, not valid Python)
  3  --strict and at least one construct was left as TODO
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"graflow-migrate: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("graflow-migrate")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The ``graflow-migrate`` argument parser."""
    parser = _Parser(
        prog="graflow-migrate",
        description="Convert Prefect flow code or Airflow DAG files into graflow code.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"graflow-migrate {_version()}")
    sub = parser.add_subparsers(dest="frontend", metavar="FRONTEND", required=True)
    helps = {
        "prefect": "convert Prefect flow code (@flow/@task) into graflow code",
        "airflow": "convert an Airflow DAG file (TaskFlow or PythonOperator) into graflow code",
    }
    for name, text in helps.items():
        cmd = sub.add_parser(
            name,
            help=text,
            description=text,
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_argument("source", metavar="SRC.py", help="the file to convert")
        cmd.add_argument(
            "-o", "--output", metavar="OUT.py", help="write the graflow code here (default: stdout)"
        )
        cmd.add_argument(
            "--report",
            metavar="FILE",
            help="write the report here (default: stdout with -o, else stderr)",
        )
        cmd.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="report format (default: text)",
        )
        cmd.add_argument(
            "--strict", action="store_true", help="exit with code 3 when something was left as TODO"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``graflow-migrate`` command."""
    args = build_parser().parse_args(argv)
    from graflow_migrate.errors import MigrationError

    try:
        return _run(args)
    except MigrationError as exc:
        sys.stderr.write(f"graflow-migrate: error: {_one_line(str(exc))}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("graflow-migrate: interrupted\n")
        return 130


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from graflow_migrate.api import migrate_file
    from graflow_migrate.errors import MigrationError

    if args.output and Path(args.output).resolve() == Path(args.source).resolve():
        raise MigrationError(
            f"{args.output}: the output would overwrite the source; give another -o path"
        )
    result = migrate_file(args.source, args.frontend, output=args.output)
    report = result.report.to_json() if args.format == "json" else result.report.to_text()
    if args.output:
        _write(args.output, result.code)
    else:
        sys.stdout.write(result.code)
    if args.report:
        _write(args.report, report)
    elif args.output:
        sys.stdout.write(report)
    else:
        sys.stderr.write(report)
    if args.strict and result.report.todo_count:
        return EXIT_TODO
    return EXIT_OK


def _encoding(text: str) -> str:
    """The encoding a Python file's coding cookie declares (PEP 263), else UTF-8: the
    converted file keeps the source's cookie, so it must be written in that encoding."""
    import codecs
    import re

    for line in text.splitlines()[:2]:
        match = re.match(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", line)
        if match:
            try:
                name = codecs.lookup(match.group(1)).name
                text.encode(name)
                return name
            except (LookupError, UnicodeEncodeError):
                return "utf-8"
    return "utf-8"


def _write(path: str, text: str) -> None:
    from graflow_migrate.errors import MigrationError

    try:
        with open(path, "w", encoding=_encoding(text)) as handle:
            handle.write(text)
    except OSError as exc:
        raise MigrationError(f"{path}: cannot write: {exc.strerror or exc}") from None


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
