"""The ``graflow`` command: run or draw a workflow defined in a Python file.

::

    graflow run FILE[:OBJECT] [--start ID] [--param KEY=VALUE]... [--max-steps N] [--json]
    graflow run FILE[:OBJECT] --on TARGET [--param KEY=VALUE]... [--json]
    graflow visualize FILE[:OBJECT] [--format ascii|mermaid]
    graflow resume CHECKPOINT [--path DIR]... [--json]
    graflow dead-letters list [DIR] [--json]
    graflow dead-letters show ID [--dir DIR] [--json]
    graflow dead-letters replay ID [--dir DIR] [--path DIR]... [--json]
    graflow spec FILE[:OBJECT] [--start ID] [-o OUT.json]
    graflow preflight FILE[:OBJECT] --target NAME [--start ID] [--json]
    graflow plugins [--json]
    graflow export FILE[:OBJECT] --to TARGET -o DIR [--start ID] [--name NAME] [--option K=V]...
    graflow doctor [--target NAME ...] [--json] [--jobs N]

FILE is imported as a module named after the file (not as ``__main__``, so an
``if __name__ == "__main__":`` block does not run), with its directory on ``sys.path``.
The workflow is OBJECT (a ``WorkflowContext``, or a function without arguments that returns
one) or else the only ``WorkflowContext`` defined at the module's top level.

Every error is one line on stderr starting with ``graflow: error:``; ``--traceback`` adds
the Python traceback.  Exit codes: 0 success, 1 the workflow ran and failed, 2 usage error
or bad input, 130 interrupted.  See ``docs/cli.md``.

One module per command (``run``, ``visualize``, ``resume``, ``dead_letters``, and
``inspect`` for spec, preflight and plugins, ``export``, ``doctor``), each adding its
subcommands with ``add_parser(sub, common)``; ``loading`` finds the workflow in FILE[:OBJECT],
``failures`` words a failed run as one line, ``output`` holds the exit codes, the
error type and the output helpers.  Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from graflow_core.cli import dead_letters, doctor, export, inspect, resume, run, visualize
from graflow_core.cli.output import (
    _EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CLIError,
    _one_line,
    _Parser,
)

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]


def _version() -> str:
    from graflow_core import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """The ``graflow`` argument parser."""
    common = _Parser(add_help=False)
    common.add_argument(
        "--traceback",
        action="store_true",
        help="on an error, also print the Python traceback",
    )
    parser = _Parser(
        prog="graflow",
        description="Run or draw a graflow workflow defined in a Python file.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"graflow-core {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run.add_parser(sub, common)
    visualize.add_parser(sub, common)
    resume.add_parser(sub, common)
    dead_letters.add_parser(sub, common)
    inspect.add_parser(sub, common)
    export.add_parser(sub, common)
    doctor.add_parser(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``graflow`` command with ``argv`` (default: ``sys.argv[1:]``); the exit code."""
    parser = build_parser()
    args: argparse.Namespace | None = None
    try:
        args = parser.parse_args(argv)
        return int(args.func(args))
    except CLIError as err:
        if getattr(args, "traceback", False) and err.exc is not None:
            traceback.print_exception(type(err.exc), err.exc, err.exc.__traceback__)
        sys.stderr.write(f"graflow: error: {_one_line(err.message)}\n")
        return err.code
    except KeyboardInterrupt:
        sys.stderr.write("graflow: error: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``graflow visualize ... | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
