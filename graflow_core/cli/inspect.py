"""The ``graflow`` commands that describe instead of run: ``spec``, ``preflight``, ``plugins``.

::

    graflow spec FILE[:OBJECT] [--start ID] [-o OUT.json]
    graflow preflight FILE[:OBJECT] --target NAME [--start ID] [--json]
    graflow plugins [--json]

``preflight`` exits 0 when the target can run the workflow (warnings are printed), 1 when a
finding of severity ``error`` means it cannot, and 2 on bad input (like every command).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from graflow_core.cli.loading import _TARGET_HELP, _check_start, _load_workflow
from graflow_core.cli.output import EXIT_FAILED, EXIT_OK, CLIError, _print_json, add_command


def _spec_of(target: str, start_id: str | None) -> Any:
    from graflow_core.spec import build_spec
    from graflow_core.spec.errors import SpecError

    wf, _, shown = _load_workflow(target)
    start = _check_start(wf, start_id, shown)
    try:
        return build_spec(wf, start_node=start)
    except SpecError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise CLIError(
            f"workflow '{wf.name}' ({shown}) cannot be described as a spec: {problems}", exc=exc
        ) from exc


def _cmd_spec(args: argparse.Namespace) -> int:
    spec = _spec_of(args.target, args.start)
    text = spec.to_json(indent=2) + "\n"
    if args.output:
        out = Path(args.output)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CLIError(f"cannot write {args.output}: {exc.strerror or exc}", exc=exc) from exc
        print(f"wrote the spec of workflow '{spec.name}' ({len(spec.tasks)} tasks) to {out}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_preflight(args: argparse.Namespace) -> int:
    from graflow_core.spec import preflight
    from graflow_core.spec.targets import UnknownTargetError

    spec = _spec_of(args.target, args.start)
    try:
        report = preflight(spec, args.target_name)
    except UnknownTargetError as exc:
        raise CLIError(str(exc), exc=exc) from exc
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report)
    return EXIT_OK if report.ok else EXIT_FAILED


def _cmd_plugins(args: argparse.Namespace) -> int:
    from graflow_core.core.task_types import available_task_types
    from graflow_core.plugins import get_plugin_manager
    from graflow_core.spec.targets import available_targets

    manager = get_plugin_manager()
    plugins = manager.plugin_info()
    task_types = {
        name: f"{type(t).__module__}.{type(t).__qualname__}"
        for name, t in sorted(available_task_types().items())
    }
    targets = {
        name: getattr(bridge, "distribution", None) or "graflow-core"
        for name, bridge in sorted(available_targets().items())
    }
    if args.json:
        _print_json({"plugins": plugins, "task_types": task_types, "targets": targets})
        return EXIT_OK
    print("plugins:" if plugins else "plugins: none installed")
    for p in plugins:
        print(f"  {p['name']:<20} {p['distribution']} {p['version']}")
    print("task types:" if task_types else "task types: none")
    for name, impl in task_types.items():
        print(f"  {name:<20} {impl}")
    print("targets:")
    for name, dist in targets.items():
        print(f"  {name:<20} {dist}")
    return EXIT_OK


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``spec``, ``preflight`` and ``plugins`` to the ``graflow`` parser."""
    spec = add_command(
        sub,
        common,
        "spec",
        help="print a workflow's neutral spec (JSON)",
        description="Describe a workflow as the neutral, JSON-serialisable spec that the "
        "bridges render from (see docs/spec.md).",
        func=_cmd_spec,
    )
    spec.add_argument("target", metavar="FILE[:OBJECT]", help=_TARGET_HELP)
    spec.add_argument("--start", metavar="ID", help="the start task (default: the only root)")
    spec.add_argument("-o", "--output", metavar="OUT", help="write the JSON to OUT")

    pre = add_command(
        sub,
        common,
        "preflight",
        help="check what a target orchestrator cannot express",
        description="List what a target (airflow, prefect, dagster, graflow ...) cannot express "
        "in a workflow and what happens instead. Exit code 1 when the target cannot run it.",
        func=_cmd_preflight,
    )
    pre.add_argument("target", metavar="FILE[:OBJECT]", help=_TARGET_HELP)
    pre.add_argument(
        "--target",
        dest="target_name",
        metavar="NAME",
        required=True,
        help="the target orchestrator (see 'graflow plugins')",
    )
    pre.add_argument("--start", metavar="ID", help="the start task (default: the only root)")
    pre.add_argument("--json", action="store_true", help="print the report as JSON")

    plugins = add_command(
        sub,
        common,
        "plugins",
        help="list installed plugins, task types and targets",
        description="List the plugins found through the 'graflow' entry-point group, the task "
        "types they register and the orchestrator targets available for export.",
        func=_cmd_plugins,
    )
    plugins.add_argument("--json", action="store_true", help="print JSON")


__all__ = ["add_parser"]
