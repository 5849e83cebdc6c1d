"""The ``graflow`` pytest plugin, registered through the ``pytest11`` entry point.

pytest loads this module in every session of every project that has graflow-core installed,
so it imports nothing at module level beyond pytest itself: each fixture imports what it needs
when a test requests it.  Nothing is autouse: a test that requests no ``graflow_*`` fixture
runs exactly as without the plugin.

Fixtures (see docs/testing.md):

* ``graflow_workflow`` — factory ``graflow_workflow(name=None, **kwargs)`` → a fresh
  ``WorkflowContext``; the current workflow context is restored after the test.
* ``graflow_run`` — ``graflow_run(wf, start_node=None, max_steps=..., initial_channel=...)`` →
  a :class:`~graflow_core.testing.WorkflowRun` with ``.result``, ``.completed``, ``.channel``
  and assertion helpers.  The runs of a failing test are summarised in its report.
* ``graflow_checkpoint_dir`` — a fresh directory for checkpoints (also the working directory,
  so default-path checkpoints land in it) and a random signing key for the test.
* ``graflow_plugins`` — ``graflow_plugins.register(plugin)`` / ``.disable(name)`` for one test.
* ``graflow_hooks`` — a :class:`~graflow_core.testing.HookRecorder` registered for one test.

Marker: ``@pytest.mark.graflow(max_steps=..., initial_channel=..., start_node=...,
plugins=[...])`` sets the defaults of ``graflow_run`` for one test (or a module/class, with
``pytestmark``); ``isolate_plugins=True`` makes ``graflow_plugins`` / ``graflow_hooks`` hide
every plugin registered before the test (installed ones included) for the test's duration.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.plugins import GraflowPluginManager
    from graflow_core.testing.hooks import HookRecorder
    from graflow_core.testing.runner import WorkflowRun

_MARKER = "graflow"
_RUN_OPTIONS = ("start_node", "max_steps", "initial_channel", "plugins")
_OPTIONS = (*_RUN_OPTIONS, "isolate_plugins")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``graflow`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(max_steps=None, initial_channel=None, start_node=None, plugins=(), "
        "isolate_plugins=False): defaults for the graflow_run fixture of this test; "
        "isolate_plugins=True hides installed graflow plugins from graflow_plugins / "
        "graflow_hooks (graflow-core's pytest plugin)",
    )


def _marker_options(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """Keyword arguments of every ``graflow`` marker on ``node``, the closest one winning."""
    __tracebackhide__ = True
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(_MARKER))):  # farthest first
        if marker.args:
            pytest.fail(
                f"@pytest.mark.{_MARKER} takes keyword arguments only "
                f"({', '.join(_OPTIONS)}), got positional {marker.args!r} on {node.nodeid}",
                pytrace=False,
            )
        unknown = sorted(set(marker.kwargs) - set(_OPTIONS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.{_MARKER}: unknown option(s) {unknown} on {node.nodeid}; "
                f"supported: {', '.join(_OPTIONS)}",
                pytrace=False,
            )
        options.update(marker.kwargs)
    return options


# -- graflow_workflow ----------------------------------------------------------------------------


@pytest.fixture
def graflow_workflow(request: pytest.FixtureRequest) -> Iterator[Callable[..., WorkflowContext]]:
    """Factory of fresh workflows: ``with graflow_workflow("etl") as wf: ...``.

    ``graflow_workflow(name=None, **kwargs)`` calls ``workflow(name, **kwargs)``; the name
    defaults to the test's name.  After the test the current workflow context is put back to
    what it was before, so a workflow block the test left open (or the implicit context a task
    defined outside any block creates) does not leak into the next test.
    """
    from graflow_core.core.workflow import (
        clear_workflow_context,
        get_current_workflow_context,
        set_current_workflow_context,
        workflow,
    )

    before = get_current_workflow_context()

    def make(name: str | None = None, **kwargs: Any) -> WorkflowContext:
        return workflow(name if name is not None else request.node.name, **kwargs)

    yield make
    if before is None:
        clear_workflow_context()
    else:
        set_current_workflow_context(before)


# -- graflow_run ---------------------------------------------------------------------------------


class GraflowRunner:
    """The ``graflow_run`` fixture: call it to run a workflow; it remembers every run."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.runs: list[WorkflowRun] = []

    def __call__(self, target: WorkflowContext | ExecutionContext, **options: Any) -> WorkflowRun:
        """Run ``target`` (see :func:`graflow_core.testing.run_workflow`) and return the run."""
        from graflow_core.core.workflow import WorkflowContext
        from graflow_core.testing.runner import run_workflow

        if isinstance(target, WorkflowContext):
            merged = {**self.defaults, **options}
        else:  # a context continues as is: only per-run plugins apply
            merged = {k: v for k, v in self.defaults.items() if k == "plugins"} | options
        run = run_workflow(target, **merged)
        self.runs.append(run)
        return run

    @property
    def last(self) -> WorkflowRun:
        """The most recent run (``AssertionError`` if there was none)."""
        __tracebackhide__ = True
        if not self.runs:
            raise AssertionError("graflow_run has not run a workflow in this test yet")
        return self.runs[-1]

    def report(self) -> str:
        """One block per run: outcome, completed tasks, failures (for failed-test reports)."""
        lines = []
        for index, run in enumerate(self.runs, 1):
            outcome = "succeeded" if run.error is None else f"FAILED ({run.error!r})"
            lines.append(f"run {index}: workflow '{run.name}' {outcome} in {run.duration:.3f}s")
            lines.append(f"  completed, in order: {run.completed}")
            for task_id, error in run.failures:
                lines.append(f"  task '{task_id}' raised {type(error).__name__}: {error}")
            if run.skipped:
                lines.append(f"  skipped: {run.skipped}")
        return "\n".join(lines)


