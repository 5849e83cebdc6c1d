"""The ``graflow`` command: run or draw a workflow defined in a Python file.

::

    graflow run FILE[:OBJECT] [--start ID] [--param KEY=VALUE]... [--max-steps N] [--json]
    graflow visualize FILE[:OBJECT] [--format ascii|mermaid]
    graflow resume CHECKPOINT [--path DIR]... [--json]
    graflow dead-letters list [DIR] [--json]
    graflow dead-letters show ID [--dir DIR] [--json]
    graflow dead-letters replay ID [--dir DIR] [--path DIR]... [--json]
    graflow spec FILE[:OBJECT] [--start ID] [-o OUT.json]
    graflow preflight FILE[:OBJECT] --target NAME [--start ID] [--json]
    graflow plugins [--json]

FILE is imported as a module named after the file (not as ``__main__``, so an
``if __name__ == "__main__":`` block does not run), with its directory on ``sys.path``.
The workflow is OBJECT (a ``WorkflowContext``, or a function without arguments that returns
one) or else the only ``WorkflowContext`` defined at the module's top level.

Every error is one line on stderr starting with ``graflow: error:``; ``--traceback`` adds
the Python traceback.  Exit codes: 0 success, 1 the workflow ran and failed, 2 usage error
or bad input, 130 interrupted.  See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import os
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

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

_PACKAGE_DIR = Path(__file__).resolve().parent


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


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b
    except OSError:
        return False


# --------------------------------------------------------------------------------------------
# Loading the file and finding the workflow
# --------------------------------------------------------------------------------------------


def _split_target(spec: str) -> tuple[str, str | None]:
    """``"flow.py:wf"`` -> ``("flow.py", "wf")``; a path that exists is never split."""
    if os.path.exists(spec):
        return spec, None
    path, sep, obj = spec.rpartition(":")
    if sep and path and obj.isidentifier():
        return path, obj
    return spec, None


def _frame_location(tb: TracebackType | None, file: Path, shown: str) -> str | None:
    """``shown:LINE`` of the innermost traceback frame that is in ``file``."""
    location = None
    for frame in traceback.extract_tb(tb):
        if _same_file(frame.filename, file):
            location = f"{shown}:{frame.lineno}"
    return location


def _user_location(exc: BaseException, file: Path, shown: str) -> str | None:
    """Where ``exc`` was raised: in ``file`` if possible, else the innermost user frame."""
    location = _frame_location(exc.__traceback__, file, shown)
    if location is not None:
        return location
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if frame.filename.startswith("<") or _PACKAGE_DIR in path.resolve().parents:
            continue
        return f"{_display(path)}:{frame.lineno}"
    return None


def _load_module(path_str: str) -> tuple[ModuleType, Path]:
    """Import ``path_str`` as a module named after the file (not ``__main__``)."""
    path = Path(path_str)
    if not path.exists():
        raise CLIError(f"{path_str}: file not found")
    if path.is_dir():
        raise CLIError(
            f"{path_str}: is a directory; give the Python file that defines the workflow"
        )
    resolved = path.resolve()
    name = resolved.stem
    existing = sys.modules.get(name)
    if existing is not None:
        where = getattr(existing, "__file__", None) or "a built-in module"
        raise CLIError(
            f"{path_str}: its module name '{name}' is already taken by {where}; "
            "rename the file (e.g. to my_workflow.py)"
        )
    directory = str(resolved.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    loader = importlib.machinery.SourceFileLoader(name, str(resolved))
    spec = importlib.util.spec_from_file_location(name, str(resolved), loader=loader)
    if spec is None:  # pragma: no cover - only for paths importlib cannot describe
        raise CLIError(f"{path_str}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        shown = path_str if exc.filename and _same_file(exc.filename, resolved) else None
        where = shown or (_display(exc.filename) if exc.filename else path_str)
        kind = type(exc).__name__.replace("Error", " error").lower()
        raise CLIError(
            f"{where}:{exc.lineno}: {kind}: {exc.msg}"
            + ("" if shown else f" (while importing {path_str})"),
            exc=exc,
        ) from exc
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        sys.modules.pop(name, None)
        location = _user_location(exc, resolved, path_str) or path_str
        raise CLIError(
            f"{location}: the file called sys.exit({exc.code!r}) while being imported; "
            'put that code under `if __name__ == "__main__":`',
            exc=exc,
        ) from exc
    except BaseException as exc:
        sys.modules.pop(name, None)
        location = _user_location(exc, resolved, path_str) or path_str
        raise CLIError(
            f"{location}: {_describe(exc)} (while importing {path_str}; "
            "fix the file or run it with python to see the full error)",
            exc=exc,
        ) from exc
    return module, resolved


def _workflows_in(module: ModuleType) -> dict[str, WorkflowContext]:
    """Top-level WorkflowContexts of ``module`` by (first) name, each object once."""
    from graflow_core.core.workflow import WorkflowContext

    found: dict[str, WorkflowContext] = {}
    seen: set[int] = set()
    for name, value in vars(module).items():
        if isinstance(value, WorkflowContext) and id(value) not in seen:
            seen.add(id(value))
            found[name] = value
    return found


def _pick_workflow(
    module: ModuleType, obj_name: str | None, shown: str, file: Path
) -> WorkflowContext:
    from graflow_core.core.workflow import WorkflowContext

    found = _workflows_in(module)
    if obj_name is None:
        if not found:
            raise CLIError(
                f"{shown}: no workflow found; define one at the top level with "
                '`with workflow("name") as wf:`, or pass FILE:FUNCTION naming a function '
                "that returns one"
            )
        if len(found) > 1:
            names = ", ".join(found)
            first = next(iter(found))
            raise CLIError(
                f"{shown}: several workflows found ({names}); choose one with "
                f"{shown}:NAME, e.g. {shown}:{first}"
            )
        return next(iter(found.values()))
    target = f"{shown}:{obj_name}"
    if not hasattr(module, obj_name):
        hint = f"; workflows defined there: {', '.join(found)}" if found else ""
        raise CLIError(f"{target}: '{obj_name}' is not defined in {shown}{hint}")
    value = getattr(module, obj_name)
    if isinstance(value, WorkflowContext):
        return value
    if not callable(value):
        raise CLIError(
            f"{target}: is a {type(value).__name__}, not a workflow; name a WorkflowContext "
            '(`with workflow("name") as wf:`) or a function that returns one'
        )
    try:
        result = value()
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        location = _user_location(exc, file, shown) or target
        raise CLIError(
            f"{location}: {_describe(exc)} (while calling {obj_name}(); it must take no "
            "arguments and return a workflow)",
            exc=exc,
        ) from exc
    if not isinstance(result, WorkflowContext):
        raise CLIError(
            f"{target}: {obj_name}() returned {type(result).__name__}, not a workflow "
            "(a WorkflowContext)"
        )
    return result


# --------------------------------------------------------------------------------------------
# Errors while running
# --------------------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    text = _one_line(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _cause(exc: BaseException) -> BaseException | None:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return cause
    return exc.__cause__


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and its causes, outermost first."""
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in out):
        out.append(current)
        current = _cause(current)
    return out


