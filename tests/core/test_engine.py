"""WorkflowEngine (§1.12), the engine loop and ordering (§2.1, §2.2), results (§1.10),
terminate/cancel (§2.3), errors (§2.5) and custom handlers on your own engine (§4.1)."""

from __future__ import annotations

import pytest
from core_test_helpers import RecordingHandler, recorder

from graflow_core.core.context import ExecutionContext, TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.handlers.direct import DirectTaskHandler
from graflow_core.core.task import Task
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import (
    CycleLimitExceededError,
    GraflowError,
    GraflowRuntimeError,
    GraflowWorkflowCanceledError,
)

pytestmark = pytest.mark.usefixtures("chdir_tmp")


# --- engine basics ---------------------------------------------------------------------------


def test_engine_registers_only_direct():
    engine = WorkflowEngine()
    assert list(engine._handlers) == ["direct"]
    assert isinstance(engine._handlers["direct"], DirectTaskHandler)


def test_unknown_handler_type():
    engine = WorkflowEngine()
    with workflow("h"):

        @task(handler="nope")
        def t():
            return 1

    with pytest.raises(ValueError, match=r"Unknown handler type: nope\. Supported: direct"):
        engine._get_handler(t)


def test_engine_execute_returns_last_result():
    order = []
    with workflow("e") as wf:
        a = recorder(order, "a", 1)
        b = recorder(order, "b", 2)
        a >> b
    ctx = ExecutionContext.create(wf.graph, "a")
    assert WorkflowEngine().execute(ctx) == 2
    assert order == ["a", "b"]
    assert ctx.steps == 2
    assert ctx.completed_tasks == ["a", "b"]


def test_engine_execute_with_start_task_id():
    order = []
    with workflow("e") as wf:
        a = recorder(order, "a")
        b = recorder(order, "b")
        c = recorder(order, "c")
        a >> b >> c
    ctx = ExecutionContext.create(wf.graph, "a")
    assert ctx.get_next_task() == "a"  # the queue starts with the start node; drop it
    assert WorkflowEngine().execute(ctx, start_task_id="b") == "c"
    assert order == ["b", "c"]


def test_fifo_breadth_first_order():
    order = []
    with workflow("fifo") as wf:
        s = recorder(order, "s")
        a = recorder(order, "a")
        b = recorder(order, "b")
        a2 = recorder(order, "a2")
        b2 = recorder(order, "b2")
        s >> a >> a2
        s >> b >> b2
    wf.execute("s")
    assert order == ["s", "a", "b", "a2", "b2"]


def test_successors_queued_in_edge_insertion_order():
    order = []
    with workflow("ins") as wf:
        s = recorder(order, "s")
        z = recorder(order, "z")
        m = recorder(order, "m")
        a = recorder(order, "a")
        s >> z
        s >> m
        s >> a
    wf.execute("s")
    assert order == ["s", "z", "m", "a"]


def test_tasks_run_one_at_a_time_in_main_thread():
    import threading

    threads = []
    with workflow("th") as wf:

        @task
        def a():
            threads.append(threading.current_thread())

        @task
        def b():
            threads.append(threading.current_thread())

        a >> b
    wf.execute("a")
    assert threads == [threading.main_thread()] * 2


# --- results ---------------------------------------------------------------------------------


def test_results_stored_under_result_key():
    with workflow("res") as wf:

        @task
        def a():
            return {"x": 1}

        @task
        def b():
            return None

        a >> b
    result, ctx = wf.execute("a", ret_context=True)
    assert result is None
    channel = ctx.get_channel()
    assert channel.get("a.__result__") == {"x": 1}
    assert channel.exists("b.__result__")
    assert channel.get("b.__result__") is None
    assert ctx.get_result("a") == {"x": 1}
    assert ctx.get_result("missing", "dflt") == "dflt"


