"""workflow()/WorkflowContext (§1.5), TaskGraph (§1.6), ExecutionContext and
TaskExecutionContext (§1.7, §1.8)."""

from __future__ import annotations

import random
import re

import pytest

from graflow_core.core.context import ExecutionContext, TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.graph import TaskGraph
from graflow_core.core.task import ParallelGroup, Task
from graflow_core.core.workflow import (
    WorkflowContext,
    clear_workflow_context,
    current_workflow_context,
    get_current_workflow_context,
    require_workflow_context,
    set_current_workflow_context,
    workflow,
)
from graflow_core.exceptions import DuplicateTaskError, GraflowRuntimeError, GraphCompilationError

pytestmark = pytest.mark.usefixtures("chdir_tmp")


# --- workflow() and the current context ------------------------------------------------------


def test_workflow_returns_context():
    wf = workflow("named")
    assert isinstance(wf, WorkflowContext)
    assert wf.name == "named"
    assert isinstance(wf.graph, TaskGraph)
    assert list(wf.graph.nodes) == []


def test_enter_sets_and_exit_resets_current():
    assert get_current_workflow_context() is None
    with workflow("outer") as outer:
        assert get_current_workflow_context() is outer
        with workflow("inner") as inner:
            assert get_current_workflow_context() is inner
        assert get_current_workflow_context() is outer
    assert get_current_workflow_context() is None


def test_get_current_create_if_not_exist():
    assert get_current_workflow_context() is None
    created = get_current_workflow_context(create_if_not_exist=True)
    assert isinstance(created, WorkflowContext)
    assert get_current_workflow_context() is created


def test_current_workflow_context_autocreates():
    ctx = current_workflow_context()
    assert isinstance(ctx, WorkflowContext)
    assert current_workflow_context() is ctx
    clear_workflow_context()
    assert get_current_workflow_context() is None


def test_require_workflow_context_raises_without_one():
    with pytest.raises(GraflowRuntimeError):
        require_workflow_context()
    with workflow("r") as wf:
        assert require_workflow_context() is wf


def test_set_current_workflow_context():
    wf = WorkflowContext("manual")
    set_current_workflow_context(wf)
    assert get_current_workflow_context() is wf

    @task
    def registered_here():
        return 1

    assert "registered_here" in wf.graph.nodes


def test_operator_outside_block_creates_global_context():
    a = Task("a")
    b = Task("b")
    a >> b
    ctx = get_current_workflow_context()
    assert ctx is not None
    assert ("a", "b") in set(ctx.graph.edges)


# --- execute() -------------------------------------------------------------------------------


def _linear():
    with workflow("linear") as wf:

        @task
        def first():
            return 1

        @task
        def second(first):
            return first + 1

        @task
        def third(second):
            return second * 10

        first >> second >> third
    return wf


def test_execute_autodetects_single_start():
    wf = _linear()
    assert wf.execute() == 20


def test_execute_explicit_start():
    wf = _linear()
    assert wf.execute("first") == 20


def test_execute_start_in_middle():
    wf = _linear()
    with pytest.raises(GraflowRuntimeError):
        # 'second' needs 'first' which never ran: missing argument -> wrapped TypeError
        wf.execute("second")


def test_execute_ret_context():
    wf = _linear()
    out = wf.execute("first", ret_context=True)
    assert isinstance(out, tuple) and len(out) == 2
    result, ctx = out
    assert result == 20
    assert isinstance(ctx, ExecutionContext)
    assert ctx.graph is wf.graph
    assert ctx.start_node == "first"
    assert ctx.completed_tasks == ["first", "second", "third"]
    assert ctx.steps == 3
    assert ctx.get_result("second") == 2


def test_execute_initial_channel():
    with workflow("init") as wf:

        @task
        def greet(name, punctuation="."):
            return f"hello {name}{punctuation}"

    assert wf.execute("greet", initial_channel={"name": "bob"}) == "hello bob."
    result, ctx = wf.execute(
        "greet", initial_channel={"name": "amy", "punctuation": "!"}, ret_context=True
    )
    assert result == "hello amy!"
    assert ctx.get_channel().get("name") == "amy"


def test_each_execute_uses_fresh_context():
    wf = _linear()
    _, c1 = wf.execute("first", ret_context=True)
    _, c2 = wf.execute("first", ret_context=True)
    assert c1 is not c2
    assert c1.session_id != c2.session_id
    assert c2.steps == 3


