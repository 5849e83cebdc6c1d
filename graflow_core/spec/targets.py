"""The registry of targets: bridges to orchestrators and what each can express.

A bridge distribution (graflow-airflow, graflow-prefect, graflow-dagster) describes itself with
a :class:`Bridge` and returns it from the ``register_bridges`` plugin hook::

    from graflow_core.plugins import hookimpl
    from graflow_core.spec import Bridge, Capabilities

    @hookimpl
    def register_bridges():
        return [Bridge("airflow", Capabilities("airflow", {...}), render=to_dag, parse=from_dag,
                       distribution="graflow-airflow")]

Tests (and applications) may also call :func:`register_target` directly. The ``graflow`` target
(the engine itself, every feature native) is always present.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graflow_core.exceptions import ConfigError
from graflow_core.spec.capabilities import GRAFLOW, Capabilities
from graflow_core.spec.errors import UnknownTargetError

#: Targets that have a bridge distribution of this project.
KNOWN_DISTRIBUTIONS: dict[str, str] = {
    "airflow": "graflow-airflow",
    "prefect": "graflow-prefect",
    "dagster": "graflow-dagster",
}


class LazyCallable:
    """A callable named by ``"module:attr"``, imported on its first call."""

    __slots__ = ("_target", "reference")

    def __init__(self, reference: str) -> None:
        if reference.count(":") != 1 or not all(reference.partition(":")[::2]):
            raise ConfigError(
                f"A bridge callable given as a string must be 'module:attr', got {reference!r}"
            )
        self.reference = reference
        self._target: Callable[..., Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        target = self._target
        if target is None:
            from graflow_core.spec.references import import_ref

            target = self._target = import_ref(self.reference)
        return target(*args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyCallable({self.reference!r})"


@dataclass(frozen=True)
class Bridge:
    """A target: its ``name``, its :class:`Capabilities` and optionally how to convert.

    ``render(spec, **options)`` turns a ``WorkflowSpec`` into the target's object (a DAG, a
    flow, a job); ``parse(obj)`` turns such an object back into a ``WorkflowSpec``.
    ``export(spec, reference, out_dir, **options)`` writes the files the target loads (an Airflow
    DAG file, a Dagster definitions module) that import the workflow by ``reference``
    (``"module:attr"``) and returns their paths; ``graflow export --to NAME`` calls it.
    ``run(workflow, params, **options)`` runs a workflow (object, zero-argument builder,
    ``"module:attr"`` reference or spec) on the orchestrator *locally, in this process* (Airflow
    ``dag.test()``, a Prefect flow call, Dagster ``execute_in_process()``) and returns a
    :class:`~graflow_core.spec.target_run.TargetRun`; ``graflow run --on NAME`` and the
    conformance suite call it. ``diagnose()`` returns
    :class:`~graflow_core.diagnostics.Check` results (is the orchestrator installed, is its
    database reachable, are its home directories writable); ``graflow doctor`` shows them.
    ``distribution`` is the package providing the bridge (shown in messages).

    Give callables as :class:`LazyCallable` (``LazyCallable("module:attr")``, imported on first
    call), so that registering a bridge imports neither the orchestrator nor the bridge's code.
    """

    name: str
    capabilities: Capabilities
    render: Callable[..., Any] | None = None
    parse: Callable[..., Any] | None = None
    export: Callable[..., Any] | None = None
    distribution: str | None = None
    description: str = ""
    run: Callable[..., Any] | None = None
    diagnose: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"A bridge needs a non-empty string name, got {self.name!r}")
        if not isinstance(self.capabilities, Capabilities):
            raise ConfigError(
                f"Bridge '{self.name}': capabilities must be a graflow_core.spec.Capabilities, "
                f"got {self.capabilities!r}"
            )


#: Another name for :class:`Bridge` (what preflight calls a target).
TargetInfo = Bridge

_lock = threading.Lock()
_registered: dict[str, Bridge] = {}
_BUILTIN = Bridge(
    "graflow",
    GRAFLOW,
    distribution="graflow-core",
    description="the engine",
    run=LazyCallable("graflow_core.spec.target_run:run_native"),
)


def register_target(bridge: Bridge, *, replace: bool = False) -> Bridge:
    """Register ``bridge`` under its name (``replace=True`` to override); returns it."""
    if not isinstance(bridge, Bridge):
        raise ConfigError(f"register_target() needs a Bridge, got {bridge!r}")
    with _lock:
        existing = _registered.get(bridge.name)
        if existing is not None and existing is not bridge and not replace:
            raise ConfigError(
                f"Target '{bridge.name}' is already registered ({existing!r}); pass "
                "replace=True to override it."
            )
        _registered[bridge.name] = bridge
    return bridge


def unregister_target(name: str) -> None:
    """Remove a directly registered target (no error if absent)."""
    with _lock:
        _registered.pop(name, None)


def _as_bridge(item: Any) -> Bridge:
    if isinstance(item, Bridge):
        return item
    if isinstance(item, Capabilities):
        return Bridge(item.target, item)
    raise ConfigError(
        f"A plugin's register_bridges() returned {item!r}; it must return a list of "
        "graflow_core.spec.Bridge objects"
    )


def _plugin_bridges() -> dict[str, Bridge]:
    from graflow_core.plugins import get_plugin_manager

    found: dict[str, Bridge] = {}
    for item in get_plugin_manager().collected_bridges():
        bridge = _as_bridge(item)
        found.setdefault(bridge.name, bridge)
    return found


def available_targets() -> dict[str, Bridge]:
    """Every known target by name: ``graflow``, plugin bridges, direct registrations (win)."""
    return {"graflow": _BUILTIN, **_plugin_bridges(), **_registered}


def get_target(name: str) -> Bridge:
    """The target called ``name``.

    Raises :class:`UnknownTargetError` saying which distribution provides it.
    """
    found = _registered.get(name)
    if found is not None:
        return found
    if name == "graflow":
        return _BUILTIN
    plugins = _plugin_bridges()
    found = plugins.get(name)
    if found is not None:
        return found
    known = sorted({"graflow", *plugins, *_registered})
    dist = KNOWN_DISTRIBUTIONS.get(name)
    if dist is not None:
        how = f"Install its bridge: pip install {dist} (or pip install 'graflow-core[{name}]')."
    else:
        how = (
            f"Install the distribution that provides the '{name}' bridge (it registers through "
            "the `graflow` entry-point group), or register one with "
            "graflow_core.spec.register_target()."
        )
    raise UnknownTargetError(f"Unknown target '{name}'. {how} Known targets: {', '.join(known)}.")
