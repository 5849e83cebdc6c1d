"""to_prefect_flow: concurrency, retries, timeouts, parameters, sources (real Prefect server)."""

from __future__ import annotations

import pytest
from graflow_prefect import retry_delays, to_prefect_flow, workflow_parameters
from graflow_prefect._compat import task_options
from prefect import Flow
from prefect.task_runners import ProcessPoolTaskRunner
from prefect_test_helpers import (
    Capture,
    HelperError,
    build_always_fails,
    build_sleepers,
    build_too_slow,
    parent_flow_of,
)

from graflow_core.core.retry import RetryPolicy
from graflow_core.exceptions import ConfigError, RetryLimitExceededError, TaskTimeoutError
from graflow_core.spec import build_spec
from graflow_core.testing.catalog import build_diamond, build_linear


def _prefect_tasks(flow: Flow) -> dict[str, object]:
    cache = flow.fn.__graflow_run__.tasks._tasks  # type: ignore[attr-defined]
    return {key[0]: t for key, t in cache.items()}


def test_group_members_run_concurrently_as_task_runs(prefect_server) -> None:
    capture = Capture()
    flow = to_prefect_flow(build_sleepers, plugins=[capture])
    run = prefect_server.run(flow)
    assert run.result == "gathered"
    (a0, a1), (b0, b1) = capture.channel["span.s1"], capture.channel["span.s2"]
    assert a0 < b1 and b0 < a1, "the members' bodies did not overlap"
    runs = {r.name: r for r in prefect_server.task_runs(run.flow_run_id, expected=4)}
    assert set(runs) == {"s1", "s2", "flaky", "gather"}
    # a member's retry is a Prefect retry on the task runner's thread, counted by the core
    assert (runs["flaky"].run_count, runs["flaky"].state_name) == (2, "Completed")
    assert capture.channel["flaky.retry_count"] == 1
    assert capture.retries == [("flaky", 1, 0.0)]
    s1, s2 = runs["s1"], runs["s2"]
    assert s1.start_time < s2.end_time and s2.start_time < s1.end_time
    # the group's successor waited for both members: Prefect shows the dependency
    assert sorted(runs["gather"].upstream["upstream"]) == sorted([s1.id, s2.id, runs["flaky"].id])


def test_retries_are_prefect_retries_and_the_core_does_not_retry_again(prefect_server) -> None:
    native = Capture()
    with pytest.raises(RetryLimitExceededError) as native_error:
        build_always_fails().execute(plugins=[native])

    capture = Capture()
    flow = to_prefect_flow(build_always_fails, plugins=[capture])
    state = flow(return_state=True)
    with pytest.raises(RetryLimitExceededError) as error:
        state.result()
    assert str(error.value) == str(native_error.value)
    assert isinstance(error.value.last_error, HelperError)
    assert str(error.value.last_error) == "attempt 4 fails"
    # the task saw the same retry counts, plugins the same retry hooks
    assert capture.channel["seen_retry_counts"] == [0, 1, 2, 3]
    assert capture.channel["seen_retry_counts"] == native.channel["seen_retry_counts"]
    assert (
        capture.retries
        == native.retries
        == [
            ("always_fails", 1, 0.01),
            ("always_fails", 2, 0.03),
            ("always_fails", 3, 0.05),
        ]
    )
    assert capture.failures == native.failures
    # the whole hook sequence is the native one (execute_task is where the host sits)
    assert [c.label for c in capture.calls if c.name != "execute_task"] == [
        c.label for c in native.calls if c.name != "execute_task"
    ]
    # ONE task run, four attempts, by Prefect
    runs = prefect_server.task_runs(state.state_details.flow_run_id, expected=1)
    assert [(r.name, r.run_count, r.state_type) for r in runs] == [("always_fails", 4, "FAILED")]
    ptask = _prefect_tasks(flow)["always_fails"]
    assert ptask.retries == 3
    assert ptask.retry_delay_seconds == [0.01, 0.03, 0.05]


