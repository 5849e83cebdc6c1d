"""graflow_core's deliberate divergences from Graflow (brief + reference "Our decisions").

1. fan-in joins run once after all forward predecessors; back edges trigger loops; a join that
   only some predecessors reached is skipped and listed in ``ExecutionContext.skipped_tasks``.
2. dynamic tasks created during a run keep the static successors, with or without an active
   ``with workflow()`` block; ``next_iteration`` runs the successors once, after the last iteration.
3. reaching ``max_steps`` with work still queued raises ``MaxStepsExceededError``.
4. parallel-group members are never start-node candidates.
5. custom task handlers registered on the workflow work through ``wf.execute()`` and inside groups.
6. a failed task with retries left is retried before the rest of the queue.
"""

from __future__ import annotations

import pytest
from core_test_helpers import RecordingHandler, recorder

from graflow_core.coordination.coordinator import CoordinationBackend
from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.task import Task, TaskWrapper
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import GraflowRuntimeError, WorkflowDefinitionError

pytestmark = pytest.mark.usefixtures("chdir_tmp")


# --- 1. fan-in joins -------------------------------------------------------------------------


def test_edge_built_diamond_runs_join_once():
    order = []
    with workflow("diamond") as wf:
        a, b, c, d = (recorder(order, n) for n in "abcd")
        a >> b
        a >> c
        b >> d
        c >> d
    result, ctx = wf.execute("a", ret_context=True)
    assert order == ["a", "b", "c", "d"]
    assert result == "d"
    assert ctx.steps == 4


def test_join_waits_for_all_predecessors_of_unequal_length():
    order = []
    with workflow("unequal") as wf:
        s, x1, x2, x3, y, j = (recorder(order, n) for n in ("s", "x1", "x2", "x3", "y", "j"))
        s >> x1 >> x2 >> x3 >> j
        s >> y >> j
    wf.execute("s")
    assert order.count("j") == 1
    assert order[-1] == "j"
    assert set(order) == {"s", "x1", "x2", "x3", "y", "j"}


def test_join_sees_all_predecessor_results():
    with workflow("join_results") as wf:

        @task
        def src():
            return 1

        @task
        def left(src):
            return src + 10

        @task
        def right(src):
            return src + 100

        @task
        def join(left, right):
            return left + right

        src >> left >> join
        src >> right >> join
    assert wf.execute("src") == 112


def test_group_diamond_runs_join_once():
    order = []
    with workflow("gdiamond") as wf:
        a, b, c, d = (recorder(order, n) for n in "abcd")
        a >> (b | c) >> d
    wf.execute("a")
    assert order.count("d") == 1
    assert order[-1] == "d"


def test_group_and_edge_predecessors_join_once():
    order = []
    with workflow("mixed") as wf:
        s, b, c, e, j = (recorder(order, n) for n in ("s", "b", "c", "e", "j"))
        s >> (b | c) >> j
        s >> e >> j
    wf.execute("s")
    assert order.count("j") == 1
    assert order[-1] == "j"


def test_back_edge_loop_still_runs():
    order = []
    with workflow("loop") as wf:
        start = recorder(order, "start")

        @task(inject_context=True)
        def agent(ctx):
            order.append("agent")
            if ctx.cycle_count >= 3:
                ctx.terminate_workflow("done")

        tool = recorder(order, "tool")
        start >> agent >> tool >> agent
    wf.execute("start")
    assert order == ["start", "agent", "tool", "agent", "tool", "agent"]


def test_back_edge_loop_bounded_by_max_cycles_check():
    order = []
    with workflow("loop2") as wf:
        start = recorder(order, "start")

        @task(inject_context=True, max_cycles=3)
        def agent(ctx):
            order.append("agent")
            if not ctx.can_iterate():
                ctx.terminate_workflow("budget")

        tool = recorder(order, "tool")
        start >> agent >> tool >> agent
    wf.execute("start")
    assert order.count("agent") == 3


