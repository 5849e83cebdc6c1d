"""Bad input is rejected with a clear error that names the offending task or value."""

from __future__ import annotations

import pytest

from graflow_core.core.decorators import task
from graflow_core.core.graph import TaskGraph
from graflow_core.core.handlers.group_policy import (
    AtLeastNGroupPolicy,
    CriticalGroupPolicy,
    resolve_group_policy,
)
from graflow_core.core.task import ParallelGroup, Task, TaskWrapper
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import (
    DuplicateTaskError,
    GraflowError,
    GraflowRuntimeError,
    GraphCompilationError,
)

pytestmark = pytest.mark.usefixtures("chdir_tmp")


# --- duplicate ids ---------------------------------------------------------------------------


def test_duplicate_decorated_task_names_the_id():
    with workflow("dup"):

        @task
        def fetch_data():
            return 1

        with pytest.raises(DuplicateTaskError) as info:

            @task("fetch_data")
            def again():
                return 2

    assert "fetch_data" in str(info.value)
    assert isinstance(info.value, GraphCompilationError)


def test_duplicate_placeholder_task():
    with workflow("dup2"):
        Task("node_x")
        with pytest.raises(DuplicateTaskError, match="node_x"):
            Task("node_x")


def test_duplicate_taskwrapper():
    with workflow("dup3"):
        TaskWrapper("tw_dup", lambda: 1)
        with pytest.raises(DuplicateTaskError, match="tw_dup"):
            TaskWrapper("tw_dup", lambda: 2)


def test_duplicate_graph_add_node():
    g = TaskGraph()
    g.add_node(Task("gx", register_to_context=False))
    with pytest.raises(DuplicateTaskError, match="gx"):
        g.add_node(Task("gx", register_to_context=False))


def test_duplicate_group_name():
    with workflow("dup4"):
        a, b, c, d = (Task(n) for n in "abcd")
        (a | b).set_group_name("grp")
        with pytest.raises(ValueError, match="grp"):
            (c | d).set_group_name("grp")


def test_group_named_like_a_task():
    with workflow("dup5"):
        a, b = Task("a"), Task("b")
        with pytest.raises(ValueError, match="a"):
            ParallelGroup([a, b], name="a")


# --- start node ------------------------------------------------------------------------------


def test_unknown_start_node_raises_and_names_it():
    from graflow_core.exceptions import TaskNotFoundError

    with workflow("unknown") as wf:
        a, b = Task("a"), Task("b")
        a >> b
    with pytest.raises(TaskNotFoundError) as info:
        wf.execute("no_such_task")
    assert isinstance(info.value, GraphCompilationError)
    assert "no_such_task" in str(info.value)


def test_ambiguous_start_node_names_candidates():
    with workflow("ambiguous") as wf:
        first_root, second_root, sink = Task("first_root"), Task("second_root"), Task("sink")
        first_root >> sink
        second_root >> sink
    with pytest.raises(GraphCompilationError) as info:
        wf.execute()
    msg = str(info.value)
    assert "Multiple start nodes found" in msg
    assert "first_root" in msg
    assert "second_root" in msg


def test_isolated_tasks_are_ambiguous():
    with workflow("isolated") as wf:
        Task("lonely_one")
        Task("lonely_two")
    with pytest.raises(GraphCompilationError, match="lonely_one"):
        wf.execute()


# --- unbounded loops -------------------------------------------------------------------------


def test_unbounded_static_loop_raises_max_steps():
    from graflow_core.exceptions import MaxStepsExceededError

    with workflow("forever") as wf:
        ping, pong = Task("ping"), Task("pong")
        ping >> pong >> ping
    with pytest.raises(MaxStepsExceededError) as info:
        wf.execute("ping", max_steps=50)
    msg = str(info.value)
    assert "50" in msg
    assert "ping" in msg or "pong" in msg


def test_unbounded_goto_loop_raises_max_steps():
    from graflow_core.exceptions import MaxStepsExceededError

    with workflow("forever2") as wf:

        @task(inject_context=True)
        def spinner(ctx):
            ctx.next_task(spinner)

    with pytest.raises(MaxStepsExceededError, match="spinner"):
        wf.execute("spinner", max_steps=30)


# --- policy values ---------------------------------------------------------------------------


def _raises_value_error_naming(value, fn):
    """``fn`` must fail with a ValueError naming ``value`` (possibly wrapped by the engine)."""
    with pytest.raises((ValueError, GraflowError)) as info:
        fn()
    err = info.value
    if not isinstance(err, ValueError):
        assert isinstance(err, GraflowRuntimeError) and isinstance(err.cause, ValueError), repr(err)
    assert value in str(err)


