"""The engine's cheap view of the plugin hooks.

The engine asks :func:`active_hooks` once per run (and per parallel branch). It returns ``None``
when no plugin implements a per-run hook, so that with zero plugins the hot loop pays one
``is None`` check per task and pluggy is never imported. Otherwise it returns a
:class:`HookSnapshot` whose attributes are the pluggy hook callers that have at least one
implementation (``None`` for hooks nobody implements).

Plugin discovery happens on the first call: entry points of the ``graflow`` group are looked for
with a fast scan of the ``*.dist-info/entry_points.txt`` files on ``sys.path`` (importing
``importlib.metadata`` costs ~40 ms); only when one names a ``[graflow]`` section is the real
plugin manager (:mod:`graflow_core.plugins.manager`, which imports pluggy) created.
"""

from __future__ import annotations

import _thread  # not `threading`: importing it would cost `import graflow_core` ~1.5 ms
import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from graflow_core.plugins.manager import GraflowPluginManager

#: Hooks the engine calls during a run (the snapshot's attributes).
RUN_HOOKS = (
    "workflow_start",
    "workflow_end",
    "workflow_failure",
    "task_start",
    "task_end",
    "task_failure",
    "task_retry",
    "dynamic_task_added",
    "execute_task",
    "checkpoint_written",
    "checkpoint_resumed",
)

ENTRY_POINT_GROUP = "graflow"
DISABLE_AUTOLOAD_ENV = "GRAFLOW_DISABLE_PLUGIN_AUTOLOAD"
DISABLE_PLUGINS_ENV = "GRAFLOW_DISABLE_PLUGINS"


class HookSnapshot:
    """The run hooks that have implementations (a hook nobody implements is ``None``)."""

    __slots__ = (*RUN_HOOKS, "task_hooks")

    workflow_start: Any
    workflow_end: Any
    workflow_failure: Any
    task_start: Any
    task_end: Any
    task_failure: Any
    task_retry: Any
    dynamic_task_added: Any
    execute_task: Any
    checkpoint_written: Any
    checkpoint_resumed: Any
    task_hooks: bool

    def __init__(self, callers: dict[str, Any]) -> None:
        for name in RUN_HOOKS:
            setattr(self, name, callers.get(name))
        self.task_hooks = any(
            callers.get(n) is not None
            for n in ("task_start", "task_end", "task_failure", "task_retry", "execute_task")
        )


_lock = _thread.RLock()
_initialized = False
_manager: GraflowPluginManager | None = None
_snapshot: HookSnapshot | None = None


def active_hooks() -> HookSnapshot | None:
    """The implemented run hooks, or ``None`` when no plugin implements any."""
    if not _initialized:
        _initialize()
    return _snapshot


def current_manager() -> GraflowPluginManager | None:
    """The plugin manager if one was created (without creating one)."""
    if not _initialized:
        _initialize()
    return _manager


def _initialize() -> None:
    global _initialized
    with _lock:
        if _initialized:
            return
        found = scan_entry_points() if autoload_enabled() else []
        if found:
            from graflow_core.plugins.manager import get_plugin_manager

            # Hands over the scan so the manager loads these without scanning sys.path again.
            get_plugin_manager(_found=found)  # registers itself through _attach()
        _initialized = True


def _attach(manager: GraflowPluginManager) -> None:
    """Called by the plugin manager when it is created (the engine then sees its hooks)."""
    global _manager, _initialized
    with _lock:
        _manager = manager
        _initialized = True
        refresh()


def _detach() -> None:
    """Forget the plugin manager (tests; the next run discovers plugins again)."""
    global _manager, _initialized
    with _lock:
        _manager = None
        _initialized = False
        refresh()


def refresh() -> None:
    """Recompute what derives from the plugin set after plugins were registered, unregistered
    or blocked: the run hooks' snapshot, and the task types plugins provide (asked again)."""
    global _snapshot
    from graflow_core.core.task_types import refresh_plugin_task_types

    manager = _manager
    _snapshot = None if manager is None else snapshot_of(manager)
    refresh_plugin_task_types()


def snapshot_of(manager: GraflowPluginManager) -> HookSnapshot | None:
    """The run hooks ``manager``'s plugins implement (``None`` if none)."""
    callers: dict[str, Any] = {}
    hook = manager.hook
    plain_dispatch = manager._plain_dispatch_allowed()
    for name in RUN_HOOKS:
        caller = getattr(hook, name, None)
        if caller is None:
            continue
        impls = caller.get_hookimpls()
        if not impls:
            continue
        fast = _DirectCaller.build(caller, impls) if plain_dispatch else None
        callers[name] = fast if fast is not None else caller
    return HookSnapshot(callers) if callers else None