def test_loop_with_goto_exit():
    """A static loop (check -> body -> check) left through a goto to an isolated node."""
    order = []
    with workflow("loop_exit") as wf:
        start = recorder(order, "start")

        @task(inject_context=True)
        def check(ctx):
            order.append("check")
            if ctx.cycle_count >= 3:
                ctx.next_task(finish, goto=True)

        body = recorder(order, "body")
        finish = recorder(order, "finish")
        start >> check >> body >> check
    assert wf.execute("start") == "finish"
    assert order == ["start", "check", "body", "check", "body", "check", "finish"]


def test_partially_reached_join_is_skipped():
    order = []
    with workflow("skip") as wf:
        a = recorder(order, "a")
        b = recorder(order, "b")

        @task(inject_context=True)
        def c(ctx):
            order.append("c")
            ctx.next_task(side)  # existing node: implicit goto, c's successors are skipped

        side = recorder(order, "side")
        d = recorder(order, "d")
        a >> b >> d
        a >> c >> d
    _, ctx = wf.execute("a", ret_context=True)
    assert "d" not in order
    assert "side" in order
    assert "d" in ctx.skipped_tasks


def test_skipped_tasks_empty_on_full_run():
    order = []
    with workflow("noskip") as wf:
        a, b, c, d = (recorder(order, n) for n in "abcd")
        a >> b >> d
        a >> c >> d
    _, ctx = wf.execute("a", ret_context=True)
    assert "d" not in ctx.skipped_tasks
    assert len(ctx.skipped_tasks) == 0


def test_join_runs_again_on_next_activation():
    """Each activation of a join (both predecessors re-run) runs it once more."""
    order = []
    with workflow("reactivate") as wf:
        s = recorder(order, "s")
        b = recorder(order, "b")
        c = recorder(order, "c")

        @task(inject_context=True)
        def j(ctx):
            order.append("j")
            if ctx.cycle_count < 2:
                ctx.next_task(s, goto=True)

        s >> b >> j
        s >> c >> j
    wf.execute("s")
    assert order.count("j") == 2
    assert order.count("s") == 2


def test_join_after_retried_predecessor_runs_once():
    order = []
    with workflow("join_retry") as wf:
        a = recorder(order, "a")

        @task(max_retries=1)
        def b():
            order.append("b")
            if order.count("b") == 1:
                raise RuntimeError("transient")
            return "b"

        c = recorder(order, "c")
        d = recorder(order, "d")
        a >> b >> d
        a >> c >> d
    assert wf.execute("a") == "d"
    assert order.count("d") == 1
    assert order[-1] == "d"


def test_join_after_iterating_predecessor_runs_once_after_last_iteration():
    order = []
    with workflow("join_iter") as wf:
        a = recorder(order, "a")

        @task(inject_context=True)
        def b(ctx):
            order.append(("b", ctx.cycle_count))
            if ctx.cycle_count < 3:
                ctx.next_iteration()

        c = recorder(order, "c")
        d = recorder(order, "d")
        a >> b >> d
        a >> c >> d
    wf.execute("a")
    assert order.count("d") == 1
    assert order[-1] == "d"
    assert order.index(("b", 3)) < order.index("d")


def test_join_after_predecessor_with_dynamic_task():
    order = []
    with workflow("join_dyn") as wf:
        a = recorder(order, "a")

        @task(inject_context=True)
        def b(ctx):
            order.append("b")
            ctx.next_task(TaskWrapper("extra", lambda: order.append("extra")))

        c = recorder(order, "c")
        d = recorder(order, "d")
        a >> b >> d
        a >> c >> d
    wf.execute("a")
    assert order.count("d") == 1
    assert order[-1] == "d"
    assert "extra" in order


def test_join_inside_parallel_branch_runs_once():
    order = []
    with workflow("branch_join") as wf:
        m1 = recorder(order, "m1")
        x = recorder(order, "x")
        y = recorder(order, "y")
        j = recorder(order, "j")
        m2 = recorder(order, "m2")
        end = recorder(order, "end")
        m1 >> x >> j
        m1 >> y >> j
        (m1 | m2) >> end
    wf.execute("ParallelGroup_1")
    assert order.count("j") == 1
    assert order.index("j") > max(order.index("x"), order.index("y"))
    assert order[-1] == "end"


