"""Parallel groups: threading and direct backends, with_execution, policies (§1.4, §2.6)."""

from __future__ import annotations

import threading
import time

import pytest
from core_test_helpers import recorder

from graflow_core.coordination.coordinator import CoordinationBackend
from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.handlers.group_policy import (
    AtLeastNGroupPolicy,
    BestEffortGroupPolicy,
    CriticalGroupPolicy,
    GroupExecutionPolicy,
    StrictGroupPolicy,
)
from graflow_core.core.task import Task
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import GraflowRuntimeError, ParallelGroupError

pytestmark = pytest.mark.usefixtures("chdir_tmp")


# --- with_execution --------------------------------------------------------------------------


@pytest.fixture
def group():
    with workflow("cfg"):
        yield Task("a") | Task("b") | Task("c")


def test_with_execution_returns_self_and_defaults(group):
    assert group.with_execution() is group
    assert group._execution_config == {"backend": None, "backend_config": {}, "policy": "strict"}


def test_with_execution_backend_and_config(group):
    group.with_execution(backend=CoordinationBackend.THREADING, backend_config={"thread_count": 2})
    assert group._execution_config["backend"] == CoordinationBackend.THREADING
    assert group._execution_config["backend_config"] == {"thread_count": 2}
    group.with_execution(backend_config={"other": 1})
    assert group._execution_config["backend_config"] == {"thread_count": 2, "other": 1}


def test_with_execution_string_backend_is_accepted(group):
    group.with_execution(backend="direct")
    assert group._execution_config["backend"] in ("direct", CoordinationBackend.DIRECT)


@pytest.mark.parametrize(
    ("policy", "canonical"),
    [
        ("strict", "strict"),
        ("best_effort", "best_effort"),
        (StrictGroupPolicy(), "strict"),
        (BestEffortGroupPolicy(), "best_effort"),
        (CriticalGroupPolicy(["c", "a"]), {"type": "critical", "critical_task_ids": ["a", "c"]}),
        (AtLeastNGroupPolicy(2), {"type": "at_least_n", "min_success": 2}),
    ],
)
def test_with_execution_canonical_policy(group, policy, canonical):
    group.with_execution(policy=policy)
    assert group._execution_config["policy"] == canonical


def test_with_execution_custom_policy_is_wrapped(group):
    class Always(GroupExecutionPolicy):
        def on_group_finished(self, group_id, tasks, results, context):
            return None

    inst = Always()
    group.with_execution(policy=inst)
    assert group._execution_config["policy"] == {"type": "__custom__", "policy": inst}


def test_with_execution_without_policy_resets_to_strict(group):
    group.with_execution(policy="best_effort")
    group.with_execution(backend=CoordinationBackend.DIRECT)
    assert group._execution_config["policy"] == "strict"
    assert group._execution_config["backend"] == CoordinationBackend.DIRECT


# --- threading backend -----------------------------------------------------------------------


def _fan(backend=None, policy=None, fail=(), thread_count=None):
    order = []
    with workflow("fan") as wf:
        start = recorder(order, "start")
        members = [recorder(order, n, fail=n in fail) for n in ("b", "c", "d")]

        @task
        def join(b=None, c=None, d=None):
            order.append("join")
            return [b, c, d]

        g = members[0] | members[1] | members[2]
        kwargs = {}
        if backend is not None:
            kwargs["backend"] = backend
        if policy is not None:
            kwargs["policy"] = policy
        if thread_count is not None:
            kwargs["backend_config"] = {"thread_count": thread_count}
        if kwargs:
            g.with_execution(**kwargs)
        start >> g >> join
    return wf, order


def test_threading_group_runs_members_then_successor():
    wf, order = _fan()
    result, ctx = wf.execute("start", ret_context=True)
    assert result == ["b", "c", "d"]
    assert order[0] == "start"
    assert sorted(order[1:4]) == ["b", "c", "d"]
    assert order[4:] == ["join"]
    assert ctx.completed_tasks == ["start", "ParallelGroup_1", "join"]
    assert ctx.steps == 6
    assert ctx.get_result("ParallelGroup_1") is None
    assert ctx.get_result("c") == "c"


def test_threading_group_members_run_concurrently():
    barrier = threading.Barrier(3, timeout=5)
    thread_names = set()
    with workflow("conc") as wf:

        def make(name):
            def fn():
                thread_names.add(threading.current_thread().name)
                barrier.wait()  # deadlocks (BrokenBarrierError) unless all three run at once
                return name

            fn.__name__ = name
            return task(name)(fn)

        a, b, c = make("a"), make("b"), make("c")
        (a | b | c).with_execution(
            backend=CoordinationBackend.THREADING, backend_config={"thread_count": 3}
        )
    wf.execute("ParallelGroup_1")
    assert len(thread_names) == 3


