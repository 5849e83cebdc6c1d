"""Automatic keyword-argument resolution from the channel and its priority order (§1.11)."""

from __future__ import annotations

import pytest

from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import GraflowRuntimeError

pytestmark = pytest.mark.usefixtures("chdir_tmp")


def test_result_key_preferred_over_plain_key():
    with workflow("prio") as wf:

        @task
        def value():
            return "from-result"

        @task
        def consumer(value):
            return value

        value >> consumer
    assert wf.execute("value", initial_channel={"value": "from-plain"}) == "from-result"


def test_plain_key_used_when_no_result():
    with workflow("plain") as wf:

        @task
        def consumer(city, country="JP"):
            return f"{city}/{country}"

    assert wf.execute("consumer", initial_channel={"city": "Tokyo"}) == "Tokyo/JP"


def test_none_counts_as_present():
    with workflow("none") as wf:

        @task
        def consumer(x="default"):
            return x

    assert wf.execute("consumer", initial_channel={"x": None}) is None


def test_none_result_counts_as_present():
    with workflow("none2") as wf:

        @task
        def producer():
            return None

        @task
        def consumer(producer="default"):
            return producer

        producer >> consumer
    assert wf.execute("producer") is None


def test_default_applies_when_missing():
    with workflow("dflt") as wf:

        @task
        def consumer(x=7):
            return x

    assert wf.execute("consumer") == 7


def test_missing_without_default_is_wrapped_type_error():
    with workflow("missing") as wf:

        @task
        def consumer(required_param):
            return required_param

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("consumer")
    assert isinstance(info.value.cause, TypeError)
    assert "required_param" in str(info.value)


def test_resolution_disabled():
    with workflow("off") as wf:

        @task(resolve_keyword_args=False)
        def consumer(x="default"):
            return x

    assert wf.execute("consumer", initial_channel={"x": "channel"}) == "default"


def test_resolution_disabled_keeps_bound_kwargs():
    with workflow("off2") as wf:

        @task(resolve_keyword_args=False)
        def consumer(x="default"):
            return x

        inst = consumer(task_id="inst", x="bound")
    assert inst.task_id == "inst"
    assert wf.execute("inst", initial_channel={"x": "channel"}) == "bound"


def test_lookup_is_global_not_only_upstream():
    with workflow("global") as wf:

        @task
        def a():
            return "A"

        @task
        def b():
            return "B"

        @task
        def c(a, b):
            return a + b

        a >> b >> c
    assert wf.execute("a") == "AB"


def test_keyword_only_parameters_resolved():
    with workflow("kwonly") as wf:

        @task
        def consumer(*, token, retries=1):
            return token, retries

    assert wf.execute("consumer", initial_channel={"token": "t", "retries": 3}) == ("t", 3)


def test_var_args_and_var_kwargs_ignored():
    seen = {}
    with workflow("var") as wf:

        @task
        def consumer(*args, **kwargs):
            seen["args"] = args
            seen["kwargs"] = kwargs
            return "ok"

    assert wf.execute("consumer", initial_channel={"args": 1, "kwargs": 2, "x": 3}) == "ok"
    assert seen == {"args": (), "kwargs": {}}


def test_inject_context_first_param_skipped():
    seen = {}
    with workflow("ctxskip") as wf:

        @task(inject_context=True)
        def consumer(ctx, value):
            seen["ctx_type"] = type(ctx).__name__
            return value

    assert wf.execute("consumer", initial_channel={"ctx": "not me", "value": 5}) == 5
    assert seen["ctx_type"] == "TaskExecutionContext"


def test_no_type_conversion():
    with workflow("noconv") as wf:

        @task
        def consumer(n: int):
            return n

    assert wf.execute("consumer", initial_channel={"n": "12"}) == "12"


def test_bound_kwargs_override_channel():
    with workflow("bound") as wf:

        @task
        def fetch(city):
            return city

        fetch(task_id="tokyo", city="Tokyo")
    assert wf.execute("tokyo", initial_channel={"city": "Paris"}) == "Tokyo"


def test_bound_kwargs_override_result_key():
    with workflow("bound2") as wf:

        @task
        def city():
            return "FromResult"

        @task
        def fetch(city):
            return city

        inst = fetch(task_id="inst", city="Bound")
        city >> inst
    assert wf.execute("city") == "Bound"


def test_explicit_call_kwargs_override_bound_and_channel():
    with workflow("explicit") as wf:

        @task
        def fetch(city, unit="c"):
            return city, unit

        inst = fetch(task_id="inst", city="Bound")
    ctx = ExecutionContext.create(wf.graph, "inst")
    ctx.get_channel().set("unit", "from-channel")
    ctx.get_channel().set("city", "from-channel")
    inst.set_execution_context(ctx)
    assert inst.run() == ("Bound", "from-channel")
    assert inst.run(city="Explicit") == ("Explicit", "from-channel")
    assert inst.run(unit="k") == ("Bound", "k")


def test_explicit_call_in_execution_mode():
    with workflow("callmode") as wf:

        @task
        def add(x, y=0):
            return x + y

    ctx = ExecutionContext.create(wf.graph, "add")
    ctx.get_channel().set("x", 1)
    ctx.get_channel().set("y", 2)
    add.set_execution_context(ctx)
    assert add() == 3
    assert add(y=10) == 11


def test_injected_agent_overrides_bound_kwarg():
    agent = object()
    with workflow("inj") as wf:
        wf.register_llm_agent("helper", lambda exec_ctx: agent)

        @task(inject_llm_agent="helper")
        def ask(llm_agent, q):
            return llm_agent, q

        ask(task_id="inst", llm_agent="bound-agent", q="bound-q")
    got_agent, got_q = wf.execute("inst", initial_channel={"llm_agent": "channel-agent"})
    assert got_agent is agent
    assert got_q == "bound-q"


def test_injected_names_skipped_in_resolution():
    agent = object()
    with workflow("inj2") as wf:
        wf.register_llm_agent("helper", lambda exec_ctx: agent)

        @task(inject_llm_agent="helper")
        def ask(llm_agent):
            return llm_agent

    assert wf.execute("ask", initial_channel={"llm_agent": "nope"}) is agent


def test_positional_and_channel_conflict_is_type_error():
    with workflow("conflict") as wf:

        @task(inject_context=True)
        def loop(ctx, data=None):
            if ctx.cycle_count == 1:
                ctx.next_iteration(5)
            return data

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("loop", initial_channel={"data": "channel"})
    assert isinstance(info.value.cause, TypeError)
    assert "multiple values" in str(info.value.cause)


def test_result_param_name_matches_task_id_not_function_name():
    with workflow("ids") as wf:

        @task("custom_source")
        def source():
            return 3

        @task
        def sink(custom_source, source="unset"):
            return custom_source, source

        source >> sink
    assert wf.execute("custom_source") == (3, "unset")


def test_resolution_in_engine_context_directly():
    with workflow("engine") as wf:

        @task
        def a():
            return 2

        @task
        def b(a):
            return a * 21

        a >> b
    ctx = ExecutionContext.create(wf.graph, "a")
    assert WorkflowEngine().execute(ctx) == 42