_RUNNER_KEY = pytest.StashKey[GraflowRunner]()


@pytest.fixture
def graflow_run(request: pytest.FixtureRequest) -> GraflowRunner:
    """Run workflows with the real engine: ``run = graflow_run(wf)`` → a ``WorkflowRun``.

    Keyword arguments (``start_node``, ``max_steps``, ``initial_channel``, ``plugins`` — hook
    implementations for the run only) default to those of the test's
    ``@pytest.mark.graflow(...)`` marker.  Errors are kept on the run
    (``run.error``; ``run.assert_failed(...)``), and reading ``run.result`` of a failed run
    fails the test with the task's error.
    """
    options = _marker_options(request.node)
    runner = GraflowRunner({k: v for k, v in options.items() if k in _RUN_OPTIONS})
    request.node.stash[_RUNNER_KEY] = runner
    return runner


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Add a "graflow runs" section to the report of a failed test that ran workflows."""
    report = yield
    if report.failed:
        runner = item.stash.get(_RUNNER_KEY, None)
        if runner is not None and runner.runs:
            report.sections.append(("graflow runs", runner.report()))
    return report


# -- graflow_checkpoint_dir ----------------------------------------------------------------------


@pytest.fixture
def graflow_checkpoint_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh, empty ``checkpoints`` directory, with a signing key for this test.

    The test runs in the directory's parent, so checkpoints written without a path
    (``checkpoints/<session>/...``) land in it.  ``GRAFLOW_SECRET_KEY`` is a random key for this
    test (subprocesses started by the test inherit it); key fallbacks and the unsigned
    development mode are switched off.  Use ``graflow_core.testing.list_checkpoints(dir)`` and
    ``assert_checkpoint(path)`` to inspect what was written.
    """
    import secrets

    from graflow_core.signing import INSECURE_ENV, KEY_ENV, KEY_FALLBACKS_ENV

    root = tmp_path_factory.mktemp("graflow")
    directory = root / "checkpoints"
    directory.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv(KEY_ENV, secrets.token_hex(32))
    monkeypatch.delenv(KEY_FALLBACKS_ENV, raising=False)
    monkeypatch.delenv(INSECURE_ENV, raising=False)
    return directory