def test_resume_from_checkpoint_keeps_join_state(tmp_path):
    """Deferred checkpoint after one join predecessor: the join still runs once on resume."""
    from graflow_core.core.checkpoint import CheckpointManager

    base = str(tmp_path / "join_ckpt")

    def logged(name, checkpoint=False):
        def fn(ctx):
            ctx.get_channel().append("log", name)
            if checkpoint:
                ctx.checkpoint(path=base)
            return name

        fn.__name__ = name
        return task(name, inject_context=True)(fn)

    with workflow("join_ckpt") as wf:
        a = logged("a")
        b = logged("b", checkpoint=True)
        c = logged("c")
        d = logged("d")
        a >> b >> d
        a >> c >> d
    full_result, full_ctx = wf.execute("a", ret_context=True)
    assert full_ctx.get_channel().get("log") == ["a", "b", "c", "d"]

    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.get_channel().get("log") == ["a", "b"]
    assert ctx.execute() == full_result == "d"
    assert ctx.get_channel().get("log") == ["a", "b", "c", "d"]
    assert "d" not in ctx.skipped_tasks


def test_join_that_is_also_a_loop_entry():
    """Forward predecessors are joined; the back edge from the loop body triggers immediately."""
    order = []
    with workflow("join_loop") as wf:
        s = recorder(order, "s")
        x = recorder(order, "x")

        @task(inject_context=True)
        def a(ctx):
            order.append("a")

        @task(inject_context=True)
        def b(ctx):
            order.append("b")
            if ctx.execution_context.cycle_controller.get_cycle_count("a") >= 3:
                ctx.terminate_workflow("done")

        s >> a
        s >> x >> a
        a >> b >> a
    wf.execute("s")
    assert order == ["s", "x", "a", "b", "a", "b", "a", "b"]


def test_join_waiting_on_terminated_branch_is_skipped():
    order = []
    with workflow("term_join") as wf:
        a = recorder(order, "a")
        b = recorder(order, "b")

        @task(inject_context=True)
        def c(ctx):
            order.append("c")
            ctx.terminate_workflow("stop")

        d = recorder(order, "d")
        a >> b >> d
        a >> c >> d
    _, ctx = wf.execute("a", ret_context=True)
    assert "d" not in order
    assert "d" in ctx.skipped_tasks


def test_resume_inside_iteration_runs_successor_once_after_last_iteration(tmp_path):
    from graflow_core.core.checkpoint import CheckpointManager

    base = str(tmp_path / "iter_pub")
    with workflow("iter_pub") as wf:

        @task(inject_context=True, max_cycles=4)
        def refine(ctx):
            ch = ctx.get_channel()
            ch.append("log", ("refine", ctx.cycle_count))
            if ctx.cycle_count == 2:
                ctx.checkpoint(path=base)
            if ctx.can_iterate():
                ctx.next_iteration()

        @task(inject_context=True)
        def publish(ctx):
            ctx.get_channel().append("log", "publish")
            return "published"

        refine >> publish
    full_result, full_ctx = wf.execute("refine", ret_context=True)
    expected = [("refine", 1), ("refine", 2), ("refine", 3), ("refine", 4), "publish"]
    assert full_ctx.get_channel().get("log") == expected
    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.execute() == full_result == "published"
    assert ctx.get_channel().get("log") == expected


# --- 2. dynamic tasks ------------------------------------------------------------------------


def test_next_task_inside_workflow_block_keeps_successors():
    order = []
    with workflow("inblock") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")

            @task
            def dyn():
                order.append("dyn")

            ctx.next_task(dyn)

        b = recorder(order, "b")
        a >> b
        wf.execute("a")  # executed while the block is active
    assert order == ["a", "dyn", "b"]