def test_timeout_fails_the_attempt_as_timed_out(prefect_server) -> None:
    flow = to_prefect_flow(build_too_slow)
    state = flow(return_state=True)
    with pytest.raises(TaskTimeoutError):
        state.result()
    runs = prefect_server.task_runs(state.state_details.flow_run_id, expected=1)
    assert [(r.name, r.state_name) for r in runs] == [("too_slow", "TimedOut")]


def test_parameters_feed_the_channel_and_sources_are_interchangeable(prefect_server) -> None:
    capture = Capture()
    flow = to_prefect_flow(
        build_spec(build_linear()), name="linear-from-spec", parameters={"region": "eu"}
    )
    # derived parameters default to None (not put into the channel); explicit ones always are
    assert list(flow.parameters.properties) == ["n", "unit", "region"]
    flow_with_capture = to_prefect_flow(
        "graflow_core.testing.catalog:build_linear",
        parameters={"region": "eu"},
        plugins=[capture],
    )
    assert flow_with_capture.name == "catalog_linear"
    assert flow_with_capture(n=20, unit="pcs") == "42 pcs"
    assert capture.channel["region"] == "eu"
    assert capture.channel["unit"] == "pcs"
    assert flow(n=1) == "4 items"  # unit left at None: the task's default applies
    assert to_prefect_flow(build_diamond())(n=3) == [13, 30]
    # a bridged flow is an ordinary subflow of a hand-written flow
    parent = parent_flow_of(to_prefect_flow(build_linear))
    outcome = prefect_server.run(parent, n=20)
    assert outcome.result == "parent got 42 items"


def test_workflow_parameters_and_bad_names() -> None:
    assert workflow_parameters(build_linear()) == {"n": False, "unit": True}
    assert workflow_parameters(build_sleepers()) == {"pause": True}  # sleeper's default
    with pytest.raises(ConfigError, match="not a Python identifier"):
        to_prefect_flow(build_linear, parameters={"out.x": 1})
    with pytest.raises(ConfigError, match="return_state, wait_for"):
        to_prefect_flow(build_linear, parameters={"wait_for": 1})
    with pytest.raises(ConfigError, match="needs a WorkflowContext"):
        to_prefect_flow(42)
    with pytest.raises(ConfigError, match=r"No module named 'nope_mod'.*Make the module"):
        to_prefect_flow("nope_mod:wf")
    with pytest.raises(ConfigError, match="not a WorkflowContext"):
        to_prefect_flow(lambda: "nope")
    with pytest.raises(ConfigError, match="use a ThreadPoolTaskRunner"):
        to_prefect_flow(build_linear, task_runner=ProcessPoolTaskRunner())


def test_retry_policy_to_prefect_options() -> None:
    policy = RetryPolicy(max_retries=5, initial_interval=1.0, backoff_factor=2.0, max_interval=5)
    assert retry_delays(policy, 5) == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert retry_delays(policy, 2, first=2) == [4.0, 5.0]
    assert retry_delays(None, 2) == [0.0, 0.0]
    opts = task_options(
        name="t", retries=5, retry_delays=[1.0, 2.0, 4.0, 5.0, 5.0], jitter_factor=0.5
    )
    assert opts["retry_delay_seconds"] == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert opts["retry_jitter_factor"] == 0.5
    assert opts["task_run_name"] == opts["name"] == "t"
    constant = task_options(name="t", retries=3, retry_delays=[2.0] * 3, jitter_factor=None)
    assert constant["retry_delay_seconds"] == 2.0
    assert "retry_jitter_factor" not in constant
    many = task_options(
        name="t", retries=80, retry_delays=retry_delays(policy, 80), jitter_factor=None
    )
    assert len(many["retry_delay_seconds"]) == 50  # Prefect repeats the last one
    none = task_options(name="t", retries=0, retry_delays=[], jitter_factor=None)
    assert "retry_delay_seconds" not in none