def test_execute_returns_last_executed_not_sink():
    order = []
    with workflow("last") as wf:
        s = recorder(order, "s", "S")
        long1 = recorder(order, "long1", "L1")
        long2 = recorder(order, "long2", "L2")
        short = recorder(order, "short", "SHORT")
        s >> long1 >> long2
        s >> short
    # order: s, long1, short, long2 -> the last executed is long2
    assert wf.execute("s") == "L2"
    assert order == ["s", "long1", "short", "long2"]


def test_execute_returns_none_when_group_last():
    with workflow("glast") as wf:

        @task
        def a():
            return "A"

        @task
        def b():
            return "B"

        @task
        def start():
            return "S"

        start >> (a | b)
    assert wf.execute("start") is None


def test_task_context_get_result_and_channel():
    seen = {}
    with workflow("tctx") as wf:

        @task
        def producer():
            return 41

        @task(inject_context=True)
        def consumer(ctx):
            seen["via_ctx"] = ctx.get_result("producer")
            seen["default"] = ctx.get_result("nope", "d")
            seen["channel_is_shared"] = ctx.get_channel() is ctx.execution_context.get_channel()
            return seen["via_ctx"] + 1

        producer >> consumer
    assert wf.execute("producer") == 42
    assert seen == {"via_ctx": 41, "default": "d", "channel_is_shared": True}


def test_task_context_properties():
    seen = {}
    with workflow("props") as wf:

        @task(inject_context=True)
        def inspect_me(ctx):
            seen["ctx"] = ctx
            seen["task_id"] = ctx.task_id
            seen["session_id"] = ctx.session_id
            seen["trace_id"] = ctx.trace_id
            seen["graph"] = ctx.graph
            seen["cycle_count"] = ctx.cycle_count
            seen["max_cycles"] = ctx.max_cycles
            seen["retry_count"] = ctx.retry_count
            seen["max_retries"] = ctx.max_retries
            seen["elapsed"] = ctx.elapsed_time()
            ctx.set_local_data("k", "v")
            seen["local"] = ctx.get_local_data("k")
            seen["local_default"] = ctx.get_local_data("missing", 5)
            seen["local_dict"] = dict(ctx.local_data)
            seen["start_time"] = ctx.start_time

    _, exec_ctx = wf.execute("inspect_me", ret_context=True)
    assert isinstance(seen["ctx"], TaskExecutionContext)
    assert seen["ctx"].execution_context is exec_ctx
    assert seen["task_id"] == "inspect_me"
    assert seen["session_id"] == exec_ctx.session_id
    assert seen["trace_id"] == exec_ctx.trace_id
    assert seen["graph"] is wf.graph
    assert seen["cycle_count"] == 1
    assert seen["max_cycles"] == 10
    assert seen["retry_count"] == 0
    assert seen["max_retries"] == 0
    assert seen["elapsed"] >= 0
    assert seen["local"] == "v"
    assert seen["local_default"] == 5
    assert seen["local_dict"] == {"k": "v"}
    assert isinstance(seen["start_time"], float)


def test_local_data_is_per_task():
    seen = {}
    with workflow("local") as wf:

        @task(inject_context=True)
        def a(ctx):
            ctx.set_local_data("x", 1)

        @task(inject_context=True)
        def b(ctx):
            seen["x"] = ctx.get_local_data("x")

        a >> b
    wf.execute("a")
    assert seen["x"] is None


# --- errors ----------------------------------------------------------------------------------


def test_task_exception_wrapped_as_runtime_error():
    with workflow("err") as wf:

        @task
        def boom():
            raise ValueError("boom")

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("boom")
    err = info.value
    assert type(err) is GraflowRuntimeError
    assert isinstance(err.cause, ValueError)
    assert str(err) == "An error occurred: boom (caused by boom)"


