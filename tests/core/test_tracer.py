"""Tracers see every workflow, task and dynamic-task event, in order."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from graflow_core.core.context import TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.task import TaskWrapper
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import GraflowRuntimeError
from graflow_core.trace.base import Tracer
from graflow_core.trace.console import ConsoleTracer


class Recorder(Tracer):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()
        self.clones = 0

    def _add(self, *event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def on_workflow_start(self, name, context):
        self._add("workflow_start", name)

    def on_workflow_end(self, name, context, result=None):
        self._add("workflow_end", name, result)

    def on_task_queued(self, task, context):
        self._add("queued", task.task_id)

    def on_task_start(self, task, context):
        self._add("start", task.task_id)

    def on_task_end(self, task, context, result=None, error=None):
        self._add("end", task.task_id, result, type(error).__name__ if error else None)

    def on_dynamic_task_added(
        self, task_id, parent_task_id=None, is_iteration=False, metadata=None
    ):
        self._add("dynamic", task_id, parent_task_id, is_iteration)

    def on_parallel_group_start(self, group_id, member_ids, context):
        self._add("group_start", group_id, tuple(member_ids))

    def on_parallel_group_end(self, group_id, member_ids, context, results=None):
        self._add("group_end", group_id, tuple(sorted(results or {})))

    def clone(self, trace_id):
        self.clones += 1
        return self


def test_events_of_a_run_with_a_dynamic_task():
    rec = Recorder()
    with workflow("traced", tracer=rec) as wf:

        @task(inject_context=True)
        def a(ctx: TaskExecutionContext) -> int:
            ctx.next_task(TaskWrapper("extra", lambda: "x"))
            return 1

        @task
        def b(a: int) -> int:
            return a + 1

        a >> b
    assert wf.execute() == 2
    assert rec.events == [
        ("workflow_start", "traced"),
        ("start", "a"),
        ("queued", "extra"),
        ("dynamic", "extra", "a", False),
        ("end", "a", 1, None),
        ("start", "extra"),
        ("end", "extra", "x", None),
        ("start", "b"),
        ("end", "b", 2, None),
        ("workflow_end", "traced", 2),
    ]


def test_events_of_a_parallel_group_and_a_failure():
    rec = Recorder()
    with workflow("grouped", tracer=rec) as wf:
        src = TaskWrapper("src", lambda: 0)
        left = TaskWrapper("left", lambda: "L")
        right = TaskWrapper("right", lambda: "R")

        @task
        def boom() -> None:
            raise ValueError("no")

        src >> (left | right).set_group_name("pair") >> boom
    with pytest.raises(GraflowRuntimeError):
        wf.execute()
    assert rec.events[0] == ("workflow_start", "grouped")
    assert ("group_start", "pair", ("left", "right")) in rec.events
    assert ("group_end", "pair", ("left", "right")) in rec.events
    assert ("end", "left", "L", None) in rec.events
    assert ("end", "boom", None, "ValueError") in rec.events
    assert rec.events[-1] == ("workflow_end", "grouped", None)
    assert rec.clones == 2  # one per branch


def test_console_tracer_prints_the_run(capsys):
    with workflow("console", tracer=ConsoleTracer()) as wf:

        @task(inject_context=True)
        def loop(ctx: TaskExecutionContext) -> int:
            if ctx.cycle_count < 2:
                ctx.next_iteration()
            return ctx.cycle_count

        @task
        def done(loop: int) -> str:
            return "ok"

        loop >> done
    assert wf.execute() == "ok"
    out = capsys.readouterr().out
    assert "workflow console started" in out
    assert "> loop" in out and "< loop ok" in out
    assert "+ iteration loop_cycle_1_" in out
    assert "< done ok" in out
    assert "workflow console ended" in out
