"""Task types: registry, @task(type=...), plugin registration, options."""

from __future__ import annotations

import pytest

from graflow_core import task, workflow
from graflow_core.core.task_types import (
    TaskType,
    UnknownTaskTypeError,
    available_task_types,
    get_task_type,
    register_task_type,
    unregister_task_type,
)
from graflow_core.exceptions import ConfigError
from graflow_core.plugins import hookimpl


class Greeter:
    """Not callable: the task type turns it into a function."""

    def __init__(self, greeting: str) -> None:
        self.greeting = greeting

    def greet(self, name: str) -> str:
        return f"{self.greeting}, {name}"


class GreeterType(TaskType):
    name = "greeter"
    options = ("shout",)

    def __init__(self) -> None:
        self.executed: list[str] = []

    def build(self, target, *, task_id, options):
        shout = options.get("shout", False)

        def run(name):
            text = target.greet(name)
            return text.upper() if shout else text

        run.__name__ = task_id or "greet"
        return run

    def execute(self, task, context, invoke):
        self.executed.append(task.task_id)
        return {"greeting": invoke()}


@pytest.fixture
def greeter_type():
    tt = register_task_type(GreeterType())
    yield tt
    unregister_task_type("greeter")


def test_typed_task_runs_through_its_type(greeter_type):
    with workflow("typed") as wf:

        @task
        def name():
            return "Ada"

        hello = task(id="hello", type="greeter")(Greeter("Hello"))
        loud = task(id="loud", type="greeter", type_options={"shout": True})(Greeter("hi"))
        name >> hello >> loud

    result, ctx = wf.execute(ret_context=True)
    assert ctx.get_result("hello") == {"greeting": "Hello, Ada"}
    assert result == {"greeting": "HI, ADA"}
    assert greeter_type.executed == ["hello", "loud"]
    assert hello.task_type == "greeter"
    assert isinstance(hello.type_target, Greeter)
    assert loud.type_options == {"shout": True}
    assert hello._plain is False


def test_typed_instances_keep_their_type(greeter_type):
    hello = task(id="hello", type="greeter")(Greeter("Hey"))
    with workflow("instances") as wf:
        hello(task_id="h1", name="Bob") >> hello(task_id="h2", name="Eve")
    _, ctx = wf.execute(ret_context=True)
    assert ctx.get_result("h1") == {"greeting": "Hey, Bob"}
    assert ctx.get_result("h2") == {"greeting": "Hey, Eve"}


def test_unknown_type_names_the_known_ones(greeter_type):
    with pytest.raises(UnknownTaskTypeError, match=r"Unknown task type 'nope'.*greeter"):
        task(type="nope")(lambda: 1)


def test_unknown_options_are_rejected(greeter_type):
    with pytest.raises(ConfigError, match="unknown type_options \\['colour'\\]"):
        task(id="x", type="greeter", type_options={"colour": "red"})(Greeter("a"))


def test_default_type_needs_a_callable():
    plain = register_task_type(type("Plain", (TaskType,), {"name": "plain"})())
    try:
        with pytest.raises(ConfigError, match="expects a function"):
            task(id="x", type="plain")(42)

        assert get_task_type("plain") is plain
        with workflow("p") as wf:

            @task(type="plain")
            def f():
                return 1

        assert f.task_type == "plain"
        assert wf.execute() == 1
    finally:
        unregister_task_type("plain")


def test_duplicate_registration_needs_replace(greeter_type):
    with pytest.raises(ConfigError, match="already registered"):
        register_task_type(GreeterType())
    other = GreeterType()
    assert register_task_type(other, replace=True) is other


def test_plugins_provide_task_types(pm):
    class Doubler(TaskType):
        name = "doubler"

        def execute(self, task, context, invoke):
            return 2 * invoke()

    class Plugin:
        @hookimpl
        def register_task_types(self):
            return [Doubler()]

    with pytest.raises(UnknownTaskTypeError):
        get_task_type("doubler")
    pm.register(Plugin(), name="doubler-plugin")
    assert "doubler" in available_task_types()

    with workflow("doubled") as wf:

        @task(type="doubler")
        def seven():
            return 7

    assert wf.execute() == 14
    pm.unregister(name="doubler-plugin")
    with pytest.raises(UnknownTaskTypeError):
        get_task_type("doubler")


def test_typed_task_failure_is_retried(greeter_type):
    calls = []

    class Flaky:
        def greet(self, name):
            calls.append(name)
            if len(calls) == 1:
                raise ConnectionError("flaky")
            return f"ok {name}"

    with workflow("flaky") as wf:
        task(id="g", type="greeter", max_retries=1)(Flaky())

    assert wf.execute(initial_channel={"name": "Z"}) == {"greeting": "ok Z"}
    assert calls == ["Z", "Z"]
