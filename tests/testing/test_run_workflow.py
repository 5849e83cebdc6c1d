"""graflow_core.testing.run_workflow: a real run, recorded, with assertion helpers that explain."""

from __future__ import annotations

import pytest

from graflow_core.core.checkpoint import CheckpointManager
from graflow_core.core.context import TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import (
    GraflowRuntimeError,
    ParallelGroupError,
    RetryLimitExceededError,
)
from graflow_core.testing import HookRecorder, WorkflowRun, resume_workflow, run_workflow
from graflow_core.trace.base import Tracer


def _etl():
    with workflow("etl") as wf:

        @task
        def extract() -> list[int]:
            return [3, 1, 2]

        @task
        def total(extract: list[int]) -> int:
            return sum(extract)

        @task
        def biggest(extract: list[int]) -> int:
            return max(extract)

        @task(inject_context=True)
        def report(ctx: TaskExecutionContext, total: int, biggest: int) -> str:
            ctx.get_channel().set("report_written", True)
            return f"total={total} max={biggest}"

        extract >> (total | biggest) >> report
    return wf


def test_successful_run_records_everything():
    wf = _etl()
    run = run_workflow(wf)
    assert isinstance(run, WorkflowRun)
    assert run.succeeded and run.error is None
    assert run.result == "total=6 max=3" == wf.execute()
    assert run.workflow is wf and run.name == "etl"
    assert run.completed[0] == "extract" and run.completed[-1] == "report"
    assert {"total", "biggest", "ParallelGroup_1"} <= set(run.completed)
    assert run.channel["report_written"] is True
    assert run.results["total"] == 6
    assert run.get_result("biggest") == 3
    assert run.get_result("nope", "default") == "default"
    assert run.skipped == [] and run.failures == []
    assert run.context.completed_tasks[-1] == "report"
    assert run.duration >= 0
    returned = (
        run.assert_succeeded()
        .assert_completed("extract", "total", "report", in_order=True)
        .assert_result("total", 6)
        .assert_channel("report_written", True)
        .assert_channel("report_written")
    )
    assert returned is run
    assert "succeeded" in repr(run)


def test_run_options_are_those_of_execute():
    with workflow("opts") as wf:

        @task
        def a(x: int) -> int:
            return x + 1

        @task
        def b(a: int) -> int:
            return a * 10

        a >> b
    run = run_workflow(wf, initial_channel={"x": 1})
    run.assert_result("b", 20)
    run = run_workflow(wf, start_node="b", initial_channel={"a": 5})
    run.assert_result("b", 50).assert_not_run("a")
    run = run_workflow(wf, max_steps=1, initial_channel={"x": 1})
    run.assert_failed(GraflowRuntimeError, match="max_steps")


def test_the_workflows_own_tracer_still_sees_every_event():
    events = []

    class Mine(Tracer):
        def on_task_end(self, task, context, result=None, error=None):
            events.append(task.task_id)

    with workflow("traced", tracer=Mine()) as wf:

        @task
        def a() -> int:
            return 1

        @task
        def b() -> int:
            return 2

        a >> b
    run = run_workflow(wf)
    assert events == ["a", "b"] == run.completed
    assert type(run.context.tracer) is Mine  # put back after the run


def test_failed_run_keeps_the_error_and_explains():
    with workflow("broken") as wf:

        @task
        def ok() -> int:
            return 1

        @task
        def boom(ok: int) -> int:
            raise ValueError(f"bad row {ok}")

        @task
        def never(boom: int) -> int:
            return boom

        ok >> boom >> never
    run = run_workflow(wf)
    assert not run.succeeded
    assert isinstance(run.error, GraflowRuntimeError)
    assert run.failed_task == "boom"
    assert run.completed == ["ok"]
    assert [t for t, _ in run.failures] == ["boom"]
    assert run.started == ["ok", "boom"]
    err = run.assert_failed(ValueError, match="bad row 1", task_id="boom")
    assert isinstance(err, ValueError)
    assert run.assert_failed() is err  # the original exception when it matches
    assert run.assert_failed(GraflowRuntimeError, match="An error occurred") is run.error
    run.assert_not_run("never").assert_completed("ok")
    assert "failed: GraflowRuntimeError" in repr(run)

    with pytest.raises(AssertionError, match="failed, so it has no result") as info:
        _ = run.result
    assert "task 'boom' raised ValueError: bad row 1" in str(info.value)
    assert isinstance(info.value.__cause__, GraflowRuntimeError)

    with pytest.raises(AssertionError, match=r"workflow 'broken' failed: GraflowRuntimeError"):
        run.assert_succeeded()
    with pytest.raises(AssertionError, match=r"failed with .* expected KeyError"):
        run.assert_failed(KeyError)
    with pytest.raises(AssertionError, match=r"expected KeyError or TypeError"):
        run.assert_failed((KeyError, TypeError))
    with pytest.raises(AssertionError, match=r"no error message matches 'other'"):
        run.assert_failed(match="other")
    with pytest.raises(AssertionError, match=r"failed in task 'boom', expected task 'ok'"):
        run.assert_failed(task_id="ok")
    with pytest.raises(AssertionError) as info:
        run.assert_completed("ok", "never")
    message = str(info.value)
    assert "task 'never' did not complete" in message
    assert "completed, in order: ['ok']" in message
    assert "failed: 'boom' (ValueError: bad row 1)" in message
    with pytest.raises(AssertionError, match=r"expected 'boom' not to run, but it did"):
        run.assert_not_run("boom")