def test_execute_defaults_of_fresh_context():
    wf = _linear()
    _, ctx = wf.execute(ret_context=True)
    assert ctx.max_steps == 10000
    assert ctx.cycle_controller.default_max_cycles == 10
    assert ctx.retry_controller.default_max_retries == 0


def test_execute_max_steps_passed_through():
    wf = _linear()
    _, ctx = wf.execute("first", max_steps=5, ret_context=True)
    assert ctx.max_steps == 5


def test_execute_no_start_candidates():
    with workflow("empty") as wf:
        pass
    with pytest.raises(GraphCompilationError, match="No start node"):
        wf.execute()


def test_execute_pure_cycle_has_no_start_candidates():
    with workflow("cyc") as wf:
        a, b = Task("a"), Task("b")
        a >> b >> a
    with pytest.raises(GraphCompilationError):
        wf.execute()


def test_execute_group_as_start_node_filters_members():
    order = []
    with workflow("gstart") as wf:

        @task
        def a():
            order.append("a")

        @task
        def b():
            order.append("b")

        @task
        def end():
            order.append("end")
            return "done"

        (a | b) >> end
    assert wf.execute() == "done"
    assert sorted(order[:2]) == ["a", "b"]
    assert order[2:] == ["end"]


def test_show_info_output(capsys):
    with workflow("info_wf") as wf:
        a, b = Task("a"), Task("b")
        a >> b
    wf.show_info()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "=== Workflow 'info_wf' Information ==="
    assert lines[-1] == "No cycles detected"


def test_show_info_reports_cycles(capsys):
    with workflow("loop_wf") as wf:
        a, b = Task("a"), Task("b")
        a >> b >> a
    wf.show_info()
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "=== Workflow 'loop_wf' Information ==="
    last = out.strip().splitlines()[-1]
    assert last.startswith("Cycles detected: ")
    assert "'a'" in last and "'b'" in last


def test_visualize_dependencies_output(capsys):
    with workflow("deps") as wf:
        a, b, c = Task("a"), Task("b"), Task("c")
        a >> b
        a >> c
    wf.visualize_dependencies()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "=== Workflow 'deps' Dependencies ==="
    assert lines[1:] == ["a >> b >> c", "b (no dependencies)", "c (no dependencies)"]


def test_register_llm_agent_factory_receives_execution_context():
    seen = {}

    class FakeAgent:
        name = "fake"

    def factory(exec_ctx):
        seen["ctx"] = exec_ctx
        return FakeAgent()

    with workflow("agents") as wf:
        wf.register_llm_agent("helper", factory)

        @task(inject_llm_agent="helper")
        def ask(llm_agent, question="?"):
            return type(llm_agent).__name__, question

    result, ctx = wf.execute("ask", ret_context=True, initial_channel={"question": "why"})
    assert result == ("FakeAgent", "why")
    assert seen["ctx"] is ctx


def test_missing_llm_agent_raises_runtime_error():
    with workflow("noagent") as wf:

        @task(inject_llm_agent="absent")
        def ask(llm_agent):
            return 1

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("ask")
    assert isinstance(info.value.cause, RuntimeError)
    assert "absent" in str(info.value)


def test_workflow_helpers():
    wf = WorkflowContext("helpers")
    a = Task("a", register_to_context=False)
    b = Task("b", register_to_context=False)
    wf.add_node("a", a)
    wf.add_node("b", b)
    wf.add_node("a", a, skip_if_exists=True)
    with pytest.raises(DuplicateTaskError):
        wf.add_node("a", a)
    wf.add_edge("a", "b")
    assert set(wf.graph.edges) == {("a", "b")}
    assert wf.get_next_group_name() == "ParallelGroup_1"
    assert wf.get_next_group_name() == "ParallelGroup_2"
    wf.rename_node("b", "bee")
    assert set(wf.graph.edges) == {("a", "bee")}
    wf.clear()
    assert list(wf.graph.nodes) == []
    assert wf.get_next_group_name() == "ParallelGroup_1"


def test_redis_client_accessors():
    wf = WorkflowContext("r")
    assert wf.get_redis_client() is None
    sentinel = object()
    wf.set_redis_client(sentinel)
    assert wf.get_redis_client() is sentinel


