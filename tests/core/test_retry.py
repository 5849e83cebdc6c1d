"""Retries: RetryPolicy delays, re-queue at the tail, RetryLimitExceededError (§2.5)."""

from __future__ import annotations

from unittest import mock

import pytest

from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.retry import RetryController, RetryPolicy
from graflow_core.core.workflow import workflow
from graflow_core.exceptions import GraflowRuntimeError, RetryLimitExceededError

pytestmark = pytest.mark.usefixtures("chdir_tmp")


@pytest.fixture
def sleep():
    with mock.patch("graflow_core.core.engine.time.sleep") as patched:
        yield patched


def sleeps(patched):
    return [c.args[0] for c in patched.call_args_list]


# --- RetryPolicy -----------------------------------------------------------------------------


def test_retry_policy_defaults():
    p = RetryPolicy()
    assert (p.max_retries, p.initial_interval, p.backoff_factor, p.max_interval, p.jitter) == (
        0,
        1.0,
        2.0,
        60.0,
        False,
    )


def test_retry_policy_exponential_delays():
    p = RetryPolicy(max_retries=5, initial_interval=1.0, backoff_factor=2.0)
    assert [p.get_delay(k) for k in range(5)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_retry_policy_max_interval_caps():
    p = RetryPolicy(initial_interval=1.0, backoff_factor=10.0, max_interval=5.0)
    assert [p.get_delay(k) for k in range(3)] == [1.0, 5.0, 5.0]


def test_retry_policy_jitter_bounds():
    p = RetryPolicy(initial_interval=2.0, backoff_factor=1.0, max_interval=2.5, jitter=True)
    for _ in range(200):
        d = p.get_delay(0)
        assert 1.0 <= d <= 2.5


def test_retry_policy_is_keyword_constructible_and_comparable():
    assert RetryPolicy(max_retries=2) == RetryPolicy(max_retries=2)


# --- RetryController -------------------------------------------------------------------------


def test_retry_controller_bookkeeping():
    rc = RetryController(default_max_retries=1)
    assert rc.accept_retry("t")
    assert rc.increment("t", ValueError("x")) == 1
    assert not rc.accept_retry("t")
    assert rc.get_retry_count("t") == 1
    assert rc.get_delay("t") == 0.0
    rc.set_node_policy("p", RetryPolicy(max_retries=3, initial_interval=0.5))
    assert rc.get_max_retries_for_node("p") == 3
    assert rc.get_policy_for_node("p").initial_interval == 0.5
    rc.increment("p")
    assert rc.get_delay("p") == 0.5
    rc.increment("p")
    assert rc.get_delay("p") == 1.0
    with pytest.raises(RetryLimitExceededError):
        rc.check_retry_limit("t")


# --- engine retries --------------------------------------------------------------------------


def test_max_retries_then_success(sleep):
    attempts = []
    with workflow("r1") as wf:

        @task(inject_context=True, max_retries=2)
        def flaky(ctx):
            attempts.append(ctx.retry_count)
            if len(attempts) < 3:
                raise ConnectionError("transient")
            return "ok"

    result, ctx = wf.execute("flaky", ret_context=True)
    assert result == "ok"
    assert attempts == [0, 1, 2]
    assert ctx.get_result("flaky") == "ok"
    assert ctx.steps == 1  # failed attempts are not steps
    assert ctx.completed_tasks == ["flaky"]
    assert sleeps(sleep) == []  # no policy -> no delay


def test_retry_policy_delays_and_limit(sleep):
    attempts = []
    with workflow("r2") as wf:

        @task(retry_policy=RetryPolicy(max_retries=3, initial_interval=1.0, backoff_factor=2.0))
        def always_fails():
            attempts.append(1)
            raise ValueError(f"fail {len(attempts)}")

    with pytest.raises(RetryLimitExceededError) as info:
        wf.execute("always_fails")
    assert len(attempts) == 4
    assert sleeps(sleep) == [1.0, 2.0, 4.0]
    err = info.value
    assert err.task_id == "always_fails"
    assert err.retry_count == 4
    assert err.max_retries == 3
    assert isinstance(err.cause, ValueError)
    assert str(err.cause) == "fail 4"
    assert isinstance(err, GraflowRuntimeError)


def test_retry_policy_max_interval_in_engine(sleep):
    attempts = []
    with workflow("r3") as wf:

        @task(
            retry_policy=RetryPolicy(
                max_retries=3, initial_interval=2.0, backoff_factor=3.0, max_interval=5.0
            )
        )
        def flaky():
            attempts.append(1)
            if len(attempts) <= 3:
                raise RuntimeError("x")
            return "done"

    assert wf.execute("flaky") == "done"
    assert sleeps(sleep) == [2.0, 5.0, 5.0]


def test_max_retries_exhausted_without_policy(sleep):
    with workflow("r4") as wf:

        @task(max_retries=1)
        def bad():
            raise KeyError("k")

    with pytest.raises(RetryLimitExceededError) as info:
        wf.execute("bad")
    assert info.value.retry_count == 2
    assert info.value.max_retries == 1
    assert isinstance(info.value.cause, KeyError)
    assert sleeps(sleep) == []


def test_no_retries_configured_wraps_error(sleep):
    with workflow("r5") as wf:

        @task
        def bad():
            raise ValueError("plain")

    with pytest.raises(GraflowRuntimeError) as info:
        wf.execute("bad")
    assert not isinstance(info.value, RetryLimitExceededError)
    assert str(info.value) == "An error occurred: plain (caused by plain)"


def test_retry_requeued_at_head(sleep):
    """compatibility.md §8: the retry runs before the siblings queued behind the failed task."""
    order = []
    with workflow("head") as wf:

        @task
        def s():
            order.append("s")

        @task(max_retries=1)
        def flaky():
            order.append("flaky")
            if order.count("flaky") == 1:
                raise RuntimeError("once")
            return "ok"

        @task
        def other():
            order.append("other")

        @task
        def other2():
            order.append("other2")

        s >> flaky
        s >> other
        s >> other2
    wf.execute("s")
    assert order == ["s", "flaky", "flaky", "other", "other2"]


def test_retry_successors_run_after_success(sleep):
    order = []
    with workflow("succ") as wf:

        @task(max_retries=2)
        def flaky():
            order.append("flaky")
            if order.count("flaky") < 2:
                raise RuntimeError("x")
            return 5

        @task
        def after(flaky):
            order.append("after")
            return flaky * 2

        flaky >> after
    assert wf.execute("flaky") == 10
    assert order == ["flaky", "flaky", "after"]


def test_retry_does_not_increment_cycle_count(sleep):
    counts = []
    with workflow("cyc") as wf:

        @task(inject_context=True, max_retries=2)
        def flaky(ctx):
            counts.append(ctx.cycle_count)
            if len(counts) < 3:
                raise RuntimeError("x")

    wf.execute("flaky")
    assert counts == [1, 1, 1]


def test_context_default_max_retries(sleep):
    attempts = []
    with workflow("dflt") as wf:

        @task
        def flaky():
            attempts.append(1)
            if len(attempts) < 2:
                raise RuntimeError("x")
            return "ok"

    ctx = ExecutionContext.create(wf.graph, "flaky", default_max_retries=1)
    assert WorkflowEngine().execute(ctx) == "ok"
    assert len(attempts) == 2


def test_retry_policy_task_max_retries_reported(sleep):
    seen = []
    with workflow("mr") as wf:

        @task(inject_context=True, retry_policy=RetryPolicy(max_retries=2, initial_interval=0.0))
        def t(ctx):
            seen.append(ctx.max_retries)

    wf.execute("t")
    assert seen == [2]
    assert sleeps(sleep) == []


def test_failed_attempt_stores_exception_then_success_overwrites(sleep):
    with workflow("store") as wf:
        state = {"n": 0}

        @task(max_retries=1)
        def flaky():
            state["n"] += 1
            if state["n"] == 1:
                raise RuntimeError("x")
            return "fine"

    result, ctx = wf.execute("flaky", ret_context=True)
    assert result == "fine"
    assert ctx.get_result("flaky") == "fine"


def test_cycle_limit_error_inside_task_is_retried(sleep):
    attempts = []
    with workflow("cle") as wf:
        from graflow_core.exceptions import CycleLimitExceededError

        @task(max_retries=1)
        def t():
            attempts.append(1)
            if len(attempts) == 1:
                raise CycleLimitExceededError("t", 1, 1)
            return "ok"

    assert wf.execute("t") == "ok"
    assert len(attempts) == 2