def test_threading_group_member_chain_runs_inside_branch():
    order = []
    with workflow("branch_chain") as wf:
        fetch = recorder(order, "fetch")
        ta = recorder(order, "ta")
        sub = recorder(order, "sub")
        tb = recorder(order, "tb")
        store = recorder(order, "store")
        fetch >> ((ta >> sub) | tb) >> store
    _, ctx = wf.execute("fetch", ret_context=True)
    assert order[0] == "fetch"
    assert order[-1] == "store"
    assert sorted(order[1:-1]) == ["sub", "ta", "tb"]
    assert order.index("ta") < order.index("sub")
    assert order.count("sub") == 1
    assert ctx.get_result("sub") == "sub"
    assert ctx.steps == 6  # fetch, group, store + ta, sub, tb merged from branches


def test_branch_channel_writes_are_merged_into_parent():
    with workflow("merge") as wf:

        @task(inject_context=True)
        def left(ctx):
            ctx.get_channel().set("left_key", "L")

        @task(inject_context=True)
        def right(ctx):
            ctx.get_channel().set("right_key", "R")

        @task
        def after(left_key, right_key):
            return left_key + right_key

        (left | right) >> after
    result, ctx = wf.execute("ParallelGroup_1", ret_context=True)
    assert result == "LR"
    assert ctx.get_channel().get("left_key") == "L"


def test_branch_sees_parent_channel():
    with workflow("see") as wf:

        @task
        def start():
            return 10

        @task
        def m1(start):
            return start + 1

        @task
        def m2(start):
            return start + 2

        @task
        def end(m1, m2):
            return m1 + m2

        start >> (m1 | m2) >> end
    assert wf.execute("start") == 23


def test_group_members_not_in_parent_completed_tasks():
    wf, _ = _fan()
    _, ctx = wf.execute("start", ret_context=True)
    assert "b" not in ctx.completed_tasks


def test_strict_failure_raises_parallel_group_error():
    wf, order = _fan(fail=("c",))
    with pytest.raises(ParallelGroupError) as info:
        wf.execute("start")
    err = info.value
    assert str(err).startswith("Parallel group ParallelGroup_1 failed: 1 task(s) failed")
    assert err.group_id == "ParallelGroup_1"
    assert [tid for tid, _ in err.failed_tasks] == ["c"]
    msg = dict(err.failed_tasks)["c"]
    assert msg == "An error occurred: c failed (caused by c failed)"
    assert sorted(err.successful_tasks) == ["b", "d"]
    assert "join" not in order


def test_strict_failure_error_unchanged_from_execute():
    wf, _ = _fan(fail=("b", "d"), policy="strict")
    with pytest.raises(ParallelGroupError, match="2 task\\(s\\) failed"):
        wf.execute("start")


def test_group_failure_result_is_the_error():
    wf, _ = _fan(fail=("b",))
    ctx = ExecutionContext.create(wf.graph, "start")
    with pytest.raises(ParallelGroupError):
        WorkflowEngine().execute(ctx)
    assert isinstance(ctx.get_result("ParallelGroup_1"), ParallelGroupError)


def test_best_effort_continues():
    wf, order = _fan(fail=("c",), policy="best_effort")
    result = wf.execute("start")
    assert result == ["b", None, "d"]
    assert order[-1] == "join"


def test_critical_policy_non_critical_failure_continues():
    wf, _ = _fan(fail=("c",), policy=CriticalGroupPolicy(["b"]))
    assert wf.execute("start") == ["b", None, "d"]


def test_critical_policy_critical_failure_raises():
    wf, order = _fan(fail=("b",), policy=CriticalGroupPolicy(["b"]))
    with pytest.raises(ParallelGroupError) as info:
        wf.execute("start")
    assert str(info.value).startswith("Critical tasks failed: ['b']")
    assert "join" not in order


def test_at_least_n_policy_met():
    wf, _ = _fan(fail=("c",), policy=AtLeastNGroupPolicy(2))
    assert wf.execute("start") == ["b", None, "d"]


def test_at_least_n_policy_not_met():
    wf, _ = _fan(fail=("b", "c"), policy=AtLeastNGroupPolicy(2))
    with pytest.raises(ParallelGroupError) as info:
        wf.execute("start")
    assert str(info.value).startswith("Only 1/2 tasks succeeded in group ParallelGroup_1")


def test_custom_policy_sees_results():
    seen = {}

    class Recording(GroupExecutionPolicy):
        def on_group_finished(self, group_id, tasks, results, context):
            seen["group_id"] = group_id
            seen["tasks"] = [t.task_id for t in tasks]
            seen["results"] = {k: (r.task_id, r.success) for k, r in results.items()}
            seen["context"] = context

    wf, _ = _fan(fail=("d",), policy=Recording())
    result, ctx = wf.execute("start", ret_context=True)
    assert result == ["b", "c", None]
    assert seen["group_id"] == "ParallelGroup_1"
    assert seen["tasks"] == ["b", "c", "d"]
    assert seen["results"] == {"b": ("b", True), "c": ("c", True), "d": ("d", False)}
    assert seen["context"] is ctx


def test_custom_policy_can_fail_group():
    class Never(GroupExecutionPolicy):
        def on_group_finished(self, group_id, tasks, results, context):
            raise ParallelGroupError("nope", group_id, [], list(results))

    wf, order = _fan(policy=Never())
    with pytest.raises(ParallelGroupError, match="nope"):
        wf.execute("start")
    assert "join" not in order