def test_failed_task_result_is_the_exception_and_successors_skipped():
    order = []
    with workflow("err2") as wf:

        @task
        def boom():
            order.append("boom")
            raise KeyError("k")

        after = recorder(order, "after")
        boom >> after
    ctx = ExecutionContext.create(wf.graph, "boom")
    with pytest.raises(GraflowRuntimeError):
        WorkflowEngine().execute(ctx)
    stored = ctx.get_result("boom")
    assert isinstance(stored, KeyError)
    assert order == ["boom"]
    assert "boom" not in ctx.completed_tasks
    assert ctx.steps == 0


def test_graflow_runtime_error_subclass_reraised_unchanged():
    class MyError(GraflowRuntimeError):
        pass

    original = MyError("custom")
    with workflow("err3") as wf:

        @task
        def raiser():
            raise original

    with pytest.raises(MyError) as info:
        wf.execute("raiser")
    assert info.value is original


def test_cycle_limit_error_from_task_reraised_unchanged():
    with workflow("err4") as wf:

        @task
        def raiser():
            raise CycleLimitExceededError("raiser", 3, 3)

    with pytest.raises(CycleLimitExceededError):
        wf.execute("raiser")


def test_missing_argument_is_wrapped():
    with workflow("err5") as wf:

        @task
        def needs(value):
            return value

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("needs")
    assert isinstance(info.value.cause, TypeError)


def test_engine_start_id_not_in_graph():
    with workflow("nf") as wf:
        Task("a")
    ctx = ExecutionContext.create(wf.graph, "a")
    with pytest.raises(GraflowError, match="ghost"):
        WorkflowEngine().execute(ctx, start_task_id="ghost")


# --- terminate / cancel ----------------------------------------------------------------------


def test_terminate_workflow_stops_after_task():
    order = []
    with workflow("term") as wf:

        @task(inject_context=True)
        def check(ctx):
            order.append("check")
            ctx.terminate_workflow("cache hit")
            return "cached"

        after = recorder(order, "after")
        check >> after
    result, ctx = wf.execute("check", ret_context=True)
    assert result == "cached"
    assert order == ["check"]
    assert ctx.completed_tasks == ["check"]
    assert ctx.steps == 1
    assert ctx.get_result("check") == "cached"


def test_terminate_abandons_queue():
    order = []
    with workflow("term2") as wf:
        s = recorder(order, "s")

        @task(inject_context=True)
        def stopper(ctx):
            order.append("stopper")
            ctx.terminate_workflow("enough")

        other = recorder(order, "other")
        s >> stopper
        s >> other
    wf.execute("s")
    assert order == ["s", "stopper"]


def test_cancel_workflow_raises_with_message():
    order = []
    with workflow("cancel") as wf:
        a = recorder(order, "a")

        @task(inject_context=True)
        def validate(ctx):
            order.append("validate")
            ctx.cancel_workflow("invalid data")
            return "never seen"

        after = recorder(order, "after")
        a >> validate >> after
    ctx = ExecutionContext.create(wf.graph, "a")
    with pytest.raises(GraflowWorkflowCanceledError) as info:
        WorkflowEngine().execute(ctx)
    assert str(info.value) == "Workflow canceled by task 'validate': invalid data"
    assert info.value.task_id == "validate"
    assert isinstance(info.value, GraflowRuntimeError)
    assert order == ["a", "validate"]
    assert ctx.completed_tasks == ["a"]
    assert ctx.steps == 1


def test_cancel_wins_over_terminate():
    with workflow("both") as wf:

        @task(inject_context=True)
        def both(ctx):
            ctx.terminate_workflow("t")
            ctx.cancel_workflow("c")

    with pytest.raises(GraflowWorkflowCanceledError, match="c"):
        wf.execute("both")


def test_terminate_and_cancel_require_message():
    seen = {}
    with workflow("msg") as wf:

        @task(inject_context=True)
        def no_msg(ctx):
            for name in ("terminate_workflow", "cancel_workflow"):
                try:
                    getattr(ctx, name)()
                except TypeError:
                    seen[name] = "TypeError"
            return "ok"

    assert wf.execute("no_msg") == "ok"
    assert seen == {"terminate_workflow": "TypeError", "cancel_workflow": "TypeError"}


