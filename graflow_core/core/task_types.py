"""Task types: named kinds of task that plugins add, used as ``@task(type="name")``.

A task type decides two things:

* :meth:`TaskType.build` — how the object given to ``@task`` becomes the task's function (a
  LangChain ``Runnable`` is not a function; the ``langchain`` type wraps it in one);
* :meth:`TaskType.execute` — how one attempt runs around the body (the ``mlflow`` type logs the
  returned metrics after calling ``invoke()``).

Two equivalent ways to make a typed task::

    @task(type="mlflow", type_options={"log_params": True})
    def train(lr: float) -> dict: ...

    summarize = task(id="summarize", type="langchain")(prompt | model)

and plugins may offer factories that do the same (``langchain_task(runnable, id=...)``).

Types are registered with :func:`register_task_type` or by a plugin's ``register_task_types``
hook; the registry asks the plugins only when a name is not registered directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from graflow_core.exceptions import ConfigError

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.task import TaskWrapper


class UnknownTaskTypeError(ConfigError, LookupError):
    """``@task(type=...)`` names a type no plugin registered."""


class TaskType:
    """Base class of task types; subclass it and set :attr:`name`."""

    #: The name used in ``@task(type=...)``.
    name: str = ""
    #: Known options (documentation; ``type_options`` keys outside it are rejected if not empty).
    options: tuple[str, ...] = ()

    def build(
        self, target: Any, *, task_id: str | None, options: dict[str, Any]
    ) -> Callable[..., Any]:
        """Return the task's function for ``target`` (default: ``target`` itself, if callable)."""
        if not callable(target):
            raise ConfigError(
                f"Task type '{self.name}' expects a function, got {target!r} "
                f"({type(target).__name__}) for task '{task_id}'."
            )
        return target

    def execute(
        self, task: TaskWrapper, context: ExecutionContext, invoke: Callable[[], Any]
    ) -> Any:
        """Run one attempt: call ``invoke()`` (the body) and return its value."""
        return invoke()

    def validate_options(self, task_id: str | None, options: dict[str, Any]) -> None:
        """Reject unknown ``type_options`` keys (when :attr:`options` is declared)."""
        if self.options:
            unknown = sorted(set(options) - set(self.options))
            if unknown:
                raise ConfigError(
                    f"Task '{task_id}': unknown type_options {unknown} for task type "
                    f"'{self.name}'; it accepts {list(self.options)}."
                )

    def __repr__(self) -> str:
        return f"<TaskType {self.name!r} ({type(self).__module__}.{type(self).__qualname__})>"


_lock = threading.Lock()
_registered: dict[str, TaskType] = {}
_from_plugins: dict[str, TaskType] | None = None


def register_task_type(task_type: TaskType, *, replace: bool = False) -> TaskType:
    """Register ``task_type`` under its name (``replace=True`` to override an existing one)."""
    name = getattr(task_type, "name", "")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"Task type {task_type!r} needs a non-empty string `name`.")
    with _lock:
        existing = _registered.get(name)
        if existing is not None and existing is not task_type and not replace:
            raise ConfigError(
                f"Task type '{name}' is already registered ({existing!r}); pass replace=True "
                "to override it."
            )
        _registered[name] = task_type
    return task_type


def unregister_task_type(name: str) -> None:
    """Remove a directly registered task type (no error if absent)."""
    with _lock:
        _registered.pop(name, None)


def get_task_type(name: str) -> TaskType:
    """The task type called ``name``; asks the plugins on the first miss."""
    found = _registered.get(name)
    if found is not None:
        return found
    found = _plugin_task_types().get(name)
    if found is not None:
        return found
    known = sorted({*_registered, *_plugin_task_types()})
    raise UnknownTaskTypeError(
        f"Unknown task type '{name}'. Known task types: {known or 'none'}. Install the plugin "
        f'that provides it (e.g. pip install "graflow-core[{name}]"), or register one with '
        "graflow_core.core.task_types.register_task_type()."
    )


def available_task_types() -> dict[str, TaskType]:
    """Every known task type by name (direct registrations win over plugins)."""
    return {**_plugin_task_types(), **_registered}


def refresh_plugin_task_types() -> None:
    """Forget the task types collected from plugins (asked again on next lookup)."""
    global _from_plugins
    _from_plugins = None


def _plugin_task_types() -> dict[str, TaskType]:
    global _from_plugins
    cached = _from_plugins
    if cached is not None:
        return cached
    from graflow_core.core import hooks

    manager = hooks.current_manager()
    collected: dict[str, TaskType] = {}
    if manager is not None:
        for task_type in manager.collected_task_types():
            name = getattr(task_type, "name", None)
            if isinstance(name, str) and name:
                collected.setdefault(name, task_type)
    _from_plugins = collected
    return collected
