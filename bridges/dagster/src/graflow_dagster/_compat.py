"""Everything that differs between the Dagster versions graflow-dagster supports (1.13+).

The rest of the bridge calls these helpers instead of reaching into Dagster's internals, so a
new Dagster release means checking this one module. Importing it imports Dagster.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster
from dagster import OpDefinition

#: The Dagster version in use, as a tuple of ints (``(1, 13, 29)``).
DAGSTER_VERSION: tuple[int, ...] = tuple(
    int(p) for p in dagster.__version__.split("+")[0].split(".")[:3] if p.isdigit()
)

#: The oldest Dagster version this bridge is tested against.
MIN_DAGSTER = (1, 13)


def check_version() -> None:
    """Raise a ``GraflowError`` naming the installed version when it is too old."""
    if DAGSTER_VERSION and DAGSTER_VERSION < MIN_DAGSTER:
        from graflow_core.exceptions import ConfigError

        raise ConfigError(
            f"graflow-dagster needs Dagster >= {'.'.join(map(str, MIN_DAGSTER))}, found "
            f"{dagster.__version__}: pip install -U 'dagster>=1.13'"
        )


def make_op(
    name: str,
    compute_fn: Callable[..., Any],
    *,
    ins: Mapping[str, dagster.In],
    outs: Mapping[str, dagster.Out],
    description: str | None,
    tags: Mapping[str, str],
    retry_policy: dagster.RetryPolicy | None,
    required_resource_keys: set[str],
) -> OpDefinition:
    """An op whose ``compute_fn(context, inputs: dict)`` yields its outputs."""
    return OpDefinition(
        compute_fn=compute_fn,
        name=name,
        ins=dict(ins),
        outs=dict(outs),
        description=description,
        tags=dict(tags),
        retry_policy=retry_policy,
        required_resource_keys=set(required_resource_keys),
    )


def retry_number(context: Any) -> int:
    """The attempt number of the running op, ``0`` for the first attempt."""
    return int(getattr(context, "retry_number", 0) or 0)


def op_tags(op_def: Any) -> Mapping[str, Any]:
    """An op definition's tags (a plain mapping)."""
    return dict(getattr(op_def, "tags", None) or {})


def job_metadata(job: Any) -> Mapping[str, Any]:
    """A job's definition metadata with raw values (``MetadataValue``s unwrapped)."""
    raw = getattr(job, "metadata", None) or {}
    return {k: getattr(v, "value", v) for k, v in raw.items()}


def has_context_arg(op_def: Any) -> bool:
    """Whether the op's compute function takes a context as its first argument."""
    fn = getattr(op_def, "compute_fn", None)
    check = getattr(fn, "has_context_arg", None)
    return bool(check()) if callable(check) else False


def decorated_fn(op_def: Any) -> Callable[..., Any] | None:
    """The user's function behind a decorated op (``None`` for a raw compute function)."""
    fn = getattr(op_def, "compute_fn", None)
    return getattr(fn, "decorated_fn", None)


def upstream_of(job: Any, node_name: str) -> list[tuple[str, bool, list[tuple[str, str]]]]:
    """``[(input_name, is_fan_in, [(upstream_node, output_name), ...]), ...]`` for one node.

    Inputs without an upstream are left out. Dynamic (``.map``/``.collect``) dependencies are
    reported as ``GraflowError`` by the caller through :func:`is_dynamic`.
    """
    from dagster._core.definitions.dependency import NodeOutput

    structure = job.graph.dependency_structure
    found: list[tuple[str, bool, list[tuple[str, str]]]] = []
    for node_input, outputs in structure.input_to_upstream_outputs_for_node(node_name).items():
        fan_in = structure.has_fan_in_deps(node_input)
        sources = [(o.node_name, o.output_name) for o in outputs if isinstance(o, NodeOutput)]
        found.append((node_input.input_name, fan_in, sources))
    return found


def is_dynamic(job: Any, node_name: str) -> bool:
    """Whether a node is mapped over a dynamic output or has a dynamic output."""
    structure = job.graph.dependency_structure
    if structure.is_dynamic_mapped(node_name) or structure.has_dynamic_downstreams(node_name):
        return True
    node = job.graph.node_named(node_name)
    return any(getattr(o, "is_dynamic", False) for o in node.definition.output_defs)


def nodes_in_order(job: Any) -> Sequence[Any]:
    """The job's top-level nodes in topological order (ties in definition order)."""
    return list(job.graph.nodes_in_topological_order)


def run_id(context: Any) -> str:
    """The Dagster run id of an op or asset execution context."""
    run = getattr(context, "run", None)
    found = getattr(run, "run_id", None)
    return str(found if found is not None else context.run_id)


def op_config(context: Any) -> Mapping[str, Any]:
    """The op/asset config of an execution context (``{}`` when none)."""
    return dict(getattr(context, "op_execution_context", context).op_config or {})


def instance_config(home: str) -> Mapping[str, Any]:
    """The validated (not yet env-resolved) ``dagster.yaml`` of the instance directory ``home``.

    Raises ``yaml.YAMLError`` for a file that is not YAML and ``DagsterInvalidConfigError``
    (see :func:`config_problems`) for one Dagster rejects; ``{}`` when there is no file.
    """
    from dagster._core.instance.config import dagster_instance_config

    config, _custom_class = dagster_instance_config(home)
    return config


def config_problems(error: BaseException) -> list[str]:
    """The short messages of a ``DagsterInvalidConfigError`` (schema dumps cut off)."""
    found = [
        str(getattr(e, "message", e)).split(' Expected: "')[0]
        for e in getattr(error, "errors", None) or ()
    ]
    return found or [str(error).splitlines()[0]]
