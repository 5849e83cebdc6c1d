"""@task forms and parameters, TaskWrapper attributes and calling modes (spec §1.2, §1.3)."""

from __future__ import annotations

import functools
import pickle
import re

import cloudpickle
import pytest

from graflow_core.core.context import ExecutionContext, TaskExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.retry import RetryPolicy
from graflow_core.core.task import Executable, TaskWrapper
from graflow_core.core.workflow import get_current_workflow_context, workflow
from graflow_core.exceptions import DuplicateTaskError, GraflowRuntimeError

pytestmark = pytest.mark.usefixtures("chdir_tmp")


# --- decorator forms -------------------------------------------------------------------------


def test_bare_decorator():
    @task
    def hello():
        return "hi"

    assert isinstance(hello, TaskWrapper)
    assert isinstance(hello, Executable)
    assert hello.task_id == "hello"


def test_empty_parentheses():
    @task()
    def hello():
        return "hi"

    assert isinstance(hello, TaskWrapper)
    assert hello.task_id == "hello"


def test_positional_id():
    @task("my_id")
    def hello():
        return 1

    assert hello.task_id == "my_id"


def test_positional_id_with_options():
    @task("my_id", inject_context=True, max_cycles=4)
    def hello(ctx):
        return 1

    assert hello.task_id == "my_id"
    assert hello.inject_context is True
    assert hello.max_cycles == 4


def test_keyword_id():
    @task(id="kw_id")
    def hello():
        return 1

    assert hello.task_id == "kw_id"


def test_options_only_uses_function_name():
    @task(inject_context=True)
    def named_fn(ctx):
        return 1

    assert named_fn.task_id == "named_fn"
    assert named_fn.inject_context is True


def test_task_id_keyword_is_rejected():
    with pytest.raises(TypeError):
        task(task_id="x")  # type: ignore[call-arg]


def test_id_falls_back_to_uuid_int_without_name():
    part = functools.partial(lambda x: x, 1)
    assert not hasattr(part, "__name__")
    wrapper = task(part)
    assert isinstance(wrapper, TaskWrapper)
    assert wrapper.task_id.isdigit()
    assert len(wrapper.task_id) > 20


