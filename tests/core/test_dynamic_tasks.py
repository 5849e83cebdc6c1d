"""Dynamic control flow: next_task / goto / next_iteration and the cycle budget (§2.3, §2.4).

The cases here behave the same in Graflow and graflow_core: the workflow is executed after its
``with workflow()`` block has exited, and iterating tasks have no static successors.  The cases
that differ on purpose live in test_divergences.py.
"""

from __future__ import annotations

import re

import pytest
from core_test_helpers import recorder

from graflow_core.core.context import ExecutionContext, TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.task import TaskWrapper
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import CycleLimitExceededError

pytestmark = pytest.mark.usefixtures("chdir_tmp")

ITER_RE = r"{base}_cycle_{n}_[0-9a-f]{{8}}"


# --- next_task -------------------------------------------------------------------------------


def test_next_task_new_task_keeps_successors():
    order = []
    returned = {}
    with workflow("dyn") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")

            def dyn_fn():
                order.append("dyn")
                return "D"

            returned["id"] = ctx.next_task(TaskWrapper("dyn", dyn_fn))
            return "A"

        b = recorder(order, "b")
        a >> b

    result, ctx = wf.execute("a", ret_context=True)
    assert returned["id"] == "dyn"
    assert order == ["a", "dyn", "b"]
    assert ctx.get_result("dyn") == "D"
    assert result == "b"


def test_next_task_with_decorated_inner_task():
    order = []
    with workflow("dyn2") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")

            @task
            def extra():
                order.append("extra")
                return 99

            ctx.next_task(extra)

        b = recorder(order, "b")
        a >> b

    _, ctx = wf.execute("a", ret_context=True)
    assert order == ["a", "extra", "b"]
    assert ctx.get_result("extra") == 99


def test_next_task_goto_new_task_skips_successors():
    order = []
    with workflow("goto") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")

            def jump():
                order.append("jump")
                return "J"

            ctx.next_task(TaskWrapper("jump", jump), goto=True)

        b = recorder(order, "b")
        a >> b

    assert wf.execute("a") == "J"
    assert order == ["a", "jump"]


def test_next_task_existing_node_is_implicit_goto():
    order = []
    with workflow("goto2") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")
            ctx.next_task(side)

        b = recorder(order, "b")
        side = recorder(order, "side")
        a >> b

    assert wf.execute("a") == "side"
    assert order == ["a", "side"]


def test_next_task_existing_node_runs_its_successors():
    order = []
    with workflow("goto3") as wf:

        @task(inject_context=True)
        def router(ctx):
            order.append("router")
            ctx.next_task(right)

        left = recorder(order, "left")
        right = recorder(order, "right")
        right_next = recorder(order, "right_next")
        router >> left
        right >> right_next

    wf.execute("router")
    assert order == ["router", "right", "right_next"]


def test_next_task_same_id_runs_the_existing_node():
    order = []
    with workflow("same_id") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")
            impostor = TaskWrapper("b", lambda: order.append("impostor"), register_to_context=False)
            ctx.next_task(impostor)

        recorder(order, "b")
        c = recorder(order, "c")
        a >> c

    wf.execute("a")
    assert order == ["a", "b"]


def test_goto_loop_counts_cycles():
    order = []
    with workflow("goto_loop") as wf:

        @task(inject_context=True)
        def work(ctx):
            order.append(("work", ctx.cycle_count))

        @task(inject_context=True)
        def check(ctx):
            order.append("check")
            if ctx.execution_context.cycle_controller.get_cycle_count("work") < 3:
                ctx.next_task(work, goto=True)

        work >> check

    wf.execute("work")
    assert order == [("work", 1), "check", ("work", 2), "check", ("work", 3), "check"]


def test_next_task_dynamic_task_with_context_injection():
    seen = {}
    with workflow("dyn_ctx") as wf:

        @task(inject_context=True)
        def parent(ctx):
            @task(inject_context=True)
            def child(child_ctx):
                seen["child_id"] = child_ctx.task_id
                seen["is_ctx"] = isinstance(child_ctx, TaskExecutionContext)
                return "child"

            ctx.next_task(child)

    assert wf.execute("parent") == "child"
    assert seen == {"child_id": "child", "is_ctx": True}


def test_dynamic_task_reads_parent_result_by_keyword():
    with workflow("dyn_kw") as wf:

        @task(inject_context=True)
        def parent(ctx):
            @task
            def child(parent):
                return parent * 2

            ctx.next_task(child)
            return 21

    assert wf.execute("parent") == 42


def test_fan_out_of_dynamic_tasks():
    order = []
    with workflow("fan") as wf:

        @task(inject_context=True)
        def splitter(ctx):
            order.append("splitter")
            for i in range(3):

                def item(i=i):
                    order.append(f"item_{i}")
                    return i

                ctx.next_task(TaskWrapper(f"item_{i}", item))

        done = recorder(order, "done")
        splitter >> done

    _, ctx = wf.execute("splitter", ret_context=True)
    assert order == ["splitter", "item_0", "item_1", "item_2", "done"]
    assert [ctx.get_result(f"item_{i}") for i in range(3)] == [0, 1, 2]


# --- next_iteration --------------------------------------------------------------------------