def _task_functions(wf: WorkflowContext) -> dict[Any, list[str]]:
    """Code objects of the workflow's task functions -> ids of the tasks that run them."""
    codes: dict[Any, list[str]] = {}
    graph = wf.graph
    pending: list[Any] = []
    for node in graph.nodes:
        try:
            pending.append(graph.get_node(node))
        except KeyError:
            continue
    seen: set[int] = set()
    while pending:
        task = pending.pop()
        if id(task) in seen:
            continue
        seen.add(id(task))
        func = getattr(task, "_original_func", None) or getattr(task, "func", None)
        code = getattr(func, "__code__", None)
        if code is not None:
            codes.setdefault(code, []).append(str(task.task_id))
        members = getattr(task, "tasks", None)
        if isinstance(members, list) and hasattr(task, "with_execution"):
            pending.extend(members)
    return codes


def _all_task_ids(wf: WorkflowContext) -> list[str]:
    """Every node id of the workflow, then the ids of group members that are not nodes."""
    ids = [str(n) for n in wf.graph.nodes]
    for codes_ids in _task_functions(wf).values():
        ids.extend(i for i in codes_ids if i not in ids)
    return ids


def _clean_member_error(message: str | None) -> str:
    """``"An error occurred: X (caused by X)"`` (Graflow's wrapper text) -> ``"X"``."""
    text = _one_line(message or "?")
    match = re.fullmatch(r"An error occurred: (.*) \(caused by \1\)", text)
    return match.group(1) if match else text


