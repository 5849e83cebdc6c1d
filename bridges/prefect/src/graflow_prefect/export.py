"""``graflow export FILE --to prefect``: write a flow module that imports a workflow by reference.

The written module defines the bridged flow at module level under its function's name, so
Prefect finds it by entrypoint (``prefect deploy path/to/file.py:<name>``, work pools) and
``python file.py`` serves it (``flow.serve()``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError

if TYPE_CHECKING:
    from graflow_core.spec import WorkflowSpec

_TEMPLATE = '''"""Prefect flow for graflow workflow {name!r} (from `graflow export --to prefect`).

Run it once: python {filename}   (serves it: flow runs are triggered from the Prefect UI/API)
Deploy it:   prefect deploy {filename}:{attr}
"""

{path_setup}from graflow_prefect import to_prefect_flow

{attr} = to_prefect_flow({reference!r}, name={name!r}{extra})

if __name__ == "__main__":
    {attr}.serve(name={deployment!r})
'''


def export_prefect_flow_file(
    spec: WorkflowSpec,
    reference: str,
    out_dir: Any,
    *,
    name: str | None = None,
    deployment: str | None = None,
    filename: str | None = None,
    import_paths: list[str] | tuple[str, ...] = (),
    start_node: str | None = None,
    **flow_options: Any,
) -> list[Path]:
    """Write ``<out_dir>/<name>_prefect.py`` defining the flow; returns ``[path]``.

    ``reference`` (``"module:attr"``) names the workflow, its builder or its spec; the module
    must be importable where the flow runs (``import_paths`` are put on ``sys.path`` first).
    ``deployment`` is the name ``flow.serve()`` uses (default: the flow's name). ``start_node``
    and ``flow_options`` (plain values: ``--option KEY=VALUE``) are passed to
    :func:`~graflow_prefect.to_prefect_flow`.
    """
    from graflow_prefect.flow import _flow_function_name

    if ":" not in reference:
        raise ConfigError(
            f"export --to prefect needs the workflow as 'module:attr', got {reference!r}"
        )
    flow_name = name or spec.name
    attr = _flow_function_name(flow_name)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / (filename or f"{attr}_prefect.py")
    path_setup = ""
    if import_paths:
        path_setup = (
            "import sys\n\n"
            f"for _path in {list(import_paths)!r}:  # where the workflow's code is\n"
            "    if _path not in sys.path:\n"
            "        sys.path.insert(0, _path)\n\n"
        )
    extra = "".join(
        f", {key}={value!r}"
        for key, value in {"start_node": start_node, **flow_options}.items()
        if value is not None
    )
    path.write_text(
        _TEMPLATE.format(
            name=flow_name,
            filename=path.name,
            attr=attr,
            reference=reference,
            deployment=deployment or flow_name,
            path_setup=path_setup,
            extra=extra,
        ),
        encoding="utf-8",
    )
    return [path]