def test_next_task_taskwrapper_inside_workflow_block_keeps_successors():
    order = []
    with workflow("inblock2") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")
            ctx.next_task(TaskWrapper("dyn", lambda: order.append("dyn")))

        b = recorder(order, "b")
        a >> b
        wf.execute("a")
    assert order == ["a", "dyn", "b"]


@pytest.mark.parametrize("inside_block", [True, False])
def test_dynamic_task_keeps_successors_on_every_run(inside_block):
    """The dynamic node left in the shared graph by run 1 must not turn run 2 into a goto."""
    order = []
    with workflow("rerun") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")
            ctx.next_task(TaskWrapper("dyn", lambda: order.append("dyn")))

        b = recorder(order, "b")
        a >> b
        if inside_block:
            wf.execute("a")
            wf.execute("a")
    if not inside_block:
        wf.execute("a")
        wf.execute("a")
    assert order == ["a", "dyn", "b"] * 2


@pytest.mark.parametrize("inside_block", [True, False])
def test_dynamic_parallel_group_keeps_successors_and_gets_a_fresh_id(inside_block):
    """A group built during the run is new (Graflow may reuse the id of a static group and
    run that one instead)."""
    from graflow_core.core.task import parallel

    order = []
    seen = {}
    with workflow("dynpar") as wf:
        x = recorder(order, "x")
        y = recorder(order, "y")
        static_group = x | y

        @task(inject_context=True)
        def a(ctx):
            order.append("a")
            g = parallel(
                TaskWrapper("p1", lambda: order.append("p1")),
                TaskWrapper("p2", lambda: order.append("p2")),
            )
            seen["gid"] = g.task_id
            ctx.next_task(g)

        b = recorder(order, "b")
        a >> b
        if inside_block:
            wf.execute("a")
    if not inside_block:
        wf.execute("a")
    assert seen["gid"] != static_group.task_id
    assert order[0] == "a"
    assert sorted(order[1:3]) == ["p1", "p2"]
    assert order[3:] == ["b"]


def test_goto_true_inside_workflow_block_skips_successors():
    order = []
    with workflow("inblock3") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")

            @task
            def dyn():
                order.append("dyn")

            ctx.next_task(dyn, goto=True)

        b = recorder(order, "b")
        a >> b
        wf.execute("a")
    assert order == ["a", "dyn"]


def test_next_task_existing_node_inside_block_is_goto():
    order = []
    with workflow("inblock4") as wf:

        @task(inject_context=True)
        def a(ctx):
            order.append("a")
            ctx.next_task(side)

        b = recorder(order, "b")
        side = recorder(order, "side")
        a >> b
        wf.execute("a")
    assert order == ["a", "side"]


@pytest.mark.parametrize("inside_block", [True, False])
def test_next_iteration_successors_run_once_after_last_iteration(inside_block):
    order = []
    with workflow("iter") as wf:

        @task(inject_context=True)
        def refine(ctx):
            order.append(("refine", ctx.cycle_count))
            if ctx.cycle_count < 3:
                ctx.next_iteration()
            return ctx.cycle_count

        @task
        def publish():
            order.append("publish")
            return "published"

        refine >> publish
        if inside_block:
            result = wf.execute("refine")
    if not inside_block:
        result = wf.execute("refine")
    assert order == [("refine", 1), ("refine", 2), ("refine", 3), "publish"]
    assert result == "published"


def test_next_iteration_successor_sees_last_iteration_state():
    with workflow("iter_state") as wf:

        @task(inject_context=True, max_cycles=4)
        def refine(ctx):
            ch = ctx.get_channel()
            ch.set("draft", ctx.cycle_count)
            if ctx.can_iterate():
                ctx.next_iteration()

        @task
        def publish(draft):
            return f"draft v{draft}"

        refine >> publish
        assert wf.execute("refine") == "draft v4"


# --- 3. max_steps ----------------------------------------------------------------------------


