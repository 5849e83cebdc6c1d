"""``graflow run FILE[:OBJECT] [--start ID] [--param KEY=VALUE]... [--max-steps N] [--json]``.

With ``--on TARGET`` the workflow runs on that target's orchestrator, locally and in this
process, through :func:`graflow_core.spec.target_run.run_on` (the bridge's ``run``), and a
summary line (native tasks, their states, wall time, run id) comes before the result.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

from graflow_core.cli.failures import _failure_message, _task_functions
from graflow_core.cli.loading import _TARGET_HELP, _check_start, _load_workflow
from graflow_core.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    CLIError,
    _print_json,
    add_command,
    print_result,
    stdout_to_stderr,
)

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec.target_run import TargetRun

_DEFAULT_MAX_STEPS = 10000


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


def _summary(run: TargetRun, total: float) -> str:
    """``ran on dagster: 4 native tasks (3 success, 1 skipped) in 0.41 s (1.93 s in all),
    run id ...``."""
    counts: dict[str, int] = {}
    for state in run.states.values():
        counts[state] = counts.get(state, 0) + 1
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    noun = "native task" if run.native_tasks == 1 else "native tasks"
    return (
        f"ran on {run.target}: {run.native_tasks} {noun}"
        + (f" ({states})" if states else "")
        + f" in {run.wall_seconds:.2f} s ({total:.2f} s in all)"
        + (f", run id {run.run_id}" if run.run_id else "")
    )


def _run_on(args: argparse.Namespace, params: dict[str, Any]) -> int:
    import time

    from graflow_core.exceptions import GraflowError, describe_error
    from graflow_core.spec.target_run import run_on

    target = args.on
    options: dict[str, Any] = {}
    if target == "graflow":
        options["max_steps"] = args.max_steps
    elif args.start is not None or args.max_steps != _DEFAULT_MAX_STEPS:
        raise CLIError(
            f"--start and --max-steps work with the graflow engine only, not with --on {target}"
        )
    started = time.perf_counter()
    wf, resolved, shown = _load_workflow(args.target)
    if target == "graflow" or args.start is not None:  # the engine: the plain run's checks
        options["start_node"] = _check_start(wf, args.start, shown)
    elif not wf.graph.nodes:
        _check_start(wf, None, shown)  # the engine's "has no tasks" error, on every target
    # With --json, stdout holds only the JSON: orchestrators log to stdout while they run.
    quiet = stdout_to_stderr() if args.json else contextlib.nullcontext()
    try:
        with quiet:
            run = run_on(target, wf, params, **options)
    except GraflowError as exc:
        raise CLIError(f"--on {target}: {describe_error(exc)}", exc=exc) from exc
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        raise CLIError(
            f"--on {target}: the {target} run could not start: {type(exc).__name__}: {exc} "
            f"(see 'graflow doctor --target {target}')",
            code=EXIT_FAILED,
            exc=exc,
        ) from exc
    summary = _summary(run, time.perf_counter() - started)
    data = _on_json(wf, run) if args.json else None
    if run.error is not None:
        message = _failure_message(run.error, wf, resolved, shown) + f" (on {target})"
        if data is not None:
            data["error"] = {"type": type(run.error).__name__, "message": message}
            _print_json(data)
        else:
            print(summary)
        raise CLIError(message, code=EXIT_FAILED, exc=run.error)
    if data is not None:
        _print_json(data)
    else:
        print(summary)
        print(repr(run.result))
    return EXIT_OK


def _on_json(wf: WorkflowContext, run: TargetRun) -> dict[str, Any]:
    return {
        "workflow": wf.name,
        "target": run.target,
        "status": "succeeded" if run.ok else "failed",
        "result": run.result,
        "results": run.results,
        "channel": run.user_channel,
        "native_tasks": run.native_tasks,
        "states": run.states,
        "wall_seconds": round(run.wall_seconds, 4),
        "run_id": run.run_id,
    }


def _cmd_run(args: argparse.Namespace) -> int:
    params = _parse_params(args.param)
    if args.max_steps < 1:
        raise CLIError(f"bad --max-steps {args.max_steps}: must be at least 1")
    if args.on is not None:
        return _run_on(args, params)
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
        default=_DEFAULT_MAX_STEPS,
        help=f"stop after N task executions (default: {_DEFAULT_MAX_STEPS})",
    )
    run.add_argument(
        "--on",
        metavar="TARGET",
        help="run on this target's orchestrator, locally in this process (airflow: "
        "dag.test(), prefect: a flow run, dagster: execute_in_process(); graflow: the engine) "
        "and print a summary line before the result; see 'graflow plugins' for the targets",
    )
    run.add_argument(
        "--json",
        action="store_true",
        help="print a JSON object with the status, the result and each task's result",
    )


__all__ = ["add_parser"]
