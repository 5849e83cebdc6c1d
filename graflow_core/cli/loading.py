"""Loading ``FILE[:OBJECT]``: import the file, pick its workflow, check the start task.

FILE is imported as a module named after the file (not as ``__main__``, so an
``if __name__ == "__main__":`` block does not run), with its directory on ``sys.path``.
The workflow is OBJECT (a ``WorkflowContext``, or a function without arguments that returns
one) or else the only ``WorkflowContext`` defined at the module's top level.  Every problem
is a :class:`CLIError` (exit code 2) that names the file and, where known, the line.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from graflow_core.cli.failures import _same_file, _user_location
from graflow_core.cli.output import CLIError, _display
from graflow_core.exceptions import describe_error

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext

# The help of the FILE[:OBJECT] argument of every command that loads a workflow.
_TARGET_HELP = (
    "the Python file defining the workflow, optionally with :NAME of a workflow object "
    "(or of a function without arguments returning one), e.g. flows/etl.py:wf"
)


def _split_target(spec: str) -> tuple[str, str | None]:
    """``"flow.py:wf"`` -> ``("flow.py", "wf")``; a path that exists is never split."""
    if os.path.exists(spec):
        return spec, None
    path, sep, obj = spec.rpartition(":")
    if sep and path and obj.isidentifier():
        return path, obj
    return spec, None


def _prepend_import_paths(directories: list[str]) -> None:
    """Put ``directories`` at the front of ``sys.path``, the first one first (those already
    on it stay where they are)."""
    for directory in reversed(directories):
        if directory not in sys.path:
            sys.path.insert(0, directory)


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
    _prepend_import_paths([str(resolved.parent)])
    loader = importlib.machinery.SourceFileLoader(name, str(resolved))
    spec = importlib.util.spec_from_file_location(name, str(resolved), loader=loader)
    if spec is None:  # pragma: no cover - only for paths importlib cannot describe
        raise CLIError(f"{path_str}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        sys.modules.pop(name, None)
        raise CLIError(_import_failure(exc, path_str, resolved), exc=exc) from exc
    return module, resolved


def _import_failure(exc: BaseException, path_str: str, resolved: Path) -> str:
    """The error line for ``exc``, raised while importing ``path_str`` (``resolved``)."""
    if isinstance(exc, SyntaxError):
        shown = path_str if exc.filename and _same_file(exc.filename, resolved) else None
        where = shown or (_display(exc.filename) if exc.filename else path_str)
        kind = type(exc).__name__.replace("Error", " error").lower()
        return f"{where}:{exc.lineno}: {kind}: {exc.msg}" + (
            "" if shown else f" (while importing {path_str})"
        )
    location = _user_location(exc, resolved, path_str) or path_str
    if isinstance(exc, SystemExit):
        return (
            f"{location}: the file called sys.exit({exc.code!r}) while being imported; "
            'put that code under `if __name__ == "__main__":`'
        )
    return (
        f"{location}: {describe_error(exc)} (while importing {path_str}; "
        "fix the file or run it with python to see the full error)"
    )


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
            f"{location}: {describe_error(exc)} (while calling {obj_name}(); it must take no "
            "arguments and return a workflow)",
            exc=exc,
        ) from exc
    if not isinstance(result, WorkflowContext):
        raise CLIError(
            f"{target}: {obj_name}() returned {type(result).__name__}, not a workflow "
            "(a WorkflowContext)"
        )
    return result


def _load_workflow(target: str) -> tuple[WorkflowContext, Path, str]:
    path_str, obj_name = _split_target(target)
    module, resolved = _load_module(path_str)
    return _pick_workflow(module, obj_name, path_str, resolved), resolved, path_str


def _known_ids(ids: list[str], limit: int = 20) -> str:
    shown = ", ".join(repr(i) for i in ids[:limit])
    return shown + (f", ... ({len(ids) - limit} more)" if len(ids) > limit else "")


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