def test_graph_is_shared_with_execution():
    wf = _linear()
    _, ctx = wf.execute(ret_context=True)
    assert ctx.graph is wf.graph


# --- TaskGraph -------------------------------------------------------------------------------


def _graph(*names):
    g = TaskGraph()
    tasks = {n: Task(n, register_to_context=False) for n in names}
    for n, t in tasks.items():
        g.add_node(t, n)
    return g, tasks


def test_graph_add_node_and_get_node():
    g, tasks = _graph("a", "b")
    assert g.get_node("a") is tasks["a"]
    assert g.has_node("a")
    assert not g.has_node("zzz")
    assert "a" in g.nodes
    assert sorted(g.nodes.keys()) == ["a", "b"]


def test_graph_add_node_default_id():
    g = TaskGraph()
    t = Task("auto", register_to_context=False)
    g.add_node(t)
    assert g.get_node("auto") is t


def test_graph_duplicate_node():
    g, tasks = _graph("a")
    with pytest.raises(DuplicateTaskError, match="a"):
        g.add_node(tasks["a"], "a")
    g.add_node(tasks["a"], "a", skip_if_exists=True)
    assert list(g.nodes) == ["a"]


def test_graph_get_node_missing_raises_key_error():
    g, _ = _graph("a")
    with pytest.raises(KeyError):
        g.get_node("missing")


def test_graph_edges_successors_predecessors():
    g, _ = _graph("a", "b", "c")
    g.add_edge("a", "b")
    g.add_edge("a", "c")
    g.add_edge("b", "c")
    assert set(g.edges) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert sorted(g.get_edges()) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert g.successors("a") == ["b", "c"]
    assert g.predecessors("c") == ["a", "b"]
    assert g.successors("c") == []
    assert isinstance(g.successors("a"), list)
    assert isinstance(g.predecessors("a"), list)


def test_graph_successors_in_insertion_order():
    g, _ = _graph("s", "z", "m", "a")
    g.add_edge("s", "z")
    g.add_edge("s", "m")
    g.add_edge("s", "a")
    assert g.successors("s") == ["z", "m", "a"]


def test_graph_start_nodes():
    g, _ = _graph("a", "b", "c", "d")
    g.add_edge("a", "b")
    g.add_edge("c", "d")
    assert g.get_start_nodes() == ["a", "c"]


def test_graph_group_members_and_lookup():
    with workflow("members") as wf:
        a, b, c = Task("a"), Task("b"), Task("c")
        g = a | b
        g >> c
    graph = wf.graph
    assert graph.get_parallel_group_members(g.task_id) == ["a", "b"]
    assert graph.get_parallel_group_members("c") == []
    assert graph.get_parallel_group_members("nope") == []
    assert graph.get_start_nodes() == [g.task_id]
    assert graph.get_node("a") is a
    assert graph.has_node("a")
    assert isinstance(graph.get_node(g.task_id), ParallelGroup)


def test_graph_member_not_registered_still_found():
    with workflow("unreg") as wf:
        x = Task("x", register_to_context=False)
        y = Task("y", register_to_context=False)
        g = ParallelGroup([x, y])
    assert "x" not in wf.graph.nodes
    assert wf.graph.has_node("x")
    assert wf.graph.get_node("y") is y
    assert wf.graph.get_parallel_group_members(g.task_id) == ["x", "y"]


def test_graph_detect_cycles():
    g, _ = _graph("a", "b", "c")
    g.add_edge("a", "b")
    assert g.detect_cycles() == []
    g.add_edge("b", "a")
    cycles = g.detect_cycles()
    assert len(cycles) == 1
    assert sorted(cycles[0]) == ["a", "b"]


def test_graph_clear_and_rename():
    g, tasks = _graph("a", "b")
    g.add_edge("a", "b")
    g.rename_node("a", "alpha")
    assert set(g.edges) == {("alpha", "b")}
    assert g.get_node("alpha") is tasks["a"]
    with pytest.raises(KeyError):
        g.rename_node("nope", "x")
    with pytest.raises(ValueError):
        g.rename_node("alpha", "b")
    g.clear()
    assert list(g.nodes) == []
    assert list(g.edges) == []


