"""A plugin that records every hook call, for tests of plugins and of hook-driven behaviour.

Register a :class:`HookRecorder` like any plugin (the ``graflow_hooks`` pytest fixture does it for
one test)::

    recorder = HookRecorder()
    with get_plugin_manager().registered(recorder):
        wf.execute()
    recorder.assert_sequence("workflow_start:etl", "task_end:extract", "workflow_end:etl")

It implements every hook of :mod:`graflow_core.plugins.hookspecs` and returns ``None`` from
each, so it never changes what happens: ``execute_task`` and ``checkpoint_store`` fall through
to the next plugin or the core, and ``register_task_types`` / ``register_bridges`` /
``diagnose`` add nothing.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from graflow_core.plugins import hookimpl

__all__ = ["HookCall", "HookRecorder"]

_MISSING: Any = object()
# The argument that names what a call is about, per hook family (first one present wins).
_LABEL_ARGS = ("task_id", "workflow_name", "location", "path")


class HookCall(NamedTuple):
    """One recorded hook call: the hook's name and the keyword arguments it was called with."""

    name: str
    kwargs: dict[str, Any]

    @property
    def label(self) -> str:
        """``"hook:subject"``, e.g. ``"task_end:extract"`` or ``"workflow_start:etl"``."""
        for arg in _LABEL_ARGS:
            value = self.kwargs.get(arg)
            if isinstance(value, str):
                return f"{self.name}:{value}"
        return self.name


