"""Context features the rest of the suite does not reach: typed channels from a task, LLM
client injection, custom channel backends, chains built inside a running task, iteration
retries, and the low-level helpers."""

from __future__ import annotations

from typing import Any, TypedDict

import pytest

from graflow_core.channels.factory import ChannelFactory
from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.core.context import ExecutionContext, TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.graph import TaskGraph
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import Task, TaskWrapper
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import ConfigError


class Point(TypedDict):
    x: int
    y: int


def test_typed_channel_from_a_task_validates_and_shares_the_run_channel():
    with workflow("typed") as wf:

        @task(inject_context=True)
        def write(ctx: TaskExecutionContext) -> None:
            points = ctx.get_typed_channel(Point)
            points.set("p", {"x": 1, "y": 2})
            with pytest.raises(TypeError):
                points.set("bad", {"x": "one", "y": 2})

        @task(inject_context=True)
        def read(ctx: TaskExecutionContext) -> Any:
            return ctx.get_typed_channel(Point).get("p"), ctx.get_channel().get("bad")

        write >> read
    assert wf.execute() == ({"x": 1, "y": 2}, None)


def test_llm_client_is_injected_from_the_context_and_branches_inherit_it():
    client = object()
    with workflow("llm") as wf:

        @task(inject_llm_client=True)
        def ask(llm_client: Any) -> Any:
            return llm_client

        @task(inject_context=True)
        def via_context(ctx: TaskExecutionContext) -> Any:
            return ctx.llm_client

        start = Task("start")
        start >> (ask | via_context)
    ctx = ExecutionContext.create(wf.graph, "start", llm_client=client)
    WorkflowEngine().execute(ctx)
    assert ctx.get_result("ask") is client
    assert ctx.get_result("via_context") is client


def test_missing_llm_client_is_a_clear_config_error():
    with workflow("nollm") as wf:

        @task(inject_llm_client=True)
        def ask(llm_client: Any) -> Any:
            return llm_client

    with pytest.raises(Exception) as info:
        wf.execute()
    assert isinstance(info.value.cause, ConfigError)
    assert "llm_client" in str(info.value)


class LoudChannel(MemoryChannel):
    """A registered custom backend: not the engine's MemoryChannel fast path."""

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, default)
        return value.upper() if isinstance(value, str) else value


def test_keyword_resolution_goes_through_a_custom_channel_backend():
    ChannelFactory.register_backend("loud", LoudChannel)
    with workflow("custom_channel") as wf:

        @task
        def first() -> str:
            return "hello"

        @task
        def second(first: str, name: str) -> str:
            return f"{first} {name}"

        first >> second
    ctx = ExecutionContext.create(wf.graph, "first", channel_backend="loud")
    ctx.channel.set("name", "world")
    assert WorkflowEngine().execute(ctx) == "HELLO WORLD"
    assert isinstance(ctx.channel, LoudChannel)


def test_a_chain_built_inside_a_running_task_runs_in_order_and_keeps_successors():
    order: list[str] = []

    def step(name: str) -> TaskWrapper:
        return TaskWrapper(name, lambda: order.append(name))

    with workflow("subflow") as wf:

        @task(inject_context=True)
        def plan(ctx: TaskExecutionContext) -> None:
            order.append("plan")
            ctx.next_task(step("fetch") >> step("parse") >> step("store"))

        after = step("after")
        plan >> after
    wf.execute()
    assert order == ["plan", "fetch", "after", "parse", "store"]
    assert ("fetch", "parse") in wf.graph.edges


def test_iterations_inherit_the_retry_policy_of_their_task(monkeypatch):
    monkeypatch.setattr("graflow_core.core.engine.time.sleep", lambda s: None)
    attempts: dict[int, int] = {}

    @task(inject_context=True, retry_policy=RetryPolicy(max_retries=1, initial_interval=0.5))
    def flaky(ctx: TaskExecutionContext, round_no: int = 0) -> int:
        attempts[round_no] = attempts.get(round_no, 0) + 1
        if attempts[round_no] == 1:
            raise ConnectionError("first attempt of each round fails")
        if round_no < 2:
            ctx.next_iteration(round_no + 1)
        return round_no

    with workflow("iter_retry") as wf:
        wf.add_node("flaky", flaky)
    assert wf.execute("flaky") == 2
    assert attempts == {0: 2, 1: 2, 2: 2}


def test_low_level_helpers():
    graph = TaskGraph()
    seen: list[str] = []
    graph.add_node(TaskWrapper("a", lambda: seen.append("a"), register_to_context=False))
    graph.add_node(TaskWrapper("b", lambda: seen.append("b"), register_to_context=False))
    graph.add_edge("a", "b")
    WorkflowEngine().execute_with_cycles(graph, "a", max_steps=5)
    assert seen == ["a", "b"]
    with pytest.raises(ConfigError, match="max_steps"):
        ExecutionContext(graph, "a", max_steps=0)
    ctx = ExecutionContext.create(graph, "a")
    assert "TaskExecutionContext(task_id=x" in str(TaskExecutionContext("x", ctx))
