"""A graflow workflow as a LangChain Runnable, and LangChain callbacks seeing task boundaries."""

from __future__ import annotations

import asyncio

import pytest
from graflow_langchain import LangChainCallbacks, WorkflowRunnable, as_runnable, langchain_task
from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_test_helpers import ChainRecorder

from graflow_core import task, workflow
from graflow_core.exceptions import ConfigError, GraflowRuntimeError


def _review_workflow(model: Runnable):  # type: ignore[no-untyped-def]
    """draft (a langchain task) >> (score | length) >> verdict."""
    with workflow("review") as wf:
        draft = langchain_task(
            ChatPromptTemplate.from_messages([("human", "Write about {topic}")])
            | model
            | StrOutputParser(),
            id="draft",
        )

        @task
        def score(draft: str) -> int:
            return len(draft.split())

        @task
        def length(draft: str) -> int:
            return len(draft)

        @task
        def verdict(draft: str, score: int, length: int) -> str:
            return f"{draft} [{score} words, {length} chars]"

        draft >> (score | length) >> verdict
    return wf


def test_invoke_batch_ainvoke_abatch() -> None:
    model = FakeListChatModel(responses=["short text"])
    runnable = WorkflowRunnable(_review_workflow(model))
    assert isinstance(runnable, Runnable)
    assert runnable.get_name() == "review"
    assert runnable.invoke({"topic": "owls"}) == "short text [2 words, 10 chars]"
    assert (
        runnable.batch([{"topic": "a"}, {"topic": "b"}, {"topic": "c"}])
        == ["short text [2 words, 10 chars]"] * 3
    )
    assert asyncio.run(runnable.ainvoke({"topic": "owls"})) == "short text [2 words, 10 chars]"
    assert (
        asyncio.run(runnable.abatch([{"topic": "x"}, {"topic": "y"}]))
        == ["short text [2 words, 10 chars]"] * 2
    )


def test_inside_an_lcel_chain_prompt_workflow_parser() -> None:
    with workflow("answer") as wf:

        @task
        def normalize(input):  # type: ignore[no-untyped-def]  # the chain's value
            return [m.content.strip().lower() for m in input.to_messages()]

        reply = langchain_task(
            RunnableLambda(lambda texts: " / ".join(texts))
            | GenericFakeChatModel(messages=iter([AIMessage(content="FORTY-TWO")])),
            id="reply",
        )
        normalize >> reply

    prompt = ChatPromptTemplate.from_messages(
        [("system", "  Be brief  "), ("human", "What is {q}?")]
    )
    chain = prompt | as_runnable(wf) | StrOutputParser()
    assert chain.invoke({"q": "The Answer"}) == "FORTY-TWO"
    assert wf.graph.get_node("normalize").func  # the workflow itself is unchanged


def test_output_selection_and_bad_arguments() -> None:
    model = FakeListChatModel(responses=["one two three"])
    wf = _review_workflow(model)
    assert WorkflowRunnable(wf, output="score").invoke({"topic": "t"}) == 3
    assert WorkflowRunnable(wf, output=["score", "length"]).invoke({"topic": "t"}) == {
        "score": 3,
        "length": 13,
    }
    with pytest.raises(ConfigError, match="does not have"):
        WorkflowRunnable(wf, output="nope")
    with pytest.raises(ConfigError, match="needs a graflow workflow"):
        WorkflowRunnable(model)  # type: ignore[arg-type]


def test_callbacks_see_workflow_tasks_and_nested_runnables() -> None:
    recorder = ChainRecorder()
    model = FakeListChatModel(responses=["fine words"])
    runnable = WorkflowRunnable(_review_workflow(model))
    chain = RunnableLambda(lambda topic: {"topic": topic}).with_config(run_name="wrap") | runnable

    assert chain.invoke("owls", {"callbacks": [recorder]}) == "fine words [2 words, 10 chars]"

    workflow_run = recorder.run("review")
    assert recorder.parent_name(workflow_run) == "RunnableSequence"  # nested in the outer chain
    assert recorder.children(workflow_run) == ["draft", "ParallelGroup_1", "verdict"]
    group = recorder.run("ParallelGroup_1")
    assert sorted(recorder.children(group)) == ["length", "score"]  # members under their group
    draft = recorder.run("draft")
    assert recorder.children(draft) == ["RunnableSequence"]  # the task's Runnable
    assert recorder.metadata[draft]["graflow_task_id"] == "draft"
    assert recorder.inputs[recorder.run("verdict")] == {
        "draft": "fine words",
        "score": 2,
        "length": 10,
    }
    assert recorder.outputs[recorder.run("score")] == 2
    for name in ("review", "draft", "ParallelGroup_1", "score", "length", "verdict"):
        assert recorder.ended(recorder.run(name)) == "end", name
    # every start has exactly one end
    starts = [e[2] for e in recorder.events if e[0] == "start"]
    ends = [e[2] for e in recorder.events if e[0] in ("end", "error")]
    assert sorted(map(str, starts)) == sorted(map(str, ends))


