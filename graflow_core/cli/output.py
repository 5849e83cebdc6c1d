"""What the ``graflow`` command prints and returns: exit codes, one-line errors, JSON.

Every error is one ``graflow: error: ...`` line on stderr (a :class:`CLIError` raised by a
command, or a usage error from :class:`_Parser`); ``--json`` output goes through
:func:`_print_json`, which turns anything that is not JSON data into its ``repr``.
:func:`add_command` adds a subcommand with the shared ``--traceback`` option and exit-code
epilog; :func:`print_result` prints what a command returned (JSON or ``repr``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    the workflow ran and failed (a task raised, a parallel group failed, ...)
  2    usage error or bad input: file not found, syntax error or exception while
       importing the file, no workflow found, unknown start task, bad --param
  130  interrupted (Ctrl-C)
"""


class CLIError(Exception):
    """An error reported as one ``graflow: error: ...`` line with an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE, exc: BaseException | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.exc = exc


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors in graflow's format (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"graflow: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _display(path: str | Path) -> str:
    """``path`` relative to the working directory when it is below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON data; anything else becomes its ``repr``."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else repr(value)
        )
    if depth < 20:
        if isinstance(value, dict):
            return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_jsonable(v, depth + 1) for v in value]
    return repr(value)


def _print_json(data: dict[str, Any]) -> None:
    import json

    print(json.dumps(_jsonable(data), indent=2))


def print_result(
    args: argparse.Namespace, result: Any, json_data: Callable[[], dict[str, Any]]
) -> int:
    """Print a command's result and return :data:`EXIT_OK`: with ``--json`` the object
    ``json_data()`` (built only then), else ``repr(result)``."""
    if args.json:
        _print_json(json_data())
    else:
        print(repr(result))
    return EXIT_OK


def add_command(
    sub: Any,
    common: argparse.ArgumentParser | None,
    name: str,
    *,
    help: str,
    description: str,
    func: Callable[[argparse.Namespace], int] | None,
    epilog: str = _EXIT_CODES_HELP,
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` to ``sub`` (an ``add_subparsers()`` result) and return its
    parser: it takes the options of ``common`` (``--traceback``; ``None`` for a group that
    only holds subcommands), ends its ``--help`` with ``epilog`` (the exit codes) as written,
    and runs ``func(args)`` when chosen."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        parents=[] if common is None else [common],
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if func is not None:
        parser.set_defaults(func=func)
    return parser


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout (file descriptor 1 included, for child processes and
    loggers holding it) to stderr, so that stdout holds only the report."""
    sys.stdout.flush()
    try:
        fd, target = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = target = -1  # not real files (captured streams): redirecting sys.stdout is enough
    saved = os.dup(fd) if fd >= 0 else -1
    try:
        if saved >= 0:
            os.dup2(target, fd)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved >= 0:
            os.dup2(saved, fd)
            os.close(saved)