# -- graflow_plugins / graflow_hooks -------------------------------------------------------------


class GraflowPlugins:
    """The ``graflow_plugins`` fixture: plugin (de)registration undone after the test."""

    def __init__(self, manager: GraflowPluginManager) -> None:
        self.manager = manager
        self._registered: list[object] = []
        self._disabled: list[tuple[str, object | None]] = []
        self._hidden: list[tuple[str, object]] = []

    def register(self, plugin: object, name: str | None = None) -> Any:
        """Register ``plugin`` (an object or module with ``@hookimpl`` functions) for this test.

        Returns ``plugin``.  Fails the test when the name is disabled (``GRAFLOW_DISABLE_PLUGINS``)
        or the plugin is already registered; an invalid hook implementation raises pluggy's
        ``PluginValidationError``.
        """
        __tracebackhide__ = True
        if self.manager.is_registered(plugin):
            raise AssertionError(f"plugin {name or plugin!r} is already registered")
        if self.manager.register(plugin, name) is None:
            raise AssertionError(
                f"plugin {name!r} is disabled (GRAFLOW_DISABLE_PLUGINS or disable()); "
                "it was not registered"
            )
        self._registered.append(plugin)
        return plugin

    def unregister(self, plugin: object) -> None:
        """Unregister a plugin registered with :meth:`register` before the test ends."""
        if self.manager.is_registered(plugin):
            self.manager.unregister(plugin)

    def disable(self, *names: str) -> None:
        """Disable plugins by name (e.g. an installed one) for this test only."""
        for name in names:
            if self.manager.is_blocked(name):
                continue
            self._disabled.append((name, self.manager.get_plugin(name)))
            self.manager.set_blocked(name)

    def hide_all(self) -> None:
        """Unregister every plugin registered so far, until :meth:`restore` (isolation)."""
        for name, plugin in self.manager.list_name_plugin():
            if plugin is not None:
                self._hidden.append((name, plugin))
                self.manager.unregister(plugin)

    def restore(self) -> None:
        """Undo this test's registrations, disables and hiding (called after the test)."""
        for name, plugin in reversed(self._disabled):
            self.manager.unblock(name)
            if plugin is not None and not any(plugin is p for p in self._registered):
                self.manager.register(plugin, name)  # an installed plugin comes back
        self._disabled.clear()
        for plugin in reversed(self._registered):
            self.unregister(plugin)
        self._registered.clear()
        for name, plugin in self._hidden:
            if not self.manager.is_blocked(name) and not self.manager.is_registered(plugin):
                self.manager.register(plugin, name)
        self._hidden.clear()


@pytest.fixture
def graflow_plugins(request: pytest.FixtureRequest) -> Iterator[GraflowPlugins]:
    """Register or disable graflow plugins for one test: ``graflow_plugins.register(obj)``.

    Uses the process-wide plugin manager (the one runs use), so installed plugins stay active
    unless the test is marked ``@pytest.mark.graflow(isolate_plugins=True)``: then every plugin
    registered so far (installed ones included) is unregistered for the test, and registered
    again after it.
    """
    from graflow_core.plugins import get_plugin_manager

    plugins = GraflowPlugins(get_plugin_manager())
    if _marker_options(request.node).get("isolate_plugins", False):
        plugins.hide_all()
    try:
        yield plugins
    finally:
        plugins.restore()


@pytest.fixture
def graflow_hooks(graflow_plugins: GraflowPlugins) -> HookRecorder:
    """A :class:`~graflow_core.testing.HookRecorder` registered for this test.

    ``graflow_hooks.calls`` lists every hook call made during the test as
    ``HookCall(name, kwargs)``; ``assert_called``, ``assert_not_called`` and
    ``assert_sequence("task_end:extract", "workflow_end")`` check them.
    """
    from graflow_core.testing.hooks import HookRecorder

    recorder = HookRecorder()
    graflow_plugins.register(recorder, name=f"graflow-hook-recorder-{id(recorder):x}")
    recorder.clear()  # registering calls register_task_types: not part of the test
    return recorder
