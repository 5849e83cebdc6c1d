"""Where an exception came from, and the one line that says why a run failed.

:func:`_user_location` finds the ``FILE:LINE`` in the user's code that raised an exception
(frames inside graflow_core are skipped); :func:`_failure_message` turns the exception of a
failed run into ``workflow 'NAME' failed in task 'ID' (FILE:LINE): Error: message``,
unwrapping Graflow's wrapper exceptions and naming the parallel group or the task.
"""

from __future__ import annotations

import contextlib
import re
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from graflow_core.cli.output import _display, _one_line
from graflow_core.exceptions import describe_error

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext

# The graflow_core package (this file is graflow_core/cli/failures.py): frames in it are not
# the user's code.
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _same_file(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b
    except OSError:
        return False


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
    library = _library_dirs()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if frame.filename.startswith("<") or not library.isdisjoint(path.resolve().parents):
            continue
        return f"{_display(path)}:{frame.lineno}"
    return None


#: This project's bridge and plugin packages (a user's own ``graflow_etl`` module is user code).
_OUR_PACKAGES = (
    "graflow_airflow",
    "graflow_prefect",
    "graflow_dagster",
    "graflow_mlflow",
    "graflow_wandb",
    "graflow_langchain",
    "graflow_metrics",
    "graflow_migrate",
)


def _library_dirs() -> set[Path]:
    """Directories whose frames are not the user's: graflow_core, this project's bridges and
    plugins (wherever installed), site-packages and the standard library."""
    import sysconfig

    dirs = {_PACKAGE_DIR}
    for name in _OUR_PACKAGES:
        location = getattr(sys.modules.get(name), "__file__", None)
        if location:
            dirs.add(Path(location).resolve().parent)
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        with contextlib.suppress(KeyError, OSError):
            dirs.add(Path(sysconfig.get_paths()[key]).resolve())
    return dirs


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
    return f"{where}: {prefix}{describe_error(root)}{hint}"
