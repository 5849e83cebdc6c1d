"""The ``langchain`` task type with real langchain-core Runnables and fake chat models."""

from __future__ import annotations

import inspect
import threading

import pytest
from graflow_langchain import LangChainInputError, langchain_task
from langchain_core.language_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel

from graflow_core import task, workflow
from graflow_core.exceptions import ConfigError, GraflowRuntimeError


def _echo_prompt() -> ChatPromptTemplate:
    return ChatPromptTemplate.from_messages(
        [("system", "Answer in {style}."), ("human", "{question}")]
    )


def test_prompt_fields_resolve_from_upstream_task_results() -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content="Paris")]))
    seen: list[object] = []
    spy = RunnableLambda(lambda value: seen.append(value) or value)

    with workflow("qa") as wf:

        @task
        def question() -> str:
            return "Capital of France?"

        @task
        def style() -> str:
            return "one word"

        answer = task(id="answer", type="langchain")(
            _echo_prompt() | spy | model | StrOutputParser()
        )

        @task
        def shout(answer: str) -> str:
            return answer.upper()

        question >> style >> answer >> shout

    assert answer.task_type == "langchain"
    assert list(inspect.signature(answer.func).parameters) == ["question", "style"]
    result, ctx = wf.execute(ret_context=True)
    assert result == "PARIS"
    assert ctx.get_result("answer") == "Paris"
    (prompt_value,) = seen
    assert [m.content for m in prompt_value.to_messages()] == [  # type: ignore[attr-defined]
        "Answer in one word.",
        "Capital of France?",
    ]


def test_missing_fields_come_from_a_dict_upstream_result_or_fail_clearly() -> None:
    model = FakeListChatModel(responses=["ok"])

    with workflow("dict-upstream") as wf:

        @task
        def build() -> dict[str, str]:
            return {"question": "Why?", "style": "haiku"}

        reply = langchain_task(_echo_prompt() | model | StrOutputParser(), id="reply")
        build >> reply

    assert wf.execute() == "ok"

    with workflow("missing") as wf2:

        @task
        def partial() -> dict[str, str]:
            return {"question": "Why?"}

        broken = langchain_task(_echo_prompt() | model, id="broken")
        partial >> broken

    with pytest.raises(GraflowRuntimeError) as info:
        wf2.execute()
    cause = info.value.__cause__
    assert isinstance(cause, LangChainInputError)
    assert "Task 'broken'" in str(cause) and "'style'" in str(cause)
    assert "upstream task 'partial'" in str(cause)


def test_single_upstream_several_upstreams_group_and_workflow_input() -> None:
    with workflow("shapes") as wf:

        @task
        def numbers() -> list[int]:
            return [3, 1, 2]

        total = langchain_task(RunnableLambda(sum), id="total")

        @task
        def biggest(numbers: list[int]) -> int:
            return max(numbers)

        pair = langchain_task(RunnableLambda(lambda d: sorted(d.items())), id="pair")
        numbers >> (total | biggest) >> pair

    assert wf.execute() == [("biggest", 3), ("total", 6)]

    with workflow("start-reads-input") as wf2:
        first = langchain_task(RunnableLambda(lambda text: text[::-1]), id="first")

    assert wf2.execute(initial_channel={"input": "abc"}) == "cba"
    with pytest.raises(GraflowRuntimeError) as info:
        wf2.execute()
    assert "no upstream task and the channel has no 'input' key" in str(info.value.__cause__)
    del first


def test_join_of_several_predecessors_is_a_dict() -> None:
    with workflow("join") as wf:

        @task
        def a() -> int:
            return 1

        @task
        def b() -> int:
            return 2

        start = task(id="start")(lambda: None)
        both = langchain_task(RunnableLambda(lambda d: d["a"] + d["b"]), id="both")
        start >> a >> both
        start >> b >> both

    assert wf.execute(start_node="start") == 3


def test_input_and_inputs_options_and_bound_values() -> None:
    with workflow("options") as wf:

        @task
        def text() -> str:
            return "graflow"

        pick = langchain_task(RunnableLambda(lambda s: s.title()), id="pick", input="text")
        fmt = langchain_task(
            RunnableLambda(lambda d: f"{d['name']}@{d['env']}"),
            id="fmt",
            inputs={"name": "pick", "env": "env"},
        )
        text >> pick >> fmt

    assert wf.execute(initial_channel={"env": "prod"}) == "Graflow@prod"
    assert fmt.type_options == {"inputs": {"name": "pick", "env": "env"}}

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute()
    assert "names 'env', but there is no task result 'env.__result__'" in str(info.value.__cause__)

    greet = langchain_task(RunnableLambda(lambda d: f"hi {d['who']}"), id="greet")
    with workflow("bound") as wf2:
        instance = greet(task_id="greet_bob", who="bob")
        assert instance.task_type == "langchain"
    assert wf2.execute() == "hi bob"


class Point(BaseModel):
    x: int
    y: int


def test_pydantic_input_type_is_built_from_fields() -> None:
    def norm(p: Point) -> int:
        return abs(p.x) + abs(p.y)

    with workflow("typed") as wf:

        @task
        def x() -> int:
            return -2

        @task
        def y() -> int:
            return 5

        # with_types: this module's postponed annotations hide Point from LangChain
        dist = langchain_task(RunnableLambda(norm).with_types(input_type=Point), id="dist")
        x >> y >> dist

    assert wf.execute() == 7