def test_graph_rename_keeps_order_edges_and_self_loops():
    """Renaming patches only the neighbours, with the same outcome as rebuilding everything."""
    rng = random.Random(7)
    for _ in range(500):
        n = rng.randint(1, 8)
        ids = [f"t{i}" for i in range(n)]
        g, _tasks = _graph(*ids)
        for _edge in range(rng.randint(0, 16)):
            g.add_edge(rng.choice(ids), rng.choice(ids))
        old = rng.choice(ids)
        new_id = {k: ("NEW" if k == old else k) for k in ids}
        want_nodes = [new_id[k] for k in g.nodes]
        want_succ = {new_id[k]: [new_id[s] for s in g.successors(k)] for k in ids}
        want_pred = {new_id[k]: [new_id[p] for p in g.predecessors(k)] for k in ids}
        g.rename_node(old, "NEW")
        assert list(g.nodes) == want_nodes
        assert {k: list(g.successors(k)) for k in want_nodes} == want_succ
        assert {k: list(g.predecessors(k)) for k in want_nodes} == want_pred


def test_graph_str_is_text():
    g, _ = _graph("a", "b")
    g.add_edge("a", "b")
    assert isinstance(str(g), str)


# --- ExecutionContext ------------------------------------------------------------------------


def test_execution_context_create_defaults():
    g, _ = _graph("a", "b")
    g.add_edge("a", "b")
    ctx = ExecutionContext.create(g, "a")
    assert re.fullmatch(r"[0-9a-f]{32}", ctx.session_id)
    assert ctx.trace_id == ctx.session_id
    assert ctx.graph is g
    assert ctx.start_node == "a"
    assert ctx.max_steps == 10000
    assert ctx.steps == 0
    assert ctx.completed_tasks == []
    assert ctx.parent_context is None
    assert ctx.cycle_controller.default_max_cycles == 10
    assert ctx.retry_controller.default_max_retries == 0
    assert ctx.checkpoint_requested is False
    assert ctx.checkpoint_metadata == {}
    assert ctx.last_checkpoint_path is None
    assert ctx.queue is ctx.task_queue


def test_execution_context_create_picks_first_start_node():
    g, _ = _graph("a", "b", "c")
    g.add_edge("a", "c")
    ctx = ExecutionContext.create(g)
    assert ctx.start_node == "a"


def test_execution_context_queue_starts_with_start_node():
    g, tasks = _graph("a", "b")
    ctx = ExecutionContext.create(g, "a")
    assert ctx.is_completed() is False
    assert ctx.get_next_task() == "a"
    assert ctx.get_next_task() is None
    assert ctx.is_completed() is True
    ctx.add_to_queue(tasks["b"])
    ctx.add_to_queue(tasks["a"])
    assert ctx.get_next_task() == "b"
    assert ctx.get_next_task() == "a"


def test_execution_context_results_and_channel():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    sentinel = object()
    assert ctx.get_result("a") is None
    assert ctx.get_result("a", sentinel) is sentinel
    ctx.set_result("a", None)
    assert ctx.get_result("a", sentinel) is None
    assert ctx.get_channel().exists("a.__result__")
    ctx.set_result("a", 42)
    assert ctx.get_channel().get("a.__result__") == 42
    assert ctx.channel is ctx.get_channel()


def test_execution_context_increment_and_completion():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    ctx.increment_step()
    assert ctx.steps == 1
    ctx.mark_task_completed("a")
    ctx.mark_task_completed("a")
    ctx.mark_task_completed("b")
    assert ctx.completed_tasks == ["a", "b"]


def test_execution_context_task_context_stack():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    assert ctx.current_task_context is None
    assert ctx.current_task_id is None
    tctx = ctx.create_task_context("a")
    assert isinstance(tctx, TaskExecutionContext)
    assert tctx.task_id == "a"
    assert tctx.execution_context is ctx
    ctx.push_task_context(tctx)
    assert ctx.current_task_context is tctx
    assert ctx.current_task_id == "a"
    assert ctx.pop_task_context() is tctx
    assert ctx.current_task_context is None


def test_execution_context_executing_task():
    g, tasks = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    with ctx.executing_task(tasks["a"]) as tctx:
        assert isinstance(tctx, TaskExecutionContext)
        assert ctx.current_task_context is tctx
        assert tctx.cycle_count == 1
    assert ctx.current_task_context is None
    assert ctx.cycle_controller.get_cycle_count("a") == 1


