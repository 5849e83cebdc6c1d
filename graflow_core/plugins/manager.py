"""The plugin manager: discovery, disabling, explicit registration.

One process-wide :class:`GraflowPluginManager` (``get_plugin_manager()``). On creation it loads
every entry point of the ``graflow`` group unless ``GRAFLOW_DISABLE_PLUGIN_AUTOLOAD=1``; plugins
named in ``GRAFLOW_DISABLE_PLUGINS`` (comma-separated entry-point names) are blocked, also for
explicit registration. A plugin that fails to import or whose hook implementations do not match
the specifications is skipped with a :class:`PluginLoadWarning` naming it; everything else keeps
working.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import pluggy

from graflow_core.core import hooks as _hooks
from graflow_core.plugins.hookspecs import PROJECT_NAME, SPEC_CLASSES


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded (it is skipped; the workflow still runs)."""


class GraflowPluginManager(pluggy.PluginManager):
    """pluggy's manager for the ``graflow`` project, aware of the engine's hook snapshot."""

    def __init__(self, *, disabled: Iterable[str] = ()) -> None:
        super().__init__(PROJECT_NAME)
        for spec in SPEC_CLASSES:
            self.add_hookspecs(spec)
        self._global = False
        self._distributions: dict[str, tuple[str, str]] = {}
        #: Entry-point plugins skipped while loading: name -> why (``graflow doctor`` shows it).
        self.load_failures: dict[str, str] = {}
        for name in (*disabled, *disabled_from_env()):
            self.set_blocked(name)

    # -- registration (every change refreshes what the engine sees) ---------------------------

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` (a module or object with ``@hookimpl`` methods).

        Returns the name, or ``None`` if that name is blocked (disabled). A hook implementation
        that does not match its specification raises ``pluggy.PluginValidationError``.
        """
        registered = super().register(plugin, name)
        self._changed()
        return registered

    def unregister(self, plugin: object | None = None, name: str | None = None) -> Any:
        """Unregister a plugin by object or name."""
        removed = super().unregister(plugin, name)
        self._changed()
        return removed

    def set_blocked(self, name: str) -> None:
        """Disable the plugin ``name``: unregistered now and refused later."""
        super().set_blocked(name)
        self._changed()

    def disable(self, *names: str) -> None:
        """Disable plugins by name (the programmatic form of ``GRAFLOW_DISABLE_PLUGINS``)."""
        for name in names:
            self.set_blocked(name)

    @contextlib.contextmanager
    def registered(self, plugin: object, name: str | None = None) -> Iterator[object]:
        """Register ``plugin`` for the duration of a ``with`` block (handy in tests)."""
        self.register(plugin, name)
        try:
            yield plugin
        finally:
            if self.is_registered(plugin):
                self.unregister(plugin)

    def add_hookcall_monitoring(self, before: Any, after: Any) -> Any:
        """pluggy's call monitoring; while installed, every hook call goes through pluggy."""
        undo_pluggy = super().add_hookcall_monitoring(before, after)
        self._changed()

        def undo() -> None:
            undo_pluggy()
            self._changed()

        return undo

    def _plain_dispatch_allowed(self) -> bool:
        """True while hooks may be called without pluggy (no call monitoring installed)."""
        try:
            from pluggy._callers import _multicall
        except ImportError:  # pragma: no cover - a pluggy without it: always use pluggy
            return False
        return self._inner_hookexec is _multicall

    def _changed(self) -> None:
        if self._global:
            _hooks.refresh()

    # -- discovery -----------------------------------------------------------------------------

    def load_entry_points(
        self,
        group: str = _hooks.ENTRY_POINT_GROUP,
        *,
        _found: list[_hooks.FoundEntryPoint] | None = None,
    ) -> int:
        """Load and register every entry point of ``group``; returns how many were registered.

        Broken plugins are skipped with a :class:`PluginLoadWarning`. ``_found`` is a scan of
        ``group`` already made (the engine's first run scans to decide whether to create the
        manager at all), so ``sys.path`` is not scanned twice.
        """
        count = 0
        for ep in _hooks.scan_entry_points(group) if _found is None else _found:
            if self.is_blocked(ep.name) or self.has_plugin(ep.name):
                continue
            dist_name, dist_version = ep.distribution, ep.version
            origin = f"entry point '{ep.name} = {ep.value}' of distribution {dist_name}"
            try:
                plugin = _load_entry_point(ep.value)
            except Exception as exc:
                reason = f"importing it failed: {type(exc).__name__}: {exc}"
                self.load_failures[ep.name] = f"{origin}: {reason}"
                _warn(ep.name, origin, reason)
                continue
            try:
                self.register(plugin, name=ep.name)
            except Exception as exc:
                self.load_failures[ep.name] = f"{origin}: its hooks are invalid: {exc}"
                _warn(ep.name, origin, f"its hooks are invalid: {exc}")
                continue
            unknown = self._unknown_hooks(plugin)
            if unknown:
                _warn(
                    ep.name,
                    origin,
                    f"it implements hooks that do not exist: {', '.join(unknown)} "
                    "(a typo, or a plugin written for another graflow version)",
                    skipped=False,
                )
            self._distributions[ep.name] = (dist_name, dist_version)
            count += 1
        return count

    def _unknown_hooks(self, plugin: object) -> list[str]:
        unknown = []
        for caller in self.get_hookcallers(plugin) or []:
            if caller.spec is None:
                unknown.append(caller.name)
        return sorted(unknown)

    def plugin_info(self) -> list[dict[str, str]]:
        """Registered plugins: name, distribution and version (``?`` for explicit ones)."""
        info = []
        for name, plugin in self.list_name_plugin():
            if plugin is None:
                continue
            dist, version = self._distributions.get(name, ("?", "?"))
            info.append({"name": name, "distribution": dist, "version": version})
        return info

    # -- task types and bridges ----------------------------------------------------------------

    def collected_task_types(self) -> list[Any]:
        """Every task type returned by ``register_task_types`` implementations."""
        found: list[Any] = []
        for result in self.hook.register_task_types():
            found.extend(result or [])
        return found

    def collected_bridges(self) -> list[Any]:
        """Every bridge returned by ``register_bridges`` implementations (a list each, or one
        bridge)."""
        found: list[Any] = []
        for result in self.hook.register_bridges():
            found.extend(result if isinstance(result, (list, tuple)) else [result])
        return found

    def collected_checks(self, areas: Iterable[str] | None = None) -> list[Any]:
        """The :class:`~graflow_core.diagnostics.Check` results of every ``diagnose``
        implementation, each called on its own (one that raises becomes a ``fail`` check named
        after its plugin); only plugins named in ``areas`` when given; duplicates once."""
        from graflow_core.diagnostics import call_diagnosis

        wanted = None if areas is None else set(areas)
        found: list[Any] = []
        # pluggy calls the last registered first; show plugins in registration order.
        for impl in reversed(self.hook.diagnose.get_hookimpls()):
            name = impl.plugin_name
            if wanted is not None and name not in wanted:
                continue
            distribution = self._distributions.get(name, (None,))[0]
            checks = call_diagnosis(name, impl.function, distribution)
            found.extend(c for c in checks if c not in found)
        return found


def _load_entry_point(value: str) -> object:
    """Import what an entry point names: ``module`` or ``module:attr.attr``."""
    import importlib

    module_name, _, attrs = value.partition(":")
    obj: object = importlib.import_module(module_name.strip())
    for attr in filter(None, attrs.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def _warn(name: str, origin: str, reason: str, *, skipped: bool = True) -> None:
    action = (
        f"It is skipped; fix or uninstall it, or silence this with GRAFLOW_DISABLE_PLUGINS={name}."
        if skipped
        else f"Disable it with GRAFLOW_DISABLE_PLUGINS={name} if that is unwanted."
    )
    warnings.warn(
        f"graflow plugin '{name}' ({origin}): {reason}. {action}",
        PluginLoadWarning,
        stacklevel=3,
    )


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_flag(name: str, default: bool = False) -> bool:
    """``True``/``False`` for the usual spellings of an environment flag, else ``default``.

    What integration plugins use to decide, cheaply, whether an environment variable such as
    ``GRAFLOW_MLFLOW=1`` switches them on when their entry point is loaded.
    """
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return default


def disabled_from_env() -> list[str]:
    """Plugin names listed in ``GRAFLOW_DISABLE_PLUGINS``."""
    raw = os.environ.get(_hooks.DISABLE_PLUGINS_ENV, "")
    return [part.strip() for part in raw.split(",") if part.strip()]


_create_lock = threading.Lock()
_manager: GraflowPluginManager | None = None


def get_plugin_manager(
    *, _found: list[_hooks.FoundEntryPoint] | None = None
) -> GraflowPluginManager:
    """The process-wide plugin manager (created, and entry points loaded, on first use).

    ``_found`` (internal): the ``graflow`` entry points the caller already scanned for.
    """
    global _manager
    manager = _manager
    if manager is not None:
        return manager
    with _create_lock:
        if _manager is None:
            manager = GraflowPluginManager()
            if _hooks.autoload_enabled():
                manager.load_entry_points(_found=_found)
            manager._global = True
            _manager = manager
            _hooks._attach(manager)
        return _manager


def run_plugin_manager(plugins: Iterable[object]) -> GraflowPluginManager:
    """A manager for one run: the process-wide plugins plus ``plugins``.

    Used by ``wf.execute(plugins=[...])`` / ``ExecutionContext.use_plugins``: a bridge hosting
    one run (say, as a Prefect flow) adds its ``execute_task`` plugin to that run only, and
    other workflows in the process keep the fast path.
    """
    base = get_plugin_manager()
    manager = GraflowPluginManager()
    for name, plugin in base.list_name_plugin():
        if plugin is None:
            manager.set_blocked(name)
        else:
            manager.register(plugin, name=name)
    for plugin in plugins:
        if not manager.is_registered(plugin):
            manager.register(plugin)
    return manager


def reset_plugin_manager() -> None:
    """Drop the process-wide manager; the next use discovers plugins again (for tests)."""
    global _manager
    with _create_lock:
        _manager = None
        _hooks._detach()
