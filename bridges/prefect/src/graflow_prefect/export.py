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

from graflow_prefect import to_prefect_flow

{attr} = to_prefect_flow({reference!r}, name={name!r})

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
) -> list[Path]:
    """Write ``<out_dir>/<name>_prefect.py`` defining the flow; returns ``[path]``.

    ``reference`` (``"module:attr"``) names the workflow, its builder or its spec; the module
    must be importable where the flow runs. ``deployment`` is the name ``flow.serve()`` uses
    (default: the flow's name).
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
    path.write_text(
        _TEMPLATE.format(
            name=flow_name,
            filename=path.name,
            attr=attr,
            reference=reference,
            deployment=deployment or flow_name,
        ),
        encoding="utf-8",
    )
    return [path]