def test_execution_context_control_flags_reset():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    assert not ctx.goto_called and not ctx.terminate_called and not ctx.cancel_called
    ctx.terminate_workflow("bye")
    assert ctx.terminate_called
    assert ctx.ctrl_message == "bye"
    ctx.reset_control_flags()
    assert not ctx.terminate_called
    ctx.cancel_workflow("no")
    assert ctx.cancel_called
    ctx.reset_control_flags()
    assert not ctx.cancel_called


def test_execution_context_execute_method():
    wf = _linear()
    ctx = ExecutionContext.create(wf.graph, "first")
    assert ctx.execute() == 20
    assert ctx.completed_tasks == ["first", "second", "third"]


def test_branch_context():
    g, _ = _graph("a", "b")
    ctx = ExecutionContext.create(g, "a")
    ctx.get_channel().set("shared", [1])
    branch = ctx.create_branch_context("b")
    assert branch.session_id == f"{ctx.session_id}_b"
    assert branch.trace_id == ctx.trace_id
    assert branch.parent_context is ctx
    assert branch.graph is g
    assert branch.get_channel() is not ctx.get_channel()
    assert branch.get_channel().get("shared") == [1]
    branch.get_channel().set("new_key", "v")
    branch.steps = 2
    branch.cycle_controller.cycle_counts["b"] = 1
    ctx.merge_results(branch)
    assert ctx.get_channel().get("new_key") == "v"
    assert ctx.steps == 2
    assert ctx.cycle_controller.get_cycle_count("b") == 1
    ctx.mark_branch_completed("b")  # no-op


def test_get_checkpoint_state_fields():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    state = ctx.get_checkpoint_state()
    assert state["schema_version"] == "1.0"
    assert state["session_id"] == ctx.session_id
    assert state["trace_id"] == ctx.trace_id
    assert state["start_node"] == "a"
    assert state["steps"] == 0
    assert state["completed_tasks"] == []
    assert state["cycle_counts"] == {}
    assert state["backend"] == {"channel": "memory"}


def test_request_and_clear_checkpoint():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    ctx.request_checkpoint({"k": 1}, path="somewhere")
    assert ctx.checkpoint_requested is True
    assert ctx.checkpoint_request_metadata == {"k": 1}
    assert ctx.checkpoint_request_path == "somewhere"
    ctx.clear_checkpoint_request()
    assert ctx.checkpoint_requested is False
    assert ctx.checkpoint_request_metadata is None
    assert ctx.checkpoint_request_path is None


def test_save_and_load_roundtrip(tmp_path):
    wf = _linear()
    _, ctx = wf.execute(ret_context=True)
    path = str(tmp_path / "ctx.pkl")
    ctx.save(path)
    loaded = ExecutionContext.load(path)
    assert loaded.session_id == ctx.session_id
    assert loaded.steps == 3
    assert loaded.start_node == "first"
    assert loaded.get_result("third") == 20
    assert set(loaded.graph.nodes) == {"first", "second", "third"}


def test_llm_agent_registry_on_context():
    g, _ = _graph("a")
    ctx = ExecutionContext.create(g, "a")
    agent = object()
    ctx.register_llm_agent("x", agent)
    assert ctx.get_llm_agent("x") is agent
    with pytest.raises(KeyError):
        ctx.get_llm_agent("missing")


def test_create_execution_context_helper():
    from graflow_core.core.context import create_execution_context

    ctx = create_execution_context()
    assert ctx.start_node == "ROOT"
    assert ctx.max_steps == 10
    assert ctx.graph.has_node("ROOT")
    assert ctx.execute() is None


def test_nx_graph_is_a_networkx_snapshot():
    nx = pytest.importorskip("networkx")
    g, tasks = _graph("a", "b", "c")
    g.add_edge("a", "b")
    g.add_edge("b", "c")
    snapshot = g.nx_graph()
    assert isinstance(snapshot, nx.DiGraph)
    assert list(snapshot.edges) == [("a", "b"), ("b", "c")]
    assert snapshot.nodes["a"]["task"] is tasks["a"]
    assert list(g._graph.nodes) == ["a", "b", "c"]
    snapshot.add_edge("c", "a")
    assert ("c", "a") not in g.edges


def test_nx_graph_without_networkx_says_how_to_get_it(monkeypatch):
    import sys

    from graflow_core.exceptions import ConfigError

    monkeypatch.setitem(sys.modules, "networkx", None)
    g, _ = _graph("a")
    with pytest.raises(ConfigError, match="pip install networkx"):
        g.nx_graph()