def test_terminate_in_member_stops_only_branch():
    order = []
    with workflow("term_member") as wf:

        @task(inject_context=True)
        def m1(ctx):
            order.append("m1")
            ctx.terminate_workflow("branch done")

        after_m1 = recorder(order, "after_m1")
        m2 = recorder(order, "m2")
        end = recorder(order, "end")
        m1 >> after_m1
        (m1 | m2) >> end
    wf.execute("ParallelGroup_1")
    assert "after_m1" not in order
    assert order[-1] == "end"
    assert "m2" in order


def test_cancel_in_member_is_member_failure():
    with workflow("cancel_member") as wf:

        @task(inject_context=True)
        def m1(ctx):
            ctx.cancel_workflow("stop everything")

        @task
        def m2():
            return 2

        @task
        def end():
            return "end"

        (m1 | m2) >> end
    with pytest.raises(ParallelGroupError) as info:
        wf.execute("ParallelGroup_1")
    assert "stop everything" in dict(info.value.failed_tasks)["m1"]


def test_nested_groups_run():
    order = []
    with workflow("nested") as wf:
        a = recorder(order, "a")
        b = recorder(order, "b")
        c = recorder(order, "c")
        d = recorder(order, "d")
        e = recorder(order, "e")
        g1 = a | b
        g2 = c | d
        g1 >> e
        outer = g1 | g2
    wf.execute(outer.task_id)
    assert sorted(order) == ["a", "b", "c", "d", "e"]
    assert order.index("e") > max(order.index("a"), order.index("b"))


def test_thread_count_one_serialises():
    active = []
    peak = []
    lock = threading.Lock()
    with workflow("one") as wf:

        def make(name):
            def fn():
                with lock:
                    active.append(name)
                    peak.append(len(active))
                time.sleep(0.01)
                with lock:
                    active.remove(name)

            fn.__name__ = name
            return task(name)(fn)

        (make("a") | make("b") | make("c")).with_execution(backend_config={"thread_count": 1})
    wf.execute("ParallelGroup_1")
    assert max(peak) == 1


# --- direct backend --------------------------------------------------------------------------


def test_direct_backend_runs_members_in_order_in_same_context():
    wf, order = _fan(backend=CoordinationBackend.DIRECT)
    result, ctx = wf.execute("start", ret_context=True)
    assert order == ["start", "b", "c", "d", "join"]
    assert result == ["b", "c", "d"]
    for member in ("b", "c", "d"):
        assert member in ctx.completed_tasks


def test_direct_backend_runs_in_calling_thread():
    names = []
    with workflow("direct_thread") as wf:

        @task
        def a():
            names.append(threading.current_thread().name)

        @task
        def b():
            names.append(threading.current_thread().name)

        (a | b).with_execution(backend=CoordinationBackend.DIRECT)
    wf.execute("ParallelGroup_1")
    assert names == [threading.current_thread().name] * 2


def test_direct_backend_drains_parent_queue():
    order = []
    with workflow("drain") as wf:
        s = recorder(order, "s")
        b = recorder(order, "b")
        c = recorder(order, "c")
        e = recorder(order, "e")
        g = (b | c).with_execution(backend=CoordinationBackend.DIRECT)
        s >> g
        s >> e
    wf.execute("s")
    assert order == ["s", "b", "e", "c"]


def test_direct_backend_strict_failure():
    wf, order = _fan(backend=CoordinationBackend.DIRECT, fail=("c",))
    with pytest.raises(ParallelGroupError) as info:
        wf.execute("start")
    assert [t for t, _ in info.value.failed_tasks] == ["c"]
    assert order == ["start", "b", "c", "d"]


def test_direct_backend_best_effort():
    wf, order = _fan(backend=CoordinationBackend.DIRECT, fail=("c",), policy="best_effort")
    result = wf.execute("start")
    # no branch isolation: the failed member's stored result (the exception) is visible
    assert result[0] == "b" and result[2] == "d"
    assert isinstance(result[1], ValueError)
    assert order == ["start", "b", "c", "d", "join"]


def test_direct_backend_by_string():
    wf, order = _fan(backend="direct")
    wf.execute("start")
    assert order == ["start", "b", "c", "d", "join"]


# --- groups and retries ----------------------------------------------------------------------


def test_group_can_be_retried_as_a_whole():
    attempts = []
    with workflow("retry_group") as wf:

        @task
        def flaky():
            attempts.append("flaky")
            if len(attempts) == 1:
                raise RuntimeError("first attempt fails")
            return "ok"

        @task
        def steady():
            return "steady"

        g = flaky | steady
    ctx = ExecutionContext.create(wf.graph, g.task_id)
    ctx.retry_controller.set_node_max_retries(g.task_id, 1)
    WorkflowEngine().execute(ctx)
    assert attempts == ["flaky", "flaky"]
    assert ctx.get_result("flaky") == "ok"


def test_group_error_is_graflow_runtime_error():
    assert issubclass(ParallelGroupError, GraflowRuntimeError)
