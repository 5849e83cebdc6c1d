"""DAG files: ``graflow export FILE --to airflow -o dags/`` and what the written file calls.

:func:`export_dag_file` (the ``airflow`` bridge's ``export``) writes one small Python file per
workflow into Airflow's DAGs folder. The file does not contain the workflow: it imports it **by
reference** (``"module:attr"``) every time Airflow parses it — in the DAG processor and again in
each worker that runs one of its tasks — and renders it with :func:`load_dag`, so changing the
workflow's code changes the DAG without re-exporting. For that, the workflow's module must be
importable in those processes: the file puts the directories given as ``import_paths`` (by
default the workflow file's directory) on ``sys.path`` first, written relative to the DAG file
when they are below a common parent so that moving both together keeps working.

Airflow's safe-mode discovery only parses files containing the words ``airflow`` and ``dag``;
the generated file does.
"""

from __future__ import annotations

import importlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import WorkflowSpec

_DAG_ID_BAD = re.compile(r"[^A-Za-z0-9_.-]+")


class DagFileError(ConfigError):
    """A DAG file cannot be written or its workflow reference cannot be loaded."""


def default_dag_id(name: str) -> str:
    """A valid Airflow dag_id for a workflow called ``name`` (other characters become ``_``)."""
    dag_id = _DAG_ID_BAD.sub("_", name).strip("_") or "graflow_workflow"
    return dag_id[:250]


def _import_path_line(directory: str, dag_dir: Path) -> str:
    """The Python expression for ``directory`` in a DAG file written to ``dag_dir``."""
    absolute = os.path.abspath(directory)
    try:
        rel = os.path.relpath(absolute, dag_dir.resolve())
    except ValueError:  # another drive on Windows
        return repr(absolute)
    if rel.startswith(os.pardir * 4):  # far away: the absolute path is clearer
        return repr(absolute)
    return f"_os.path.normpath(_os.path.join(_HERE, {rel!r}))"


def _check_json(options: Mapping[str, Any]) -> None:
    for key, value in options.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise DagFileError(
                f"DAG file option {key}={value!r} is not a JSON value ({exc}); the DAG file "
                "can only carry JSON values (strings, numbers, booleans, lists, objects)"
            ) from exc


def dag_file_source(
    reference: str,
    *,
    dag_id: str,
    import_paths: Sequence[str] = (),
    dag_dir: Path | None = None,
    options: Mapping[str, Any] | None = None,
    workflow_name: str | None = None,
) -> str:
    """The text of a DAG file rendering ``reference`` (``"module:attr"``) as ``dag_id``.

    ``options`` (JSON values) are passed to :func:`load_dag` and from there to
    :func:`~graflow_airflow.render.to_airflow_dag`.
    """
    options = dict(options or {})
    _check_json(options)
    here = dag_dir if dag_dir is not None else Path.cwd()
    paths = ",\n    ".join(_import_path_line(p, here) for p in import_paths)
    call_args = [repr(reference), f"dag_id={dag_id!r}"]
    call_args += [f"{k}={v!r}" for k, v in sorted(options.items())]
    about = f"workflow '{workflow_name}'" if workflow_name else f"workflow {reference}"
    return f'''"""Airflow DAG '{dag_id}': graflow {about}, one Airflow task per graflow task.

Written by `graflow export ... --to airflow`. The workflow is imported by reference ({reference})
each time Airflow parses this file, so edits to the workflow's code need no re-export. Its module
must be importable by the DAG processor and the workers: the directories below go first on
sys.path. See docs/airflow.md ("DAG files").
"""

import os as _os
import sys as _sys

_HERE = _os.path.dirname(_os.path.abspath(__file__))
for _path in reversed([
    {paths}
]):
    if _path not in _sys.path:
        _sys.path.insert(0, _path)

from graflow_airflow.dagfile import load_dag  # noqa: E402

dag = load_dag({", ".join(call_args)})
'''


def load_workflow_reference(reference: str) -> WorkflowContext:
    """Import ``"module:attr"``: a ``WorkflowContext`` or a function without arguments returning
    one. Raises :class:`DagFileError` saying what is wrong."""
    from graflow_core.core.workflow import WorkflowContext

    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise DagFileError(f"workflow reference {reference!r} must look like 'module:attr'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DagFileError(
            f"cannot import module '{module_name}' of workflow {reference} ({exc}); put its "
            "directory on sys.path of the DAG processor and the workers (graflow export "
            "--import-path DIR, or PYTHONPATH / an installed package)"
        ) from exc
    try:
        value = getattr(module, attr)
    except AttributeError as exc:
        raise DagFileError(
            f"module '{module_name}' ({getattr(module, '__file__', '?')}) has no attribute "
            f"'{attr}' (workflow {reference}); re-export the DAG file"
        ) from exc
    if not isinstance(value, WorkflowContext) and callable(value):
        value = value()
    if not isinstance(value, WorkflowContext):
        raise DagFileError(
            f"{reference} is a {type(value).__name__}, not a workflow (a WorkflowContext or a "
            "function returning one)"
        )
    return value


def load_dag(reference: str, *, dag_id: str, **options: Any) -> DAG:
    """Import the workflow ``reference`` and render it as the DAG ``dag_id`` (what a generated
    DAG file calls). ``options`` go to :func:`~graflow_airflow.render.to_airflow_dag`."""
    from graflow_airflow.render import to_airflow_dag

    wf = load_workflow_reference(reference)
    return to_airflow_dag(wf, dag_id=dag_id, reference=reference, **options)


def export_dag_file(
    spec: WorkflowSpec,
    reference: str,
    out_dir: str | os.PathLike[str],
    *,
    import_paths: Iterable[str] = (),
    name: str | None = None,
    dag_id: str | None = None,
    overwrite: bool = True,
    **options: Any,
) -> list[Path]:
    """Write the DAG file of ``spec`` (importing ``reference``) into ``out_dir``; its path in a
    list. The ``airflow`` bridge's ``export`` (``graflow export --to airflow``).

    ``name``/``dag_id`` (default: the workflow's name made a valid dag_id) names the DAG and the
    file (``<dag_id>.py``); every other option (``schedule``, ``task_groups``, ``tags``,
    ``start_node``, ...; JSON values) is written into the file and passed to
    :func:`~graflow_airflow.render.to_airflow_dag` at parse time.
    """
    the_id = dag_id or name or default_dag_id(spec.name)
    if _DAG_ID_BAD.search(the_id):
        raise DagFileError(f"dag_id {the_id!r} may only contain letters, digits, '_', '.' and '-'")
    if spec.start_node is not None:
        options.setdefault("start_node", spec.start_node)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{the_id.replace('.', '_')}.py"
    if target.exists() and not overwrite:
        raise DagFileError(f"{target} exists; pass overwrite=True to replace it")
    source = dag_file_source(
        reference,
        dag_id=the_id,
        import_paths=list(import_paths),
        dag_dir=out,
        options=options,
        workflow_name=spec.name,
    )
    tmp = target.with_suffix(".py.tmp")
    tmp.write_text(source, encoding="utf-8")
    os.replace(tmp, target)
    return [target]


__all__ = [
    "DagFileError",
    "dag_file_source",
    "default_dag_id",
    "export_dag_file",
    "load_dag",
    "load_workflow_reference",
]