class HookRecorder:
    """Records every hook call as a :class:`HookCall` (thread-safe: group members run in threads).

    Attributes:
        calls: the calls in the order they happened.
    """

    def __init__(self) -> None:
        self.calls: list[HookCall] = []
        self._lock = threading.Lock()

    def _record(self, name: str, **kwargs: Any) -> None:
        with self._lock:
            self.calls.append(HookCall(name, kwargs))

    # -- queries -------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every recorded call."""
        with self._lock:
            self.calls.clear()

    def names(self) -> list[str]:
        """The hook names, in call order."""
        return [call.name for call in self.calls]

    def get_calls(self, name: str, **match: Any) -> list[dict[str, Any]]:
        """The keyword arguments of every call of ``name`` whose arguments equal ``match``."""
        return [
            call.kwargs
            for call in self.calls
            if call.name == name
            and all(call.kwargs.get(key, _MISSING) == value for key, value in match.items())
        ]

    def sequence(self, *names: str) -> list[str]:
        """Call labels (``"task_end:extract"``, see :attr:`HookCall.label`) in order.

        With ``names``, only calls of those hooks.
        """
        return [call.label for call in self.calls if not names or call.name in names]

    # -- assertions ----------------------------------------------------------------------------

    def assert_called(
        self, name: str, *, times: int | None = None, **match: Any
    ) -> list[dict[str, Any]]:
        """Fail unless ``name`` was called with arguments equal to ``match`` (``times`` times,
        when given; at least once otherwise).  Returns the matching calls' arguments."""
        __tracebackhide__ = True
        found = self.get_calls(name, **match)
        if (times is None and not found) or (times is not None and len(found) != times):
            expected = "at least once" if times is None else f"{times} time(s)"
            with_args = f" with {match}" if match else ""
            raise AssertionError(
                f"hook {name} was called {len(found)} time(s){with_args}, expected {expected}; "
                f"calls of {name}: {self.sequence(name) or 'none'}; "
                f"all calls: {self.sequence()}"
            )
        return found

    def assert_not_called(self, name: str, **match: Any) -> None:
        """Fail if ``name`` was called (with arguments equal to ``match``, when given)."""
        __tracebackhide__ = True
        found = self.get_calls(name, **match)
        if found:
            with_args = f" with {match}" if match else ""
            raise AssertionError(
                f"hook {name} was called{with_args} {len(found)} time(s), expected never; "
                f"calls of {name}: {self.sequence(name)}"
            )

    def assert_sequence(self, *labels: str) -> None:
        """Fail unless calls with these labels happened in this order (others may interleave).

        A label is a hook name (``"workflow_end"``) or ``"hook:subject"``
        (``"task_end:extract"``), the subject being the task id, workflow name, location or
        path of the call.
        """
        __tracebackhide__ = True
        actual = self.sequence()
        position = 0
        for index, label in enumerate(labels):
            while position < len(actual):
                candidate = actual[position]
                position += 1
                if candidate == label or candidate.split(":", 1)[0] == label:
                    break
            else:
                raise AssertionError(
                    f"hook calls do not contain {list(labels)} in this order: "
                    f"{label!r} (item {index + 1}) is missing after "
                    f"{list(labels[:index]) or 'the start'}; calls: {actual}"
                )

    # -- hook implementations (one per specification; each records and returns None) ---------

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        """Record ``workflow_start``."""
        self._record("workflow_start", context=context, workflow_name=workflow_name)

    @hookimpl
    def workflow_end(self, context: Any, workflow_name: str, result: Any) -> None:
        """Record ``workflow_end``."""
        self._record("workflow_end", context=context, workflow_name=workflow_name, result=result)

    @hookimpl
    def workflow_failure(self, context: Any, workflow_name: str, error: BaseException) -> None:
        """Record ``workflow_failure``."""
        self._record("workflow_failure", context=context, workflow_name=workflow_name, error=error)

    @hookimpl
    def task_start(self, task: Any, task_id: str, context: Any) -> None:
        """Record ``task_start``."""
        self._record("task_start", task=task, task_id=task_id, context=context)

    @hookimpl
    def task_end(self, task: Any, task_id: str, context: Any, result: Any) -> None:
        """Record ``task_end``."""
        self._record("task_end", task=task, task_id=task_id, context=context, result=result)

    @hookimpl
    def task_failure(
        self, task: Any, task_id: str, context: Any, error: BaseException, final: bool
    ) -> None:
        """Record ``task_failure``."""
        self._record(
            "task_failure", task=task, task_id=task_id, context=context, error=error, final=final
        )

    @hookimpl
    def task_retry(
        self,
        task: Any,
        task_id: str,
        context: Any,
        error: BaseException,
        attempt: int,
        delay: float,
    ) -> None:
        """Record ``task_retry``."""
        self._record(
            "task_retry",
            task=task,
            task_id=task_id,
            context=context,
            error=error,
            attempt=attempt,
            delay=delay,
        )

    @hookimpl
    def dynamic_task_added(self, task: Any, task_id: str, context: Any, goto: bool) -> None:
        """Record ``dynamic_task_added``."""
        self._record("dynamic_task_added", task=task, task_id=task_id, context=context, goto=goto)

    @hookimpl
    def execute_task(self, task: Any, task_id: str, context: Any, invoke: Any) -> None:
        """Record ``execute_task`` and leave the execution to the next plugin or the core."""
        self._record("execute_task", task=task, task_id=task_id, context=context, invoke=invoke)

    @hookimpl
    def register_task_types(self) -> None:
        """Record ``register_task_types`` (adds none)."""
        self._record("register_task_types")

    @hookimpl
    def checkpoint_store(self, location: str) -> None:
        """Record ``checkpoint_store`` and leave the choice to the next plugin or the core."""
        self._record("checkpoint_store", location=location)

    @hookimpl
    def checkpoint_written(self, context: Any, path: str, metadata: Any) -> None:
        """Record ``checkpoint_written``."""
        self._record("checkpoint_written", context=context, path=path, metadata=metadata)

    @hookimpl
    def checkpoint_resumed(self, context: Any, path: str, metadata: Any) -> None:
        """Record ``checkpoint_resumed``."""
        self._record("checkpoint_resumed", context=context, path=path, metadata=metadata)

    @hookimpl
    def register_bridges(self) -> None:
        """Record ``register_bridges`` (adds none)."""
        self._record("register_bridges")

    @hookimpl
    def diagnose(self) -> None:
        """Record ``diagnose`` (``graflow doctor``; adds no checks)."""
        self._record("diagnose")

    def __repr__(self) -> str:
        return f"HookRecorder({len(self.calls)} calls)"
