"""``graflow run FILE[:OBJECT] [--start ID] [--param KEY=VALUE]... [--max-steps N] [--json]``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from graflow_core.cli.failures import _failure_message, _task_functions
from graflow_core.cli.loading import _TARGET_HELP, _check_start, _load_workflow
from graflow_core.cli.output import (
    EXIT_FAILED,
    CLIError,
    _print_json,
    add_command,
    print_result,
)

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext


def _parse_params(items: list[str]) -> dict[str, Any]:
    import json

    params: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CLIError(f"bad --param {item!r}: expected KEY=VALUE, e.g. --param limit=10")
        try:
            params[key] = json.loads(raw)
        except ValueError:
            params[key] = raw
    return params


def _all_task_ids(wf: WorkflowContext) -> list[str]:
    """Every node id of the workflow, then the ids of group members that are not nodes."""
    ids = [str(n) for n in wf.graph.nodes]
    for codes_ids in _task_functions(wf).values():
        ids.extend(i for i in codes_ids if i not in ids)
    return ids


def _cmd_run(args: argparse.Namespace) -> int:
    params = _parse_params(args.param)
    if args.max_steps < 1:
        raise CLIError(f"bad --max-steps {args.max_steps}: must be at least 1")
    wf, resolved, shown = _load_workflow(args.target)
    start = _check_start(wf, args.start, shown)

    from graflow_core.exceptions import GraflowError, describe_error

    try:
        exec_context = wf.create_execution_context(start, args.max_steps, params or None)
    except GraflowError as exc:
        raise CLIError(f"workflow '{wf.name}' ({shown}): {describe_error(exc)}", exc=exc) from exc
    try:
        result = wf.create_engine().execute(exec_context)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        message = _failure_message(exc, wf, resolved, shown)
        if args.json:
            _print_json(
                {
                    "workflow": wf.name,
                    "status": "failed",
                    "start_node": start,
                    "error": {"type": type(exc).__name__, "message": message},
                    "completed_tasks": list(getattr(exec_context, "completed_tasks", [])),
                }
            )
        raise CLIError(message, code=EXIT_FAILED, exc=exc) from exc

    def succeeded() -> dict[str, Any]:
        completed = [str(t) for t in getattr(exec_context, "completed_tasks", [])]
        # Members of parallel groups run in branches; their results are in the channel too.
        missing = object()
        results = {}
        for task_id in [*completed, *_all_task_ids(wf)]:
            value = exec_context.get_result(task_id, missing)
            if value is not missing and task_id not in results:
                results[task_id] = value
        return {
            "workflow": wf.name,
            "status": "succeeded",
            "start_node": start,
            "result": result,
            "steps": getattr(exec_context, "steps", None),
            "completed_tasks": completed,
            "results": results,
        }

    return print_result(args, result, succeeded)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``run`` to the ``graflow`` parser."""
    run = add_command(
        sub,
        common,
        "run",
        help="run a workflow and print its result",
        description="Run a workflow and print its result (the last task's return value).",
        func=_cmd_run,
    )
    run.add_argument("target", metavar="FILE[:OBJECT]", help=_TARGET_HELP)
    run.add_argument(
        "--start",
        metavar="ID",
        help="the task to start at (default: the only task without predecessors)",
    )
    run.add_argument(
        "--param",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="put KEY into the channel before the run; VALUE is parsed as JSON when it is "
        "valid JSON (10, true, [1,2], '\"text\"'), else taken as a string; repeatable",
    )
    run.add_argument(
        "--max-steps",
        metavar="N",
        type=int,
        default=10000,
        help="stop after N task executions (default: 10000)",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print a JSON object with the status, the result and each task's result",
    )


__all__ = ["add_parser"]