def test_unknown_policy_name():
    def build_and_run():
        with workflow("badpolicy") as wf:
            g = (Task("a") | Task("b")).with_execution(policy="mostly_ok")
        wf.execute(g.task_id)

    _raises_value_error_naming("mostly_ok", build_and_run)


def test_resolve_unknown_policy_name():
    with pytest.raises(ValueError, match="mostly_ok"):
        resolve_group_policy("mostly_ok")


@pytest.mark.parametrize("name", ["critical", "at_least_n"])
def test_policy_names_needing_arguments(name):
    def build_and_run():
        with workflow("badpolicy2") as wf:
            g = (Task("a") | Task("b")).with_execution(policy=name)
        wf.execute(g.task_id)

    with pytest.raises((TypeError, ValueError, GraflowError)):
        build_and_run()


def test_critical_policy_empty_list():
    with pytest.raises(ValueError):
        CriticalGroupPolicy([])


def test_critical_policy_unknown_member_names_it():
    def build_and_run():
        with workflow("badcrit") as wf:
            g = (Task("a") | Task("b")).with_execution(policy=CriticalGroupPolicy(["zeta_task"]))
        wf.execute(g.task_id)

    _raises_value_error_naming("zeta_task", build_and_run)


def test_at_least_n_negative():
    with pytest.raises(ValueError, match=r"-1|min_success"):
        AtLeastNGroupPolicy(-1)


def test_at_least_n_too_large_names_value():
    def build_and_run():
        with workflow("badn") as wf:
            g = (Task("a") | Task("b")).with_execution(policy=AtLeastNGroupPolicy(5))
        wf.execute(g.task_id)

    _raises_value_error_naming("5", build_and_run)


def test_unknown_backend_name():
    # The reference does not fix the error type here (Graflow: a ValueError when the group
    # runs, wrapped by the engine); any Graflow error or ValueError naming the value will do.
    with pytest.raises((ValueError, GraflowError)) as info:
        with workflow("badbackend") as wf:
            g = (Task("a") | Task("b")).with_execution(backend="carrier_pigeon")
        wf.execute(g.task_id)
    assert "carrier_pigeon" in str(info.value)


# --- non-callables ---------------------------------------------------------------------------


def test_task_with_non_callable():
    with pytest.raises((GraflowError, TypeError)) as info:
        task(12345)  # type: ignore[arg-type]
    assert "12345" in str(info.value)


def test_task_decorator_applied_to_non_callable():
    with pytest.raises((GraflowError, TypeError)) as info:
        task("my_task_id")(12345)  # type: ignore[arg-type]
    assert "my_task_id" in str(info.value) or "12345" in str(info.value)


def test_taskwrapper_with_non_callable_names_task():
    with pytest.raises((GraflowError, TypeError)) as info:
        TaskWrapper("bad_task", "not callable")  # type: ignore[arg-type]
    assert "bad_task" in str(info.value)


def test_rshift_with_non_executable():
    with workflow("nonexec"):
        a = Task("a_task")
        with pytest.raises((GraflowError, TypeError, AttributeError)):
            a >> 42  # type: ignore[operator]


# --- edges across workflows ------------------------------------------------------------------


def test_edge_to_task_of_other_workflow_names_it():
    with workflow("first"):

        @task
        def owned_elsewhere():
            return 1

    with workflow("second"):

        @task
        def local_task():
            return 2

        with pytest.raises(GraflowError) as info:
            local_task >> owned_elsewhere
    assert "owned_elsewhere" in str(info.value)


def test_edge_from_task_of_other_workflow_names_it():
    with workflow("first2"):
        foreign = Task("foreign_src")

    with workflow("second2"):
        here = Task("here")
        with pytest.raises(GraflowError) as info:
            foreign >> here
    assert "foreign_src" in str(info.value)


def test_circuit_breaker_must_be_a_breaker_or_a_name_when_the_task_is_defined():
    from graflow_core import task
    from graflow_core.exceptions import ConfigError

    class LooksLikeABreaker:
        def call(self, fn, task_id):
            return fn()

    with pytest.raises(ConfigError, match="circuit_breaker must be a CircuitBreaker or the name"):
        task(id="guarded", circuit_breaker=LooksLikeABreaker())(lambda: 1)
    assert task(id="named", circuit_breaker="payments-api")(lambda: 1).circuit_breaker == (
        "payments-api"
    )