def test_max_steps_with_pending_work_raises():
    from graflow_core.exceptions import MaxStepsExceededError

    with workflow("unbounded") as wf:
        a, b = Task("a"), Task("b")
        a >> b >> a
    with pytest.raises(MaxStepsExceededError) as info:
        wf.execute("a", max_steps=20)
    assert isinstance(info.value, GraflowRuntimeError)
    assert "20" in str(info.value)


def test_max_steps_error_on_low_level_engine():
    from graflow_core.exceptions import MaxStepsExceededError

    with workflow("unbounded2") as wf:
        a, b, c = Task("a"), Task("b"), Task("c")
        a >> b >> c
    ctx = ExecutionContext.create(wf.graph, "a", max_steps=2)
    with pytest.raises(MaxStepsExceededError):
        WorkflowEngine().execute(ctx)
    assert ctx.steps == 2


def test_max_steps_not_raised_when_run_finishes_exactly():
    with workflow("exact") as wf:
        a, b = Task("a"), Task("b")
        a >> b
    assert wf.execute("a", max_steps=2) is None


def test_terminate_before_max_steps_is_fine():
    with workflow("term") as wf:
        start = Task("start")

        @task(inject_context=True)
        def agent(ctx):
            if ctx.cycle_count == 5:
                ctx.terminate_workflow("ok")
            return ctx.cycle_count

        tool = Task("tool")
        start >> agent >> tool >> agent
    assert wf.execute("start", max_steps=100) == 5


# --- 4. start-node detection -----------------------------------------------------------------


def test_start_then_group_then_end_autodetects_start():
    order = []
    with workflow("tutorial_level3") as wf:
        start = recorder(order, "start")
        a = recorder(order, "a")
        b = recorder(order, "b")
        end = recorder(order, "end")
        start >> (a | b) >> end
    assert wf.graph.get_start_nodes() == ["start"]
    assert wf.execute() == "end"
    assert order[0] == "start" and order[-1] == "end"
    assert sorted(order[1:3]) == ["a", "b"]


def test_chained_group_members_not_start_candidates():
    with workflow("members2") as wf:
        s, x, y, z, e = (Task(n) for n in ("s", "x", "y", "z", "e"))
        s >> ((x >> y) | z) >> e
    assert wf.graph.get_start_nodes() == ["s"]


def test_execution_context_create_skips_group_members():
    with workflow("members3") as wf:
        a, b = Task("a"), Task("b")
        start = Task("start")
        start >> (a | b)
    ctx = ExecutionContext.create(wf.graph)
    assert ctx.start_node == "start"


# --- 5. custom handlers through wf.execute() and in groups -----------------------------------


def tagging_handler():
    return RecordingHandler(lambda value: f"tagged:{value}")


def test_register_handler_on_workflow_used_by_execute():
    handler = tagging_handler()
    with workflow("wfh") as wf:

        @task(handler="tagging")
        def special():
            return "x"

        @task
        def after(special):
            return special + "!"

        special >> after
    wf.register_handler("tagging", handler)
    assert wf.execute("special") == "tagged:x!"
    assert handler.calls == ["special"]


@pytest.mark.parametrize(
    "backend", [None, CoordinationBackend.DIRECT], ids=["default_backend", "direct_backend"]
)
def test_registered_handler_used_inside_parallel_group(backend):
    handler = tagging_handler()
    with workflow("wfh2") as wf:

        @task(handler="tagging")
        def m1():
            return 1

        @task
        def m2():
            return 2

        @task
        def join(m1, m2):
            return [m1, m2]

        group = m1 | m2
        if backend is not None:
            group.with_execution(backend=backend)
        group >> join
    wf.register_handler("tagging", handler)
    assert wf.execute("ParallelGroup_1") == ["tagged:1", 2]
    assert handler.calls == ["m1"]


def test_own_engine_handler_used_inside_parallel_group():
    handler = tagging_handler()
    with workflow("wfh4") as wf:

        @task(handler="tagging")
        def m1():
            return 1

        @task
        def m2():
            return 2

        g = m1 | m2
    engine = WorkflowEngine()
    engine.register_handler("tagging", handler)
    ctx = ExecutionContext.create(wf.graph, g.task_id)
    engine.execute(ctx)
    assert ctx.get_result("m1") == "tagged:1"
    assert handler.calls == ["m1"]