def _failure_message(exc: BaseException, wf: WorkflowContext, file: Path, shown: str) -> str:
    from graflow_core.exceptions import (
        GraflowRuntimeError,
        ParallelGroupError,
        RetryLimitExceededError,
        TaskError,
    )

    chain = _chain(exc)
    task_id: str | None = None
    for e in chain:
        candidate = getattr(e, "task_id", None)
        if isinstance(candidate, str):
            task_id = candidate
            break
    group = next((e for e in chain if isinstance(e, ParallelGroupError)), None)

    # The most informative error: unwrap Graflow's generic wrappers.
    root = exc
    prefix = ""
    for e in chain:
        root = e
        if isinstance(e, RetryLimitExceededError):
            prefix = f"gave up after {e.retry_count} retries; "
            if _cause(e) is None:
                break
            continue
        is_wrapper = type(e) is GraflowRuntimeError or type(e) is TaskError
        if not (is_wrapper and _cause(e) is not None):
            break

    # Where: the innermost frame in the workflow file (or user code) that raised it.
    location = None
    for e in reversed(chain):
        location = _user_location(e, file, shown)
        if location:
            break
    if task_id is None and group is None:
        codes = _task_functions(wf)
        for e in reversed(chain):
            for frame_summary, _ in reversed(list(traceback.walk_tb(e.__traceback__))):
                ids = codes.get(frame_summary.f_code)
                if ids:
                    task_id = ids[0] if len(ids) == 1 else " or ".join(repr(i) for i in ids)
                    break
            if task_id is not None:
                break

    where = f"workflow '{wf.name}' failed"
    if group is not None and task_id is None:
        failed = ", ".join(
            f"{tid}: {_clean_member_error(msg)}" for tid, msg in list(group.failed_tasks)[:5]
        )
        where += f" in parallel group '{group.group_id}'"
        detail = f"{len(group.failed_tasks)} member(s) failed ({failed})"
        return f"{where}{f' ({location})' if location else ''}: {detail}"
    if task_id is not None:
        where += f" in task {task_id if task_id.startswith(chr(39)) else repr(task_id)}"
    if location:
        where += f" ({location})"
    hint = ""
    if any(type(e).__name__ == "MaxStepsExceededError" for e in chain):
        hint = " (graflow run: raise the limit with --max-steps N)"
    return f"{where}: {prefix}{_describe(root)}{hint}"


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


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


def _known_ids(ids: list[str], limit: int = 20) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f", ... ({len(ids) - limit} more)" if len(ids) > limit else "")


def _load_workflow(target: str) -> tuple[WorkflowContext, Path, str]:
    path_str, obj_name = _split_target(target)
    module, resolved = _load_module(path_str)
    return _pick_workflow(module, obj_name, path_str, resolved), resolved, path_str