def test_metadata_copied_onto_wrapper():
    @task
    def documented(x: int) -> int:
        """Some docs."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Some docs."
    assert documented.__module__ == __name__
    assert documented.__qualname__.endswith("documented")
    assert documented.__annotations__ == {"x": "int", "return": "int"}


def test_default_flags():
    @task
    def plain():
        return 1

    assert plain.inject_context is False
    assert plain.inject_llm_client is False
    assert plain.inject_llm_agent is None
    assert plain.resolve_keyword_args is True
    assert plain.max_cycles is None
    assert plain.max_retries is None
    assert plain.retry_policy is None
    assert plain.handler_type == "direct"
    assert plain._bound_kwargs == {}


def test_all_flags_are_stored():
    policy = RetryPolicy(max_retries=2)

    @task(
        id="full",
        inject_context=True,
        inject_llm_client=True,
        inject_llm_agent="agent",
        handler="custom",
        resolve_keyword_args=False,
        max_cycles=7,
        retry_policy=policy,
    )
    def full(ctx, llm_client, llm_agent):
        return None

    assert full.task_id == "full"
    assert full.inject_llm_client is True
    assert full.inject_llm_agent == "agent"
    assert full.handler_type == "custom"
    assert full.resolve_keyword_args is False
    assert full.max_cycles == 7
    assert full.retry_policy is policy
    assert full.max_retries == 2


def test_retry_policy_overrides_max_retries():
    @task(max_retries=5, retry_policy=RetryPolicy(max_retries=1))
    def flaky():
        return 1

    assert flaky.max_retries == 1


def test_max_retries_without_policy():
    @task(max_retries=3)
    def flaky():
        return 1

    assert flaky.max_retries == 3
    assert flaky.retry_policy is None


def test_original_func_is_unwrapped():
    def raw(a, b=2):
        return a + b

    wrapper = task(raw)
    assert wrapper._original_func is raw


# --- registration ----------------------------------------------------------------------------


def test_registers_in_current_workflow():
    with workflow("reg") as wf:

        @task
        def a():
            return 1

        assert "a" in wf.graph.nodes
        assert wf.graph.get_node("a") is a
        assert a._pending_registration is False


def test_duplicate_id_in_same_workflow_raises():
    with workflow("dup"):

        @task
        def same():
            return 1

        with pytest.raises(DuplicateTaskError, match="same"):

            @task("same")
            def other():
                return 2


def test_same_id_in_different_workflows_is_fine():
    with workflow("w1") as w1:

        @task("x")
        def x1():
            return 1

    with workflow("w2") as w2:

        @task("x")
        def x2():
            return 2

    assert w1.graph.get_node("x") is x1
    assert w2.graph.get_node("x") is x2


def test_registration_is_deferred_outside_workflow():
    @task
    def outside():
        return 1

    @task
    def outside2():
        return 2

    assert outside._pending_registration is True
    assert get_current_workflow_context() is None

    with workflow("later") as wf:
        outside >> outside2

    assert outside._pending_registration is False
    assert outside2._pending_registration is False
    assert "outside" in wf.graph.nodes
    assert wf.graph.get_node("outside") is outside
    assert ("outside", "outside2") in list(wf.graph.edges)
    assert wf.execute("outside") == 2


# --- calling modes ---------------------------------------------------------------------------


def test_mode1_call_without_context_runs_task():
    @task
    def add():
        return 3

    assert add() == 3


def test_mode2_instance_creation_with_task_id_and_kwargs():
    with workflow("inst") as wf:

        @task
        def fetch(city):
            return city.upper()

        tokyo = fetch(task_id="tokyo", city="Tokyo")
        assert isinstance(tokyo, TaskWrapper)
        assert tokyo is not fetch
        assert tokyo.task_id == "tokyo"
        assert tokyo._bound_kwargs == {"city": "Tokyo"}
        assert tokyo.func is fetch.func
        assert "tokyo" in wf.graph.nodes

    assert wf.execute("tokyo") == "TOKYO"


def test_mode2_auto_task_id():
    with workflow("inst2"):

        @task
        def process(value):
            return value * 2

        inst = process(value=10)
        assert re.fullmatch(r"process_[0-9a-f]{8}", inst.task_id)
        assert inst._bound_kwargs == {"value": 10}
        assert inst.run() == 20


def test_mode2_task_id_only_has_no_bound_kwargs():
    with workflow("inst3"):

        @task
        def process(value=1):
            return value

        inst = process(task_id="p2")
        assert inst.task_id == "p2"
        assert inst._bound_kwargs == {}


def test_mode2_copies_flags():
    with workflow("inst4"):

        @task(inject_context=True, max_cycles=3, max_retries=2, handler="direct")
        def flagged(ctx, v):
            return v

        inst = flagged(task_id="f2", v=1)
        assert inst.inject_context is True
        assert inst.max_cycles == 3
        assert inst.max_retries == 2
        assert inst.handler_type == "direct"


def test_mode2_positional_args_raise_type_error():
    @task
    def fetch(city):
        return city

    with pytest.raises(TypeError):
        fetch("Tokyo")


def test_mode2_duplicate_instance_id_raises():
    with workflow("inst5"):

        @task
        def fetch(city):
            return city

        fetch(task_id="one", city="a")
        with pytest.raises(DuplicateTaskError, match="one"):
            fetch(task_id="one", city="b")


def test_instances_run_independently_in_workflow():
    with workflow("inst6") as wf:

        @task
        def fetch(city):
            return f"weather:{city}"

        @task
        def combine(tokyo, paris):
            return [tokyo, paris]

        t = fetch(task_id="tokyo", city="Tokyo")
        p = fetch(task_id="paris", city="Paris")
        t >> p >> combine

    assert wf.execute("tokyo") == ["weather:Tokyo", "weather:Paris"]


# --- run() -----------------------------------------------------------------------------------


def test_run_with_kwargs():
    @task
    def calculate(x, y):
        return x + y

    assert calculate.run(x=5, y=3) == 8
    # the throw-away context is detached afterwards; calling again works
    assert calculate.run(x=1, y=1) == 2


def test_run_positional_args():
    @task
    def calculate(x, y):
        return x * y

    assert calculate.run(4, 5) == 20


def test_run_with_inject_context_gets_task_context():
    seen = {}

    @task(inject_context=True)
    def uses_ctx(context, n):
        seen["ctx"] = context
        return context.task_id, n

    assert uses_ctx.run(n=2) == ("uses_ctx", 2)
    assert isinstance(seen["ctx"], TaskExecutionContext)


def test_run_uses_bound_kwargs_and_explicit_override():
    with workflow("bound"):

        @task
        def scale(value, factor=2):
            return value * factor

        inst = scale(task_id="s", value=10)
        assert inst.run() == 20
        assert inst.run(value=1) == 2
        assert inst.run(factor=3) == 30


def test_inject_context_first_param_name_irrelevant():
    with workflow("ic") as wf:

        @task(inject_context=True)
        def anything(whatever_name):
            return isinstance(whatever_name, TaskExecutionContext), whatever_name.task_id

    assert wf.execute("anything") == (True, "anything")


def test_handler_type_default_on_executable():
    from graflow_core.core.task import Task

    with workflow("h"):
        t = Task("placeholder")
    assert t.handler_type == "direct"
    assert t.run() is None


def test_get_execution_context_unset_raises():
    @task
    def lonely():
        return 1

    with pytest.raises(GraflowRuntimeError):
        lonely.get_execution_context()


def test_set_and_get_execution_context():
    from graflow_core.core.graph import TaskGraph

    @task
    def lonely():
        return 1

    ctx = ExecutionContext.create(TaskGraph(), None)
    lonely.set_execution_context(ctx)
    assert lonely.get_execution_context() is ctx


# --- pickling --------------------------------------------------------------------------------


def test_task_wrapper_roundtrips_through_cloudpickle():
    with workflow("pk"):

        @task(inject_context=False, max_cycles=5, max_retries=1)
        def double(x):
            return 2 * x

    clone = cloudpickle.loads(cloudpickle.dumps(double))
    assert isinstance(clone, TaskWrapper)
    assert clone.task_id == "double"
    assert clone.max_cycles == 5
    assert clone.max_retries == 1
    assert clone.run(x=4) == 8


def test_bound_kwargs_survive_pickling():
    with workflow("pk2"):

        @task
        def greet(name):
            return f"hi {name}"

        inst = greet(task_id="greet_bob", name="bob")

    clone = pickle.loads(cloudpickle.dumps(inst))
    assert clone.task_id == "greet_bob"
    assert clone._bound_kwargs == {"name": "bob"}
    assert clone.run() == "hi bob"


def test_execution_context_not_pickled():
    with workflow("pk3") as wf:

        @task
        def val():
            return 1

    wf.execute("val")
    clone = cloudpickle.loads(cloudpickle.dumps(val))
    assert "_execution_context" not in clone.__dict__


# --- direct TaskWrapper construction ---------------------------------------------------------


def test_taskwrapper_constructor_defaults_and_registration():
    def fn(a=1):
        return a

    with workflow("tw") as wf:
        w = TaskWrapper("tw_id", fn)
        unregistered = TaskWrapper("not_registered", fn, register_to_context=False)

    assert w.task_id == "tw_id"
    assert w.func is fn
    assert w.handler_type == "direct"
    assert "tw_id" in wf.graph.nodes
    assert "not_registered" not in wf.graph.nodes
    assert unregistered.run() == 1


def test_task_id_is_read_only():
    @task
    def ro():
        return 1

    with pytest.raises(AttributeError):
        ro.task_id = "other"  # type: ignore[misc]