# --- static loops ----------------------------------------------------------------------------


def test_static_loop_runs_until_terminate():
    order = []
    with workflow("loop") as wf:
        start = recorder(order, "start")

        @task(inject_context=True)
        def agent(ctx):
            order.append(("agent", ctx.cycle_count))
            if ctx.cycle_count >= 3:
                ctx.terminate_workflow("done")
            return ctx.cycle_count

        tool = recorder(order, "tool")
        start >> agent >> tool >> agent
    result, ctx = wf.execute("start", ret_context=True)
    assert result == 3
    assert order == ["start", ("agent", 1), "tool", ("agent", 2), "tool", ("agent", 3)]
    assert ctx.steps == 6
    assert ctx.completed_tasks == ["start", "agent", "tool"]


def test_static_loop_bounded_by_can_iterate():
    order = []
    with workflow("loop2") as wf:
        start = recorder(order, "start")

        @task(inject_context=True, max_cycles=2)
        def agent(ctx):
            order.append("agent")
            if not ctx.can_iterate():
                ctx.terminate_workflow("budget spent")

        tool = recorder(order, "tool")
        start >> agent >> tool >> agent
    wf.execute("start")
    assert order == ["start", "agent", "tool", "agent"]


# --- custom handlers on your own engine ------------------------------------------------------


def handled_handler():
    return RecordingHandler(lambda result: ("handled", result))


def test_custom_handler_on_own_engine():
    handler = handled_handler()
    with workflow("custom") as wf:

        @task(handler="recording")
        def special():
            return 5

        @task
        def normal(special):
            return special

        special >> normal
    engine = WorkflowEngine()
    engine.register_handler("recording", handler)
    assert engine._handlers["recording"] is handler
    ctx = ExecutionContext.create(wf.graph, "special")
    result = engine.execute(ctx)
    assert handler.calls == ["special"]
    assert ctx.get_result("special") == ("handled", 5)
    assert result == ("handled", 5)


def test_custom_handler_errors_follow_engine_rules():
    handler = handled_handler()
    with workflow("custom2") as wf:

        @task(handler="recording")
        def bad():
            raise ValueError("nope")

    engine = WorkflowEngine()
    engine.register_handler("recording", handler)
    ctx = ExecutionContext.create(wf.graph, "bad")
    with pytest.raises(GraflowRuntimeError, match="An error occurred: nope"):
        engine.execute(ctx)
    assert isinstance(ctx.get_result("bad"), ValueError)


def test_direct_handler_stores_and_reraises():
    with workflow("direct") as wf:

        @task
        def fine():
            return 3

        @task
        def broken():
            raise RuntimeError("x")

    ctx = ExecutionContext.create(wf.graph, "fine")
    handler = DirectTaskHandler()
    fine.set_execution_context(ctx)
    assert handler.execute_task(fine, ctx) == 3
    assert ctx.get_result("fine") == 3
    broken.set_execution_context(ctx)
    with pytest.raises(RuntimeError):
        handler.execute_task(broken, ctx)
    assert isinstance(ctx.get_result("broken"), RuntimeError)


# --- max_steps -------------------------------------------------------------------------------


def test_max_steps_exactly_reached_with_empty_queue_is_fine():
    order = []
    with workflow("ms") as wf:
        a = recorder(order, "a")
        b = recorder(order, "b")
        c = recorder(order, "c")
        a >> b >> c
    assert wf.execute("a", max_steps=3) == "c"
    assert order == ["a", "b", "c"]


def test_steps_continue_counting_from_context_steps():
    order = []
    with workflow("ms2") as wf:
        a = recorder(order, "a")
        b = recorder(order, "b")
        a >> b
    ctx = ExecutionContext.create(wf.graph, "a")
    ctx.steps = 5
    WorkflowEngine().execute(ctx)
    assert ctx.steps == 7
