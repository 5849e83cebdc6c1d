"""``graflow export FILE --to dagster``: write a definitions module Dagster's CLI loads.

:func:`export_definitions` writes one small Python file that imports the workflow *by reference*
(``"module:attr"``: a workflow object or a function returning one) and builds the code location's
:class:`dagster.Definitions` with :func:`load_definitions` when Dagster loads it::

    graflow export flows/etl.py --to dagster -o dagster_defs/
    dagster definitions validate -f dagster_defs/etl_dagster.py
    dagster job execute -f dagster_defs/etl_dagster.py -j etl

Regenerate the file instead of editing it: the workflow's code is the source of truth, and the
job always matches the code that is deployed next to it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError

if TYPE_CHECKING:
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import WorkflowSpec

#: Options of :func:`export_definitions` that the generated module passes on to
#: :func:`load_definitions` (the rest of ``graflow export``'s options are refused).
RENDER_OPTIONS = (
    "name",
    "params",
    "tags",
    "description",
    "executor",
    "op_tags",
    "store",
    "inline_max",
)

_TEMPLATE = '''\
"""Dagster definitions of the graflow workflow {workflow!r}.

Written by `graflow export --to dagster` (graflow-dagster {version}); regenerate it instead of
editing it. Dagster loads it with:

    dagster definitions validate -f {filename}
    dagster job execute -f {filename} -j {job}

The workflow is imported by reference when Dagster loads this module:
    {reference}
so every op runs the code deployed next to it.
"""

import sys

for _path in {import_paths!r}:
    if _path not in sys.path:
        sys.path.insert(0, _path)

from graflow_dagster.export import load_definitions  # noqa: E402

defs = load_definitions(
    {reference!r},
    start_node={start_node!r},
    options={options},
)
'''


def _module_name(name: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "workflow"
    if base[0].isdigit():
        base = f"wf_{base}"
    return f"{base}_dagster"


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("graflow-dagster")
    except Exception:  # pragma: no cover - not installed as a distribution
        return "unknown"


def export_definitions(
    spec: WorkflowSpec,
    reference: str,
    out_dir: str | Path,
    *,
    import_paths: Sequence[str] = (),
    start_node: str | None = None,
    filename: str | None = None,
    **options: Any,
) -> list[Path]:
    """Write ``<out_dir>/<workflow>_dagster.py``, a module defining ``defs`` for Dagster.

    Args:
        spec: the workflow's spec (checked now: a workflow Dagster cannot run is refused here,
            not when Dagster loads the file).
        reference: ``"module:attr"`` of the workflow or of a function returning it.
        out_dir: the directory to write into (created if missing).
        import_paths: directories put on ``sys.path`` before importing ``reference``.
        start_node: the start task (default: the spec's).
        filename: the file's name (default ``<workflow name>_dagster.py``).
        **options: :func:`graflow_dagster.to_dagster_job` options that are plain JSON values —
            ``name`` (the job name), ``params`` (default run parameters), ``tags``,
            ``description``, ``executor`` (``"in_process"`` or ``"multiprocess"``),
            ``op_tags``, ``store`` (where large values go; shared by every op process) and
            ``inline_max`` (bytes).

    Returns:
        The written file's path, in a list.

    Raises:
        ConfigError: an unknown option or a value that is not JSON.
        PreflightError: the workflow uses something the dagster target cannot express.
    """
    unknown = sorted(set(options) - set(RENDER_OPTIONS))
    if unknown:
        raise ConfigError(
            f"graflow export --to dagster: unknown option(s) {', '.join(unknown)}; known: "
            f"{', '.join(RENDER_OPTIONS)}, import_paths, start_node, filename"
        )
    if ":" not in reference:
        raise ConfigError(
            f"reference {reference!r} must be 'module:attr' naming the workflow or a function "
            "returning it"
        )
    try:
        options_text = json.dumps(options, sort_keys=True)
    except TypeError as exc:
        raise ConfigError(
            f"graflow export --to dagster: options must be JSON values ({exc})"
        ) from exc
    from graflow_dagster.render import to_dagster_job

    job = to_dagster_job(spec, start_node=start_node, **options)  # checks it renders
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (filename or f"{_module_name(spec.name)}.py")
    text = _TEMPLATE.format(
        workflow=spec.name,
        version=_version(),
        filename=path.name,
        job=job.name,
        reference=reference,
        import_paths=[str(Path(p).resolve()) for p in import_paths],
        start_node=start_node if start_node is not None else spec.start_node,
        options=f"json.loads({options_text!r})" if options else "{}",
    )
    if options:
        text = text.replace("import sys\n", "import json\nimport sys\n", 1)
    path.write_text(text, encoding="utf-8")
    return [path]


def _resolve(reference: str) -> WorkflowContext | WorkflowSpec:
    from graflow_core.core.task import Executable
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.spec import WorkflowSpec
    from graflow_core.spec.references import import_ref

    found = import_ref(reference)
    if isinstance(found, (WorkflowContext, WorkflowSpec)):
        return found
    if isinstance(found, Executable):
        raise ConfigError(
            f"{reference} is the graflow task '{found.task_id}', not a workflow; reference the "
            "workflow or a function returning it"
        )
    if callable(found):
        built = found()
        if isinstance(built, (WorkflowContext, WorkflowSpec)):
            return built
        raise ConfigError(
            f"{reference} returned {type(built).__name__}, not a graflow workflow "
            "(WorkflowContext) or WorkflowSpec"
        )
    raise ConfigError(
        f"{reference} is a {type(found).__name__}; it must name a graflow workflow or a function "
        "returning one"
    )


def load_definitions(
    *references: str,
    start_node: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """The :class:`dagster.Definitions` of the workflows at ``references`` (for generated files).

    Each reference names a workflow (``WorkflowContext``), a ``WorkflowSpec`` or a function
    returning one; ``options`` go to :func:`graflow_dagster.to_dagster_job`.
    """
    from graflow_dagster.render import to_dagster_definitions, to_dagster_job

    return to_dagster_definitions(
        *(to_dagster_job(ref, start_node=start_node, **dict(options or {})) for ref in references)
    )


__all__ = ["export_definitions", "load_definitions"]