def _check_start(wf: WorkflowContext, start: str | None, shown: str) -> str:
    graph = wf.graph
    ids = [str(n) for n in graph.nodes]
    if start is not None:
        if not graph.has_node(start):
            raise CLIError(
                f"unknown start task '{start}' in workflow '{wf.name}' ({shown}); "
                f"known tasks: {_known_ids(ids) or 'none'}"
            )
        return start
    if not ids:
        raise CLIError(
            f"workflow '{wf.name}' ({shown}) has no tasks; define them inside `with workflow(...)`"
        )
    candidates = [str(n) for n in graph.get_start_nodes()]
    if not candidates:
        raise CLIError(
            f"workflow '{wf.name}' ({shown}) has no task without predecessors (it is a "
            f"loop); choose where to start with --start ID (tasks: {_known_ids(ids)})"
        )
    if len(candidates) > 1:
        raise CLIError(
            f"workflow '{wf.name}' ({shown}) has {len(candidates)} tasks without "
            f"predecessors ({_known_ids(candidates)}); choose one with --start ID"
        )
    return candidates[0]


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


def _cmd_run(args: argparse.Namespace) -> int:
    params = _parse_params(args.param)
    if args.max_steps < 1:
        raise CLIError(f"bad --max-steps {args.max_steps}: must be at least 1")
    wf, resolved, shown = _load_workflow(args.target)
    start = _check_start(wf, args.start, shown)

    from graflow_core.exceptions import GraflowError

    try:
        exec_context = wf.create_execution_context(start, args.max_steps, params or None)
    except GraflowError as exc:
        raise CLIError(f"workflow '{wf.name}' ({shown}): {_describe(exc)}", exc=exc) from exc
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
    if args.json:
        completed = [str(t) for t in getattr(exec_context, "completed_tasks", [])]
        # Members of parallel groups run in branches; their results are in the channel too.
        missing = object()
        results = {}
        for task_id in [*completed, *_all_task_ids(wf)]:
            value = exec_context.get_result(task_id, missing)
            if value is not missing and task_id not in results:
                results[task_id] = value
        _print_json(
            {
                "workflow": wf.name,
                "status": "succeeded",
                "start_node": start,
                "result": result,
                "steps": getattr(exec_context, "steps", None),
                "completed_tasks": completed,
                "results": results,
            }
        )
    else:
        print(repr(result))
    return EXIT_OK


def _resume_context(checkpoint: str, paths: list[str]) -> Any:
    """Verify and load a checkpoint for ``graflow resume``, turning every failure into a
    one-line CLIError (exit code 2)."""
    import pickle

    from graflow_core.checkpoint_stores.base import has_scheme
    from graflow_core.core.checkpoint import CheckpointManager, CheckpointVerificationError
    from graflow_core.exceptions import GraflowError

    for directory in reversed([os.getcwd(), *paths]):
        if directory not in sys.path:
            sys.path.insert(0, directory)
    base = checkpoint[:-4] if checkpoint.endswith(".pkl") else checkpoint
    url = has_scheme(base)
    missing = (
        []
        if url
        else [s for s in (".pkl", ".state.json", ".meta.json") if not Path(base + s).is_file()]
    )
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
            f"{shown}: not a readable graflow checkpoint ({_describe(exc)})", exc=exc
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
            f"resumed run of {_display(args.checkpoint)} failed: {_describe(exc)}",
            code=EXIT_FAILED,
            exc=exc,
        ) from exc
    if args.json:
        _print_json(
            {
                "status": "succeeded",
                "result": result,
                "steps": ctx.steps,
                "resumed_tasks": list(ctx.completed_tasks[already:]),
                "completed_tasks": list(ctx.completed_tasks),
            }
        )
    else:
        print(repr(result))
    return EXIT_OK


def _stdout_takes(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _cmd_visualize(args: argparse.Namespace) -> int:
    from graflow_core.utils.graph import draw_ascii, draw_mermaid

    wf, _, _ = _load_workflow(args.target)
    if args.format == "mermaid":
        sys.stdout.write(draw_mermaid(wf.graph, title=wf.name))
    else:
        print(draw_ascii(wf.graph, unicode=_stdout_takes("│┌▼═║╔↺")))
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# graflow dead-letters list|show|replay
# --------------------------------------------------------------------------------------------


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

    for directory in reversed([os.getcwd(), *args.path]):
        if directory not in sys.path:
            sys.path.insert(0, directory)
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
            f"cannot replay dead letter {entry.id} (task '{entry.task_id}'): {_describe(exc)}",
            exc=exc,
        ) from exc
    if args.json:
        _print_json(
            {"id": entry.id, "task_id": entry.task_id, "status": "replayed", "result": result}
        )
    else:
        print(repr(result))
    return EXIT_OK


