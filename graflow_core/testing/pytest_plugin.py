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

Marker: ``@pytest.mark.graflow(max_steps=..., initial_channel=..., start_node=...)`` sets the
defaults of ``graflow_run`` for one test (or a module/class, with ``pytestmark``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from graflow_core.core.context import ExecutionContext
    from graflow_core.core.workflow import WorkflowContext
    from graflow_core.testing.runner import WorkflowRun

_MARKER = "graflow"
_RUN_OPTIONS = ("start_node", "max_steps", "initial_channel")


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``graflow`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(max_steps=None, initial_channel=None, start_node=None): defaults for the "
        "graflow_run fixture of this test (graflow-core's pytest plugin)",
    )


def _marker_options(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """Keyword arguments of every ``graflow`` marker on ``node``, the closest one winning."""
    __tracebackhide__ = True
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers(_MARKER))):  # farthest first
        if marker.args:
            pytest.fail(
                f"@pytest.mark.{_MARKER} takes keyword arguments only "
                f"({', '.join(_RUN_OPTIONS)}), got positional {marker.args!r} on {node.nodeid}",
                pytrace=False,
            )
        unknown = sorted(set(marker.kwargs) - set(_RUN_OPTIONS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.{_MARKER}: unknown option(s) {unknown} on {node.nodeid}; "
                f"supported: {', '.join(_RUN_OPTIONS)}",
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

        merged = {**self.defaults, **options} if isinstance(target, WorkflowContext) else options
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

    Keyword arguments (``start_node``, ``max_steps``, ``initial_channel``) default to those of
    the test's ``@pytest.mark.graflow(...)`` marker.  Errors are kept on the run
    (``run.error``; ``run.assert_failed(...)``), and reading ``run.result`` of a failed run
    fails the test with the task's error.
    """
    runner = GraflowRunner(_marker_options(request.node))
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