def test_callbacks_see_errors_and_retried_attempts() -> None:
    recorder = ChainRecorder()
    attempts = {"n": 0}

    with workflow("fragile") as wf:

        @task(max_retries=1)
        def call_api(input: str) -> str:
            attempts["n"] += 1
            if attempts["n"] == 1:
                raise ConnectionError("timeout")
            return input.upper()

        @task
        def explode(call_api: str) -> None:
            raise ValueError(f"cannot parse {call_api}")

        call_api >> explode

    with pytest.raises(GraflowRuntimeError, match="cannot parse HELLO"):
        WorkflowRunnable(wf).invoke("hello", {"callbacks": [recorder]})
    first, second = recorder.runs_named("call_api")
    assert (recorder.ended(first), recorder.ended(second)) == ("error", "end")
    assert isinstance(recorder.errors[first], ConnectionError)
    assert recorder.ended(recorder.run("explode")) == "error"
    assert recorder.ended(recorder.run("fragile")) == "error"


def test_runnables_called_inside_function_tasks_nest_under_the_task() -> None:
    recorder = ChainRecorder()
    helper = RunnableLambda(lambda s: s + "!").with_config(run_name="helper")

    with workflow("manual") as wf:

        @task
        def by_hand(input: str) -> str:
            return helper.invoke(input)  # no config passed: inherited from the task

        @task
        def also(by_hand: str) -> str:
            return by_hand

        by_hand >> also

    assert WorkflowRunnable(wf).invoke("hey", {"callbacks": [recorder]}) == "hey!"
    assert recorder.parent_name(recorder.run("helper")) == "by_hand"


def test_langchain_callbacks_plugin_on_a_plain_execute() -> None:
    recorder = ChainRecorder()
    model = FakeListChatModel(responses=["plain run"])
    wf = _review_workflow(model)
    plugin = LangChainCallbacks([recorder], tags=["batch-job"], run_name="nightly-review")
    result = wf.execute(initial_channel={"topic": "x"}, plugins=[plugin])
    assert result == "plain run [2 words, 9 chars]"
    root = recorder.run("nightly-review")
    assert recorder.parents[root] is None
    assert recorder.children(root) == ["draft", "ParallelGroup_1", "verdict"]
    assert recorder.ended(root) == "end"


def test_no_callbacks_no_plugin() -> None:
    """Without callbacks the run gets no extra plugin (tasks keep the engine's fast path)."""
    captured = {}

    with workflow("quiet") as wf:

        @task(inject_context=True)
        def look(ctx, input: str) -> str:  # type: ignore[no-untyped-def]
            captured["plugins"] = ctx.execution_context._plugins
            return input

    assert WorkflowRunnable(wf).invoke("x") == "x"
    assert captured["plugins"] == ()


def test_async_calls_report_to_callbacks_too() -> None:
    recorder = ChainRecorder()
    model = FakeListChatModel(responses=["async words"])
    runnable = WorkflowRunnable(_review_workflow(model))
    results = asyncio.run(
        runnable.abatch([{"topic": "a"}, {"topic": "b"}], {"callbacks": [recorder]})
    )
    assert results == ["async words [2 words, 11 chars]"] * 2
    runs = recorder.runs_named("review")
    assert len(runs) == 2
    for run in runs:
        assert recorder.children(run) == ["draft", "ParallelGroup_1", "verdict"]
        assert recorder.ended(run) == "end"


def test_run_config_reaches_langchain_tasks_in_parallel_members() -> None:
    def who(value: str, config) -> str:  # type: ignore[no-untyped-def]
        return f"{value}:{config['configurable'].get('user')}:{','.join(config['tags'])}"

    with workflow("configured") as wf:

        @task
        def start(input: str) -> str:
            return input

        left = langchain_task(RunnableLambda(who), id="left")
        right = langchain_task(RunnableLambda(who), id="right")

        @task
        def both(left: str, right: str) -> list[str]:
            return [left, right]

        start >> (left | right) >> both

    config = {"configurable": {"user": "ada"}, "tags": ["t1"]}
    assert WorkflowRunnable(wf).invoke("x", config) == ["x:ada:t1", "x:ada:t1"]


def test_a_workflow_runnable_as_a_task_of_another_workflow() -> None:
    recorder = ChainRecorder()

    with workflow("inner") as inner:

        @task
        def double(input: int) -> int:
            return input * 2

        @task
        def plus_one(double: int) -> int:
            return double + 1

        double >> plus_one

    with workflow("outer") as outer:

        @task
        def seed() -> int:
            return 20

        sub = langchain_task(WorkflowRunnable(inner), id="sub")

        @task
        def done(sub: int) -> str:
            return f"got {sub}"

        seed >> sub >> done

    assert WorkflowRunnable(outer).invoke(None, {"callbacks": [recorder]}) == "got 41"
    assert recorder.parent_name(recorder.run("inner")) == "sub"
    assert recorder.children(recorder.run("inner")) == ["double", "plus_one"]
    assert recorder.children(recorder.run("outer")) == ["seed", "sub", "done"]


def test_astream_events_show_task_boundaries() -> None:
    with workflow("events") as wf:

        @task
        def add(input: int) -> int:
            return input + 1

        dbl = langchain_task(RunnableLambda(lambda x: x * 2).with_config(run_name="dbl"), id="b")
        add >> dbl

    async def collect() -> list[tuple[str, str]]:
        return [
            (event["event"], event["name"])
            async for event in WorkflowRunnable(wf).astream_events(1, version="v2")
        ]

    assert asyncio.run(collect()) == [
        ("on_chain_start", "events"),
        ("on_chain_start", "add"),
        ("on_chain_end", "add"),
        ("on_chain_start", "b"),
        ("on_chain_start", "dbl"),
        ("on_chain_end", "dbl"),
        ("on_chain_end", "b"),
        ("on_chain_end", "events"),
    ]