def test_unregistered_handler_still_fails():
    with workflow("wfh5") as wf:

        @task(handler="missing_handler")
        def t():
            return 1

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("t")
    assert "missing_handler" in str(info.value)


# --- module-level tasks are reusable across workflows (docs/compatibility.md §6) -------------


def test_task_defined_outside_any_block_runs_in_every_workflow_it_is_connected_in():
    order = []
    first = TaskWrapper("first", lambda: order.append("first"))
    second = TaskWrapper("second", lambda: order.append("second"))
    with workflow("one") as wf1:
        first >> second
    with workflow("two") as wf2:
        third = TaskWrapper("third", lambda: order.append("third"))
        first >> third
    wf1.execute()
    wf2.execute()
    assert order == ["first", "second", "first", "third"]
    assert set(wf1.graph.nodes) == {"first", "second"}
    assert set(wf2.graph.nodes) == {"first", "third"}


def test_task_defined_inside_one_block_cannot_be_connected_in_another():
    with workflow("owner") as _:
        owned = Task("owned")
    with workflow("other"), pytest.raises(WorkflowDefinitionError, match=r"owned.*owner"):
        owned >> Task("x")


def test_group_built_outside_any_block_can_be_connected_into_a_workflow():
    order = []
    a = TaskWrapper("a", lambda: order.append("a"))
    b = TaskWrapper("b", lambda: order.append("b"))
    free_group = a | b  # no workflow block: Graflow puts it in an implicit global context
    with workflow("uses_free_group") as wf:
        c = TaskWrapper("c", lambda: order.append("c"))
        d = TaskWrapper("d", lambda: order.append("d"))
        own_group = c | d  # takes ParallelGroup_1 in this workflow
        src = TaskWrapper("src", lambda: order.append("src"))
        src >> own_group >> free_group
    assert free_group.task_id != own_group.task_id
    wf.execute()
    assert order[0] == "src"
    assert sorted(order[1:3]) == ["c", "d"]
    assert sorted(order[3:]) == ["a", "b"]


def test_join_waits_only_for_predecessors_reachable_from_the_start():
    """a >> c and b >> c, started at a: b can never run, so c does not wait for it."""
    order = []
    with workflow("unreachable_pred") as wf:
        a, b, c = (TaskWrapper(n, (lambda n=n: order.append(n))) for n in "abc")
        a >> c
        b >> c
    _, ctx = wf.execute("a", ret_context=True)
    assert order == ["a", "c"]
    assert ctx.skipped_tasks == []
    order.clear()
    _, ctx = wf.execute("b", ret_context=True)
    assert order == ["b", "c"]


def test_retry_runs_before_the_rest_of_the_queue():
    """compatibility.md §8: the parent's successors never see a dynamic task's failed attempt."""
    seen: list[object] = []
    attempts: list[int] = []

    with workflow("retry-head") as wf:

        @task(inject_context=True)
        def parent(ctx):
            @task(id="child", max_retries=2)
            def child():
                attempts.append(1)
                if len(attempts) < 2:
                    raise RuntimeError("flaky")
                return 42

            ctx.next_task(child)

        @task(inject_context=True)
        def after(ctx):
            seen.append(ctx.get_result("child"))
            return "done"

        parent >> after

    assert wf.execute() == "done"
    assert len(attempts) == 2
    assert seen == [42]


def test_a_workflow_that_grew_dynamic_tasks_runs_again():
    """Tasks added by next_task stay in the graph but are never start nodes."""
    runs: list[str] = []

    with workflow("rerun") as wf:

        @task(inject_context=True)
        def parent(ctx):
            @task(id="child")
            def child():
                runs.append("child")
                return 42

            ctx.next_task(child)

        @task
        def after():
            runs.append("after")
            return "a"

        parent >> after

    assert wf.execute() == "a"
    assert wf.execute() == "a"
    assert runs == ["child", "after", "child", "after"]
