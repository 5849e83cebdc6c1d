"""``graflow dead-letters list|show|replay``: the tasks a DeadLetterStore recorded.

::

    graflow dead-letters list [DIR] [--json]
    graflow dead-letters show ID [--dir DIR] [--json]
    graflow dead-letters replay ID [--dir DIR] [--path DIR]... [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from graflow_core.cli.loading import _prepend_import_paths
from graflow_core.cli.output import (
    _EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_OK,
    CLIError,
    _display,
    _one_line,
    _print_json,
    add_command,
    print_result,
)
from graflow_core.exceptions import describe_error


def _dead_letter_store(directory: str | None, must_exist: bool) -> Any:
    from graflow_core.resilience.dead_letter import DEFAULT_DIRECTORY, DeadLetterStore

    path = Path(directory if directory is not None else DEFAULT_DIRECTORY)
    if path.exists() and not path.is_dir():
        raise CLIError(f"{_display(path)}: not a directory (give the dead-letter directory)")
    if must_exist and not path.is_dir():
        raise CLIError(f"{_display(path)}: no such directory")
    return DeadLetterStore(path)


def _dead_letter_entry(store: Any, entry_id: str) -> Any:
    from graflow_core.resilience.dead_letter import DeadLetterError

    try:
        return store.get(entry_id)
    except DeadLetterError as exc:
        raise CLIError(str(exc), exc=exc) from exc


def _shorten(text: str, width: int) -> str:
    text = _one_line(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _entry_error(entry: Any) -> str:
    kind = entry.error_type.rpartition(".")[2]
    return f"{kind}: {entry.error_message}" if entry.error_message else kind


def _cmd_dead_letters_list(args: argparse.Namespace) -> int:
    import warnings

    store = _dead_letter_store(args.dir, must_exist=args.dir is not None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entries = store.list()
    for warning in caught:
        sys.stderr.write(f"graflow: warning: {_one_line(str(warning.message))}\n")
    if args.json:
        import json

        print(json.dumps([e.to_dict() for e in entries], indent=2, default=repr))
        return EXIT_OK
    if not entries:
        print(f"no dead letters in {_display(store.path)}")
        return EXIT_OK
    rows = [("ID", "STATUS", "TASK", "WORKFLOW", "ATTEMPTS", "REPLAYABLE", "ERROR")]
    for e in entries:
        rows.append(
            (
                e.id,
                e.status,
                e.task_id,
                e.workflow_name or "-",
                str(e.attempts),
                "yes" if e.replayable else "no",
                _shorten(_entry_error(e), 70),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]).rstrip())
    return EXIT_OK


def _cmd_dead_letters_show(args: argparse.Namespace) -> int:
    store = _dead_letter_store(args.dir, must_exist=False)
    entry = _dead_letter_entry(store, args.id)
    if args.json:
        _print_json(entry.to_dict())
        return EXIT_OK
    replayable = "yes" if entry.replayable else f"no ({entry.not_replayable_reason})"
    lines = [
        f"id:          {entry.id}",
        f"task:        {entry.task_id}" + (f" ({entry.task_ref})" if entry.task_ref else ""),
        f"workflow:    {entry.workflow_name or '-'} (session {entry.session_id or '-'})",
        f"failed at:   {entry.created_at}",
        f"attempts:    {entry.attempts} (retries: {entry.retry_count})",
        f"status:      {entry.status}"
        + (f" (resolved at {entry.resolved_at})" if entry.resolved_at else ""),
        f"replayable:  {replayable}",
        f"error:       {_one_line(_entry_error(entry))}",
        "inputs:" + ("" if entry.inputs_repr else "      (none)"),
    ]
    lines.extend(f"  {name} = {value}" for name, value in entry.inputs_repr.items())
    if entry.replays:
        lines.append("replays:")
        for replay in entry.replays:
            outcome = (
                f"ok, result {replay.get('result')}" if replay.get("ok") else replay.get("error")
            )
            lines.append(f"  {replay.get('at')}: {outcome}")
    lines.append("traceback:")
    lines.extend(f"  {line}" for line in entry.traceback.rstrip().splitlines())
    print("\n".join(lines))
    return EXIT_OK


def _cmd_dead_letters_replay(args: argparse.Namespace) -> int:
    from graflow_core.resilience.dead_letter import (
        DeadLetterError,
        DeadLetterReplayError,
    )

    _prepend_import_paths([os.getcwd(), *args.path])
    store = _dead_letter_store(args.dir, must_exist=False)
    entry = _dead_letter_entry(store, args.id)
    try:
        result = store.replay(entry.id)
    except KeyboardInterrupt:
        raise
    except DeadLetterReplayError as exc:
        raise CLIError(str(exc), code=EXIT_FAILED, exc=exc.cause) from exc
    except DeadLetterError as exc:
        raise CLIError(str(exc), exc=exc) from exc
    except Exception as exc:  # importing the task's module failed
        raise CLIError(
            f"cannot replay dead letter {entry.id} (task '{entry.task_id}'): {describe_error(exc)}",
            exc=exc,
        ) from exc
    return print_result(
        args,
        result,
        lambda: {"id": entry.id, "task_id": entry.task_id, "status": "replayed", "result": result},
    )


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``dead-letters`` and its actions to the ``graflow`` parser."""
    dl = add_command(
        sub,
        None,
        "dead-letters",
        help="inspect and replay tasks that failed for good",
        description="Inspect and replay the failed tasks recorded by a DeadLetterStore "
        "(workflow(..., dead_letter_store=DeadLetterStore(DIR))). DIR defaults to "
        "./dead_letters.",
        func=None,
    )
    dl_sub = dl.add_subparsers(dest="dead_letters_command", metavar="ACTION", required=True)
    dir_help = "the dead-letter directory (default: ./dead_letters)"
    id_help = "the entry's id, or a unique prefix of it (see 'graflow dead-letters list')"

    ls = add_command(
        dl_sub,
        common,
        "list",
        help="list the recorded failures, oldest first",
        description="List the recorded failures, oldest first.",
        func=_cmd_dead_letters_list,
    )
    ls.add_argument("dir", metavar="DIR", nargs="?", default=None, help=dir_help)
    ls.add_argument("--json", action="store_true", help="print the entries as a JSON list")

    show = add_command(
        dl_sub,
        common,
        "show",
        help="show one failure: error, traceback, inputs, replays",
        description="Show one recorded failure: error, traceback, inputs and replays.",
        func=_cmd_dead_letters_show,
    )
    show.add_argument("id", metavar="ID", help=id_help)
    show.add_argument("--dir", metavar="DIR", default=None, help=dir_help)
    show.add_argument("--json", action="store_true", help="print the entry as JSON")

    replay = add_command(
        dl_sub,
        common,
        "replay",
        help="run a failed task again with its recorded inputs",
        description="Run a failed task again with its recorded inputs and print its result; "
        "on success the entry is marked replayed. The task's module must be importable "
        "(run from the project directory or pass --path). Needs GRAFLOW_SECRET_KEY, the "
        "key the inputs were signed with.",
        func=_cmd_dead_letters_replay,
        epilog=_EXIT_CODES_HELP.replace("the workflow ran and failed", "the task ran and failed"),
    )
    replay.add_argument("id", metavar="ID", help=id_help)
    replay.add_argument("--dir", metavar="DIR", default=None, help=dir_help)
    replay.add_argument(
        "--path",
        metavar="DIR",
        action="append",
        default=[],
        help="a directory to import the task's module from (default: the current "
        "directory); repeatable",
    )
    replay.add_argument(
        "--json", action="store_true", help="print a JSON object with the entry id and result"
    )


__all__ = ["add_parser"]
