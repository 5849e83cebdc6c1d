"""``graflow resume CHECKPOINT [--path DIR]... [--json]``: continue a run from a checkpoint."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from graflow_core.cli.loading import _prepend_import_paths
from graflow_core.cli.output import (
    EXIT_FAILED,
    CLIError,
    _display,
    _one_line,
    add_command,
    print_result,
)
from graflow_core.exceptions import describe_error


def _resume_context(checkpoint: str, paths: list[str]) -> Any:
    """Verify and load a checkpoint for ``graflow resume``, turning every failure into a
    one-line CLIError (exit code 2)."""
    import pickle

    from graflow_core.checkpoint_stores.base import has_scheme
    from graflow_core.core.checkpoint import (
        SUFFIXES,
        CheckpointManager,
        CheckpointVerificationError,
    )
    from graflow_core.exceptions import GraflowError

    _prepend_import_paths([os.getcwd(), *paths])
    base = CheckpointManager._get_base_path(checkpoint)
    url = has_scheme(base)
    missing = [] if url else [s for s in SUFFIXES if not Path(base + s).is_file()]
    if missing:
        raise CLIError(
            f"{_display(base)}: checkpoint not found or incomplete, missing "
            f"{', '.join(_display(base + s) for s in missing)} (a checkpoint is <base>.pkl, "
            "<base>.state.json and <base>.meta.json)"
        )
    shown = base if url else _display(base)
    try:
        ctx, _meta = CheckpointManager.resume_from_checkpoint(checkpoint)
    except ModuleNotFoundError as exc:
        raise CLIError(
            f"{shown}.pkl refers to module '{exc.name}', which cannot be imported; "
            "pass --path DIR with the directory that contains the workflow's code",
            exc=exc,
        ) from exc
    except CheckpointVerificationError as exc:
        # Unsigned, tampered, truncated, wrong or missing key: the message names the file and
        # the likely cause. Nothing was unpickled.
        raise CLIError(
            f"{shown}: not a readable graflow checkpoint: {_one_line(str(exc))}", exc=exc
        ) from exc
    except GraflowError as exc:
        # A missing file, a location no store handles, a bad key setting.
        raise CLIError(f"{shown}: cannot resume: {_one_line(str(exc))}", exc=exc) from exc
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        KeyError,
        AttributeError,
        TypeError,
    ) as exc:
        raise CLIError(
            f"{shown}: not a readable graflow checkpoint ({describe_error(exc)})", exc=exc
        ) from exc
    return ctx


def _cmd_resume(args: argparse.Namespace) -> int:
    ctx = _resume_context(args.checkpoint, args.path)
    already = len(ctx.completed_tasks)
    from graflow_core.core.engine import WorkflowEngine

    try:
        result = WorkflowEngine().execute(ctx)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        raise CLIError(
            f"resumed run of {_display(args.checkpoint)} failed: {describe_error(exc)}",
            code=EXIT_FAILED,
            exc=exc,
        ) from exc
    return print_result(
        args,
        result,
        lambda: {
            "status": "succeeded",
            "result": result,
            "steps": ctx.steps,
            "resumed_tasks": list(ctx.completed_tasks[already:]),
            "completed_tasks": list(ctx.completed_tasks),
        },
    )


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``resume`` to the ``graflow`` parser."""
    res = add_command(
        sub,
        common,
        "resume",
        help="continue a run from a checkpoint and print its result",
        description="Continue a workflow run from a checkpoint written by ctx.checkpoint() or "
        "CheckpointManager, and print its result.",
        func=_cmd_resume,
    )
    res.add_argument(
        "checkpoint", metavar="CHECKPOINT", help="the checkpoint's base path (with or without .pkl)"
    )
    res.add_argument(
        "--path",
        metavar="DIR",
        action="append",
        default=[],
        help="a directory to import the workflow's modules from (default: the current "
        "directory); repeatable",
    )
    res.add_argument(
        "--json",
        action="store_true",
        help="print a JSON object with the result and the tasks run after resuming",
    )


__all__ = ["add_parser"]
