"""The workflow-wide default retry policy: workflow(..., retry_policy=...)."""

from __future__ import annotations

import pytest

from graflow_core import RetryPolicy, task, workflow
from graflow_core.exceptions import ConfigError, GraflowRuntimeError


def _flaky(failures: int, log: list):
    def run():
        log.append(1)
        if len(log) <= failures:
            raise ConnectionError(f"attempt {len(log)}")
        return len(log)

    return run


def test_tasks_without_policy_use_the_workflow_policy():
    log: list = []
    policy = RetryPolicy(max_retries=3, initial_interval=0.001, backoff_factor=1)
    with workflow("wf-retry", retry_policy=policy) as wf:
        task(id="flaky")(_flaky(2, log))
    result, ctx = wf.execute(ret_context=True)
    assert result == 3
    assert ctx.retry_controller.get_retry_count("flaky") == 2
    assert ctx.retry_controller.get_delay("flaky") == 0.001


def test_task_policy_overrides_the_workflow_policy():
    log: list = []
    with workflow("override", retry_policy=RetryPolicy(max_retries=5, initial_interval=0)) as wf:
        task(id="strict", max_retries=0)(_flaky(1, log))
    with pytest.raises(GraflowRuntimeError, match="attempt 1"):
        wf.execute()
    assert len(log) == 1


def test_workflow_policy_exhausted_raises_retry_limit():
    log: list = []
    with workflow("exhaust", retry_policy=RetryPolicy(max_retries=2, initial_interval=0)) as wf:
        task(id="always")(_flaky(99, log))
    with pytest.raises(GraflowRuntimeError, match="always"):
        wf.execute()
    assert len(log) == 3


def test_workflow_policy_applies_inside_parallel_groups():
    left: list = []
    right: list = []
    with workflow("groups", retry_policy=RetryPolicy(max_retries=1, initial_interval=0)) as wf:
        task(id="left")(_flaky(1, left)) | task(id="right")(_flaky(1, right))
    wf.execute()
    assert len(left) == 2 and len(right) == 2


def test_workflow_records_version_and_rejects_bad_settings():
    with workflow("versioned", version="1.4.0") as wf:

        @task
        def a():
            return 1

    _, ctx = wf.execute(ret_context=True)
    assert wf.version == "1.4.0"
    assert ctx.workflow_version == "1.4.0"
    with pytest.raises(ConfigError, match="retry_policy must be a RetryPolicy"):
        workflow("x", retry_policy=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="dead_letter_store"):
        workflow("x", dead_letter_store=object())