def test_next_iteration_reruns_task_with_data():
    calls = []
    with workflow("iter") as wf:

        @task(inject_context=True)
        def refine(ctx, data=None):
            calls.append((ctx.task_id, ctx.cycle_count, data))
            if data is None:
                data = 0
            if data < 2:
                ctx.next_iteration(data + 1)
            return data

    result, ctx = wf.execute("refine", ret_context=True)
    assert result == 2
    assert [c[1:] for c in calls] == [(1, None), (2, 1), (3, 2)]
    assert calls[0][0] == "refine"
    assert re.fullmatch(ITER_RE.format(base="refine", n=1), calls[1][0])
    assert re.fullmatch(ITER_RE.format(base="refine", n=2), calls[2][0])
    # iteration results are stored under the iteration ids
    assert ctx.get_result("refine") == 0
    assert ctx.get_result(calls[1][0]) == 1
    assert ctx.get_result(calls[2][0]) == 2
    assert ctx.steps == 3


def test_next_iteration_without_data():
    calls = []
    with workflow("iter2") as wf:

        @task(inject_context=True)
        def poll(ctx):
            calls.append(ctx.cycle_count)
            if ctx.cycle_count < 3:
                ctx.next_iteration()

    wf.execute("poll")
    assert calls == [1, 2, 3]


def test_next_iteration_returns_iteration_id():
    ids = []
    with workflow("iter3") as wf:

        @task(inject_context=True)
        def once(ctx):
            if ctx.cycle_count == 1:
                ids.append(ctx.next_iteration())

    wf.execute("once")
    assert len(ids) == 1
    assert re.fullmatch(ITER_RE.format(base="once", n=1), ids[0])


def test_iteration_of_task_without_inject_context_gets_task_ctx_positionally():
    calls = []
    with workflow("iter4") as wf:

        @task
        def step(tctx=None, data=None):
            calls.append((type(tctx).__name__, data))
            if tctx is None:
                step.get_execution_context().next_iteration(7)
            return data

    wf.execute("step")
    assert calls == [("NoneType", None), ("TaskExecutionContext", 7)]


def test_can_iterate_budget_arithmetic():
    seen = []
    with workflow("budget") as wf:

        @task(inject_context=True, max_cycles=3)
        def loop(ctx):
            seen.append((ctx.cycle_count, ctx.max_cycles, ctx.can_iterate()))
            if ctx.can_iterate():
                ctx.next_iteration()

    wf.execute("loop")
    assert seen == [(1, 3, True), (2, 3, True), (3, 3, False)]


def test_next_iteration_beyond_budget_raises():
    count = []
    with workflow("budget2") as wf:

        @task(inject_context=True, max_cycles=3)
        def loop(ctx):
            count.append(ctx.cycle_count)
            ctx.next_iteration()

    with pytest.raises(CycleLimitExceededError) as info:
        wf.execute("loop")
    assert count == [1, 2, 3]
    err = info.value
    assert (err.task_id, err.cycle_count, err.max_cycles) == ("loop", 3, 3)


def test_default_max_cycles_is_ten():
    count = []
    with workflow("budget3") as wf:

        @task(inject_context=True)
        def loop(ctx):
            count.append(ctx.cycle_count)
            ctx.next_iteration()

    with pytest.raises(CycleLimitExceededError):
        wf.execute("loop")
    assert count == list(range(1, 11))


def test_max_cycles_one_allows_single_execution():
    seen = []
    with workflow("budget4") as wf:

        @task(inject_context=True, max_cycles=1)
        def once(ctx):
            seen.append(ctx.can_iterate())

    wf.execute("once")
    assert seen == [False]


def test_cycle_count_is_shared_by_iterations():
    with workflow("shared") as wf:

        @task(inject_context=True, max_cycles=4)
        def loop(ctx):
            if ctx.can_iterate():
                ctx.next_iteration()

    _, ctx = wf.execute("loop", ret_context=True)
    assert ctx.cycle_controller.get_cycle_count("loop") == 4
    assert ctx.steps == 4


def test_next_iteration_unknown_task_raises_value_error():
    with workflow("bad_iter") as wf:

        @task
        def a():
            return 1

    ctx = ExecutionContext.create(wf.graph, "a")
    with pytest.raises(ValueError):
        ctx.next_iteration(task_id="ghost")
    with pytest.raises(ValueError):
        ctx.next_iteration()  # no current task


def test_iteration_continues_channel_state():
    with workflow("state") as wf:

        @task(inject_context=True, max_cycles=5)
        def accumulate(ctx):
            ch = ctx.get_channel()
            total = ch.get("total", 0) + ctx.cycle_count
            ch.set("total", total)
            if ctx.can_iterate():
                ctx.next_iteration()
            return total

    result, ctx = wf.execute("accumulate", ret_context=True)
    assert result == 1 + 2 + 3 + 4 + 5
    assert ctx.get_channel().get("total") == 15


def test_a_workflow_block_opened_inside_a_running_task_is_an_ordinary_workflow():
    """Graflow's nested-workflow example: the inner block registers its own tasks."""
    seen = []
    with workflow("outer") as outer:

        @task
        def run_inner():
            with workflow("inner") as inner:

                @task
                def a():
                    seen.append("inner a")
                    return 1

                @task
                def b(a):
                    seen.append("inner b")
                    return a + 1

                a >> b
            seen.append(sorted(inner.graph.nodes))
            return inner.execute("a")

    assert outer.execute("run_inner") == 2
    assert seen == [["a", "b"], "inner a", "inner b"]
    assert sorted(outer.graph.nodes) == ["run_inner"]
