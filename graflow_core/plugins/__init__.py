"""graflow's extension mechanism: pluggy hooks, found through the ``graflow`` entry-point group.

Writing a plugin::

    from graflow_core.plugins import hookimpl

    class AuditPlugin:
        @hookimpl
        def task_end(self, task_id, result):
            print("done", task_id, result)

    get_plugin_manager().register(AuditPlugin(), name="audit")

or ship it in a distribution with ``[project.entry-points.graflow] audit = "my_pkg.audit"``.
The hook specifications are in :mod:`graflow_core.plugins.hookspecs`.

Importing this package imports pluggy; ``import graflow_core`` does not.
"""

from __future__ import annotations

import pluggy

from graflow_core.plugins.hookspecs import PROJECT_NAME, hookspec
from graflow_core.plugins.manager import (
    GraflowPluginManager,
    PluginLoadWarning,
    env_flag,
    get_plugin_manager,
    reset_plugin_manager,
)
from graflow_core.plugins.outcome import TaskOutcome

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = [
    "GraflowPluginManager",
    "PluginLoadWarning",
    "TaskOutcome",
    "env_flag",
    "get_plugin_manager",
    "hookimpl",
    "hookspec",
    "reset_plugin_manager",
]