def _add_dead_letters_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    dl = sub.add_parser(
        "dead-letters",
        help="inspect and replay tasks that failed for good",
        description="Inspect and replay the failed tasks recorded by a DeadLetterStore "
        "(workflow(..., dead_letter_store=DeadLetterStore(DIR))). DIR defaults to "
        "./dead_letters.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dl_sub = dl.add_subparsers(dest="dead_letters_command", metavar="ACTION", required=True)
    dir_help = "the dead-letter directory (default: ./dead_letters)"
    id_help = "the entry's id, or a unique prefix of it (see 'graflow dead-letters list')"

    ls = dl_sub.add_parser(
        "list",
        parents=[common],
        help="list the recorded failures, oldest first",
        description="List the recorded failures, oldest first.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ls.add_argument("dir", metavar="DIR", nargs="?", default=None, help=dir_help)
    ls.add_argument("--json", action="store_true", help="print the entries as a JSON list")
    ls.set_defaults(func=_cmd_dead_letters_list)

    show = dl_sub.add_parser(
        "show",
        parents=[common],
        help="show one failure: error, traceback, inputs, replays",
        description="Show one recorded failure: error, traceback, inputs and replays.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("id", metavar="ID", help=id_help)
    show.add_argument("--dir", metavar="DIR", default=None, help=dir_help)
    show.add_argument("--json", action="store_true", help="print the entry as JSON")
    show.set_defaults(func=_cmd_dead_letters_show)

    replay = dl_sub.add_parser(
        "replay",
        parents=[common],
        help="run a failed task again with its recorded inputs",
        description="Run a failed task again with its recorded inputs and print its result; "
        "on success the entry is marked replayed. The task's module must be importable "
        "(run from the project directory or pass --path). Needs GRAFLOW_SECRET_KEY, the "
        "key the inputs were signed with.",
        epilog=_EXIT_CODES_HELP.replace("the workflow ran and failed", "the task ran and failed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    replay.set_defaults(func=_cmd_dead_letters_replay)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


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
    target_help = (
        "the Python file defining the workflow, optionally with :NAME of a workflow object "
        "(or of a function without arguments returning one), e.g. flows/etl.py:wf"
    )

    run = sub.add_parser(
        "run",
        parents=[common],
        help="run a workflow and print its result",
        description="Run a workflow and print its result (the last task's return value).",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("target", metavar="FILE[:OBJECT]", help=target_help)
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
    run.set_defaults(func=_cmd_run)

    vis = sub.add_parser(
        "visualize",
        parents=[common],
        help="draw a workflow's graph",
        description="Draw a workflow's task graph as text or as a Mermaid flowchart.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    vis.add_argument("target", metavar="FILE[:OBJECT]", help=target_help)
    vis.add_argument(
        "--format",
        choices=["ascii", "mermaid"],
        default="ascii",
        help="ascii: boxes and arrows (default); mermaid: a Mermaid flowchart",
    )
    vis.set_defaults(func=_cmd_visualize)

    res = sub.add_parser(
        "resume",
        parents=[common],
        help="continue a run from a checkpoint and print its result",
        description="Continue a workflow run from a checkpoint written by ctx.checkpoint() or "
        "CheckpointManager, and print its result.",
        epilog=_EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    res.set_defaults(func=_cmd_resume)
    _add_dead_letters_parser(sub, common)
    from graflow_core.cli_inspect import add_parsers

    add_parsers(sub, common, target_help, _EXIT_CODES_HELP)
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