class _DirectCaller:
    """Calls plain hook implementations directly, as pluggy's ``_multicall`` would.

    pluggy spends ~2 µs per hook call on bookkeeping; on the per-task path that would double
    the engine's overhead per observing plugin. Used only while every implementation of the
    hook is a plain one (no wrappers) and no call monitoring is installed; otherwise the
    snapshot holds pluggy's own caller. Order (last registered first, ``tryfirst`` /
    ``trylast`` respected), argument selection and ``firstresult`` follow pluggy.
    """

    __slots__ = ("_calls", "_firstresult", "name")

    def __init__(self, name: str, calls: tuple[tuple[Any, tuple[str, ...]], ...], first: bool):
        self.name = name
        self._calls = calls
        self._firstresult = first

    @classmethod
    def build(cls, caller: Any, impls: list[Any]) -> _DirectCaller | None:
        for impl in impls:
            if getattr(impl, "hookwrapper", False) or getattr(impl, "wrapper", False):
                return None
        spec_opts = getattr(getattr(caller, "spec", None), "opts", None) or {}
        calls = tuple((impl.function, tuple(impl.argnames)) for impl in reversed(impls))
        return cls(caller.name, calls, bool(spec_opts.get("firstresult")))

    def __call__(self, **kwargs: Any) -> Any:
        if self._firstresult:
            for function, argnames in self._calls:
                result = function(*[kwargs[a] for a in argnames])
                if result is not None:
                    return result
            return None
        results = []
        for function, argnames in self._calls:
            result = function(*[kwargs[a] for a in argnames])
            if result is not None:
                results.append(result)
        return results


def hooks_for(context: Any) -> HookSnapshot | None:
    """The hooks of a run: its own plugin set if it has one, else the process-wide plugins."""
    if context._plugins:
        snapshot: HookSnapshot | None = context._plugin_snapshot
        return snapshot
    if not _initialized:
        _initialize()
    return _snapshot


def autoload_enabled() -> bool:
    """False when ``GRAFLOW_DISABLE_PLUGIN_AUTOLOAD`` is set to a true value."""
    value = os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower()
    return value in ("", "0", "false", "no", "off")


class FoundEntryPoint(NamedTuple):
    """One ``[graflow]`` entry point found by :func:`scan_entry_points`."""

    name: str
    value: str  # "module" or "module:attr.attr" (extras in brackets are dropped)
    distribution: str
    version: str


def _dist_info(directory: str, metadata_file: str) -> tuple[str, str]:
    """``Name`` and ``Version`` from a METADATA / PKG-INFO header (read up to the first blank)."""
    name = version = "?"
    try:
        with open(os.path.join(directory, metadata_file), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    break
                if line.startswith("Name:"):
                    name = line[5:].strip()
                elif line.startswith("Version:"):
                    version = line[8:].strip()
    except OSError:
        pass
    return name, version


def _section_entries(text: str, group: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    inside = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            inside = line == f"[{group}]"
            continue
        if inside and "=" in line:
            name, value = line.split("=", 1)
            entries.append((name.strip(), value.split("[", 1)[0].strip()))
    return entries


def _normalized(name: str) -> str:
    return "".join("-" if c in "_." else c for c in name.lower())


def scan_entry_points(group: str = ENTRY_POINT_GROUP) -> list[FoundEntryPoint]:
    """Every entry point of ``group`` declared by a distribution on ``sys.path``.

    Reads the ``entry_points.txt`` (and, for matches, the ``METADATA`` header) of the
    ``*.dist-info`` / ``*.egg-info`` directories on ``sys.path`` directly: the same entry
    points ``importlib.metadata.entry_points(group=...)`` gives (first distribution of a name on
    ``sys.path`` wins), for about a millisecond instead of the ~35 ms ``importlib.metadata``
    costs to import. Unreadable paths are skipped.
    """
    marker = f"[{group}]"
    found: list[FoundEntryPoint] = []
    seen: set[str] = set()
    for entry in sys.path:
        base = entry or "."
        try:
            with os.scandir(base) as it:
                names = sorted(d.name for d in it if d.name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue
        for dir_name in names:
            stem = dir_name.rsplit(".", 1)[0]
            key = _normalized(stem.split("-", 1)[0])
            if key in seen:
                continue
            seen.add(key)
            directory = os.path.join(base, dir_name)
            try:
                with open(
                    os.path.join(directory, "entry_points.txt"), encoding="utf-8", errors="replace"
                ) as fh:
                    text = fh.read()
            except OSError:
                continue
            if marker not in text:
                continue
            metadata = "METADATA" if dir_name.endswith(".dist-info") else "PKG-INFO"
            dist, version = _dist_info(directory, metadata)
            for name, value in _section_entries(text, group):
                found.append(FoundEntryPoint(name, value, dist, version))
    return found


def entry_points_present() -> bool:
    """Whether any distribution on ``sys.path`` declares a ``[graflow]`` entry point."""
    return bool(scan_entry_points())