def test_batch_option_and_a_parallel_group_over_the_same_list() -> None:
    calls: list[str] = []
    lock = threading.Lock()

    def record(tag: str):  # type: ignore[no-untyped-def]
        def fn(text: str) -> str:
            with lock:
                calls.append(f"{tag}:{text}")
            return f"{tag}({text})"

        return RunnableLambda(fn)

    model = FakeListChatModel(responses=["S"])
    with workflow("batch") as wf:

        @task
        def docs() -> list[str]:
            return ["a", "b", "c"]

        summarize = langchain_task(
            ChatPromptTemplate.from_messages([("human", "{doc}")]).with_types(input_type=str)
            | model
            | StrOutputParser(),
            id="summarize",
            batch=True,
            max_concurrency=2,
        )
        upper = langchain_task(record("up"), id="upper", batch=True)
        tag = langchain_task(record("tag"), id="tag", batch=True)

        @task
        def combine(summarize: list[str], upper: list[str], tag: list[str]) -> list[str]:
            return [f"{s}|{u}|{t}" for s, u, t in zip(summarize, upper, tag, strict=True)]

        docs >> (summarize | upper | tag) >> combine

    # a single-variable prompt: the string becomes its one variable, element by element
    assert wf.execute() == [
        "S|up(a)|tag(a)",
        "S|up(b)|tag(b)",
        "S|up(c)|tag(c)",
    ]
    assert sorted(calls) == sorted([f"{t}:{d}" for t in ("up", "tag") for d in "abc"])

    with workflow("batch-not-list") as wf2:

        @task
        def one() -> str:
            return "x"

        each = langchain_task(RunnableLambda(str.upper), id="each", batch=True)
        one >> each

    with pytest.raises(GraflowRuntimeError) as info:
        wf2.execute()
    assert "batch=True) needs a list input, got str" in str(info.value.__cause__)


def test_option_validation() -> None:
    runnable = RunnableLambda(lambda x: x)
    with pytest.raises(ConfigError, match="unknown type_options"):
        task(id="t", type="langchain", type_options={"inputz": ["a"]})(runnable)
    with pytest.raises(ConfigError, match="'input' or 'inputs', not both"):
        langchain_task(runnable, id="t", input="a", inputs=["b"])
    with pytest.raises(ConfigError, match="must be a non-empty list"):
        langchain_task(runnable, id="t", inputs=[])
    with pytest.raises(ConfigError, match="max_concurrency"):
        langchain_task(runnable, id="t", batch=True, max_concurrency=0)
    with pytest.raises(ConfigError, match="unknown keys \\['callbacks'\\]"):
        langchain_task(runnable, id="t", config={"callbacks": []})
    with pytest.raises(ConfigError, match="needs a LangChain Runnable"):
        task(id="t", type="langchain")(42)


def test_config_option_reaches_the_runnable_and_retries_apply() -> None:
    attempts: list[dict] = []  # type: ignore[type-arg]

    def flaky(value: int, config) -> int:  # type: ignore[no-untyped-def]
        attempts.append(dict(config.get("metadata", {})) | {"tags": config.get("tags")})
        if len(attempts) == 1:
            raise ConnectionError("rate limited")
        return value * 10

    with workflow("cfg") as wf:

        @task
        def seed() -> int:
            return 4

        call = langchain_task(
            RunnableLambda(flaky),
            id="call",
            config={"tags": ["nightly"], "metadata": {"owner": "ml"}},
            max_retries=1,
        )
        seed >> call

    assert wf.execute() == 40
    assert len(attempts) == 2
    assert attempts[1] == {
        "owner": "ml",
        "graflow_task_id": "call",
        "graflow_workflow": "cfg",
        "tags": ["nightly"],
    }


def test_entry_point_registers_the_type_and_no_run_hooks() -> None:
    from graflow_langchain import LangChainTaskType

    from graflow_core.core.task_types import get_task_type
    from graflow_core.plugins import get_plugin_manager

    manager = get_plugin_manager()
    plugin = manager.get_plugin("langchain")
    assert plugin is not None
    hooks = {caller.name for caller in manager.get_hookcallers(plugin) or []}
    assert hooks == {"register_task_types", "diagnose"}  # no run hook
    assert isinstance(get_task_type("langchain"), LangChainTaskType)


def test_factories_give_an_importable_spec_that_loads_and_runs() -> None:
    import langchain_test_flows as flows

    from graflow_core.spec import WorkflowSpec, build_spec, load_workflow

    assert flows.wf.execute() == "A CITY IN FRANCE"
    spec = build_spec(flows.wf)
    describe = next(t for t in spec.tasks if t.id == "describe")
    assert (describe.ref, describe.task_type) == ("langchain_test_flows:describe", "langchain")
    shout = next(t for t in spec.tasks if t.id == "shout")
    assert shout.type_options == {"config": {"tags": ["spec"]}}
    loaded = load_workflow(WorkflowSpec.from_json(spec.to_json()))
    assert loaded.execute() == "A CITY IN FRANCE"

    with pytest.raises(ConfigError, match="returned 42"):
        task(id="bad", type="langchain")(lambda: 42)


def test_langchain_tasks_survive_pickling_like_a_checkpoint() -> None:
    import cloudpickle

    from graflow_core.core.engine import WorkflowEngine

    with workflow("pickled") as wf:
        ask = langchain_task(
            ChatPromptTemplate.from_messages([("human", "{x}")])
            | FakeListChatModel(responses=["pong"]),
            id="ask",
        )
        read = langchain_task(RunnableLambda(lambda message: message.content), id="read")
        ask >> read

    ctx = wf.create_execution_context(initial_channel={"x": "ping"})
    restored = cloudpickle.loads(cloudpickle.dumps(ctx))
    assert WorkflowEngine().execute(restored) == "pong"