def test_assertion_messages_on_a_successful_run():
    wf = _etl()
    run = run_workflow(wf)
    with pytest.raises(AssertionError, match=r"succeeded, expected it to fail"):
        run.assert_failed()
    with pytest.raises(AssertionError, match=r"tasks 'x', 'y' did not complete"):
        run.assert_completed("x", "report", "y")
    with pytest.raises(AssertionError, match=r"completed in the order \['extract', 'report'\]"):
        run.assert_completed("report", "extract", in_order=True)
    with pytest.raises(AssertionError, match=r"task 'total' returned 6, expected 7"):
        run.assert_result("total", 7)
    with pytest.raises(AssertionError, match=r"task 'missing' stored no result"):
        run.assert_result("missing", 1)
    with pytest.raises(AssertionError, match=r"channel\['report_written'\] is True, expected 'y'"):
        run.assert_channel("report_written", "y")
    with pytest.raises(AssertionError, match=r"no key 'nope'; its keys .* \['report_written'\]"):
        run.assert_channel("nope")
    with pytest.raises(AssertionError, match=r"expected 'extract', 'total' not to run, but they"):
        run.assert_not_run("extract", "total", "absent")
    with pytest.raises(AssertionError, match=r"expected \['report'\] to be skipped"):
        run.assert_skipped("report")


def test_retries_are_recorded_per_attempt():
    attempts = []

    with workflow("flaky") as wf:

        @task(max_retries=2)
        def flaky() -> str:
            attempts.append(1)
            if len(attempts) < 3:
                raise ConnectionError(f"attempt {len(attempts)}")
            return "ok"

    run = run_workflow(wf)
    run.assert_succeeded().assert_result("flaky", "ok")
    assert run.started == ["flaky"] * 3
    assert [str(e) for _, e in run.failures] == ["attempt 1", "attempt 2"]

    attempts.clear()
    with workflow("hopeless") as wf2:

        @task(max_retries=1)
        def hopeless() -> None:
            raise ConnectionError("down")

    run = run_workflow(wf2)
    run.assert_failed(RetryLimitExceededError, task_id="hopeless")
    run.assert_failed(ConnectionError, match="down")


def test_skipped_join_and_parallel_failure():
    with workflow("join") as wf:

        @task(inject_context=True)
        def start(ctx: TaskExecutionContext) -> None:
            ctx.next_task(left, goto=True)

        @task
        def left() -> str:
            return "l"

        @task
        def right() -> str:
            return "r"

        @task
        def join() -> str:
            return "j"

        start >> left >> join
        start >> right >> join
    run = run_workflow(wf)
    run.assert_succeeded().assert_completed("start", "left").assert_not_run("right", "join")
    run.assert_skipped("join")

    with workflow("group") as wf2:

        @task
        def fine() -> int:
            return 1

        @task
        def bad() -> int:
            raise KeyError("missing")

        fine | bad
    run = run_workflow(wf2)
    err = run.assert_failed(KeyError, match="missing", task_id="ParallelGroup_1")
    assert ("bad", err) in run.failures
    run.assert_failed(ParallelGroupError, match="1 task")
    run.assert_completed("fine")
    with pytest.raises(AssertionError, match=r"\(task 'bad' raised KeyError: 'missing'\)"):
        run.assert_succeeded()


def test_resume_workflow_runs_a_checkpoint_to_the_end(tmp_path):
    base = str(tmp_path / "ck")

    with workflow("resumable") as wf:

        @task(inject_context=True)
        def first(ctx: TaskExecutionContext) -> int:
            ctx.checkpoint(path=base)
            return 1

        @task
        def second(first: int) -> int:
            return first + 1

        first >> second
    run_workflow(wf).assert_result("second", 2)
    resumed = resume_workflow(base)
    resumed.assert_succeeded().assert_not_run("first").assert_result("second", 2)
    assert resumed.workflow is None and resumed.name == "resumable"

    recorder = HookRecorder()
    resume_workflow(base, plugins=[recorder]).assert_result("second", 2)
    recorder.assert_sequence("workflow_start:resumable", "task_end:second", "workflow_end")
    recorder.assert_not_called("task_start", task_id="first")

    ctx, _ = CheckpointManager.resume_from_checkpoint(base + ".pkl")
    run_workflow(ctx).assert_completed("second")
    with pytest.raises(TypeError, match="apply to a WorkflowContext only"):
        run_workflow(ctx, max_steps=3)


def test_run_workflow_rejects_other_targets():
    with pytest.raises(TypeError, match=r"expects a WorkflowContext .* got int"):
        run_workflow(3)  # type: ignore[arg-type]
