"""``graflow export FILE[:OBJECT] --to TARGET -o DIR``: write the files an orchestrator loads.

::

    graflow export FILE[:OBJECT] --to TARGET -o DIR [--start ID] [--name NAME]
                   [--option KEY=VALUE]... [--import-path DIR]... [--json]

The command is generic over the targets: it loads the workflow like ``graflow run``, describes
it as a spec (``build_spec``), and calls the target bridge's ``export(spec, reference, out_dir,
**options)`` (:class:`graflow_core.spec.Bridge`), which writes files that import the workflow
*by reference* — ``reference`` is ``"module:attr"``: the file's module name (the file's stem)
and OBJECT, or the name under which the module defines its only workflow. Options passed to the
bridge:

``import_paths``
    directories the target's loader must put on ``sys.path`` to import the reference: every
    ``--import-path`` given, else FILE's directory (always passed);
``start_node``
    the start task (``--start``, else the only task without predecessors);
``name``
    ``--name`` (the target object's name: an Airflow dag_id, a Dagster job name), when given;
``KEY``
    every ``--option KEY=VALUE`` (VALUE parsed as JSON when it is valid JSON, else a string).

Errors are one line (exit code 2): an unknown target (with what to install), a target whose
bridge cannot export, a workflow that cannot be described or referenced, a file the bridge
could not write.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graflow_core.cli.loading import (
    _TARGET_HELP,
    _check_start,
    _load_workflow,
    _split_target,
    _workflows_in,
)
from graflow_core.cli.output import EXIT_OK, CLIError, _print_json, add_command
from graflow_core.exceptions import describe_error

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import Bridge


def _bridge(name: str) -> Bridge:
    from graflow_core.spec.targets import UnknownTargetError, get_target

    try:
        bridge = get_target(name)
    except UnknownTargetError as exc:
        raise CLIError(str(exc), exc=exc) from exc
    if bridge.export is None:
        from graflow_core.spec.targets import available_targets

        able = sorted(n for n, b in available_targets().items() if b.export is not None)
        hint = f"targets that do: {', '.join(able)}" if able else "no installed target does"
        provider = bridge.distribution or "a plugin"
        raise CLIError(
            f"target '{name}' (from {provider}) does not export files; {hint} (--to NAME)"
        )
    return bridge


def _reference(wf: WorkflowContext, target: str, resolved: Path) -> str:
    """``"module:attr"`` under which a fresh process imports the workflow (or its builder)."""
    import sys

    _, obj_name = _split_target(target)
    module_name = resolved.stem
    if obj_name is not None:
        return f"{module_name}:{obj_name}"
    module = sys.modules.get(module_name)
    names = [n for n, v in _workflows_in(module).items() if v is wf] if module else []
    if not names:  # pragma: no cover - _load_workflow only returns module-level workflows
        raise CLIError(
            f"{target}: workflow '{wf.name}' is not a module-level name, so the exported files "
            "cannot import it; pass FILE:NAME naming the workflow or a function returning it"
        )
    return f"{module_name}:{names[0]}"


def _parse_options(items: list[str]) -> dict[str, Any]:
    from graflow_core.cli.run import _parse_params

    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(
                f"bad --option {item!r}: expected KEY=VALUE, e.g. --option task_groups=true"
            )
    return _parse_params(items)


def _cmd_export(args: argparse.Namespace) -> int:
    from graflow_core.spec import build_spec
    from graflow_core.spec.errors import SpecError

    bridge = _bridge(args.to)
    wf, resolved, shown = _load_workflow(args.target)
    start = _check_start(wf, args.start, shown)
    try:
        spec = build_spec(wf, start_node=start)
    except SpecError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise CLIError(
            f"workflow '{wf.name}' ({shown}) cannot be exported: its tasks must be importable "
            f"by reference from another process: {problems}",
            exc=exc,
        ) from exc
    reference = _reference(wf, args.target, resolved)
    import_paths = [os.path.abspath(p) for p in args.import_path] or [str(resolved.parent)]
    options: dict[str, Any] = {
        **_parse_options(args.option),
        "import_paths": import_paths,
        "start_node": start,
    }
    if args.name:
        options["name"] = args.name
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise CLIError(f"-o {args.output}: exists and is not a directory")
    try:
        written = bridge.export(spec, reference, out_dir, **options)
    except CLIError:
        raise
    except OSError as exc:
        raise CLIError(f"cannot write to {args.output}: {describe_error(exc)}", exc=exc) from exc
    except Exception as exc:
        raise CLIError(
            f"export of workflow '{wf.name}' ({shown}) to {args.to} failed: {describe_error(exc)}",
            exc=exc,
        ) from exc
    paths = [str(p) for p in written or []]
    if args.json:
        _print_json(
            {"workflow": spec.name, "target": args.to, "reference": reference, "files": paths}
        )
    else:
        for p in paths:
            print(f"wrote {p}")
        print(
            f"exported workflow '{spec.name}' ({len(spec.tasks)} tasks) to {args.to} as "
            f"{len(paths)} file(s); they import it as {reference}"
        )
    return EXIT_OK


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``export`` to the ``graflow`` parser."""
    exp = add_command(
        sub,
        common,
        "export",
        help="write the files an orchestrator loads (e.g. an Airflow DAG file)",
        description="Write the files a target orchestrator loads (an Airflow DAG file, a "
        "Dagster definitions module ...). They import the workflow by reference "
        "(module:attr), so the workflow's code must be importable where the orchestrator runs.",
        func=_cmd_export,
    )
    exp.add_argument("target", metavar="FILE[:OBJECT]", help=_TARGET_HELP)
    exp.add_argument(
        "--to",
        metavar="TARGET",
        required=True,
        help="the target orchestrator, e.g. airflow (see 'graflow plugins')",
    )
    exp.add_argument(
        "-o", "--output", metavar="DIR", required=True, help="the directory to write into"
    )
    exp.add_argument("--start", metavar="ID", help="the start task (default: the only root)")
    exp.add_argument(
        "--name", metavar="NAME", help="the target object's name (Airflow: the dag_id)"
    )
    exp.add_argument(
        "--option",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="a bridge option (repeatable; VALUE parsed as JSON when valid), e.g. "
        "--option schedule=@daily",
    )
    exp.add_argument(
        "--import-path",
        metavar="DIR",
        action="append",
        default=[],
        help="a directory the orchestrator must put on sys.path to import the workflow "
        "(repeatable; default: FILE's directory)",
    )
    exp.add_argument("--json", action="store_true", help="print what was written as JSON")


__all__ = ["add_parser"]
