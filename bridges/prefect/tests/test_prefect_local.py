"""run_on("prefect", ...): every catalogue workflow as a real Prefect flow run gives the same
TargetRun as the graflow engine (result, channel, error type), with one Prefect task run per
graflow task that ran, read back through the API."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from prefect_test_helpers import build_always_fails

from graflow_core.core.task import ParallelGroup
from graflow_core.exceptions import ConfigError, GraflowRuntimeError
from graflow_core.plugins import hookimpl
from graflow_core.spec.target_run import run_native, run_on
from graflow_core.testing.catalog import (
    EXAMPLES,
    CatalogError,
    check_outcome,
    get_example,
    task_results,
    user_channel,
)


def _comparable(results: dict[str, Any]) -> dict[str, Any]:
    """Task results with exceptions compared by type and message, iteration ids without their
    random suffix (``countdown_cycle_1_7a28b9b2`` -> ``countdown_cycle_1``)."""
    return {
        _base(key): (type(value), str(value)) if isinstance(value, BaseException) else value
        for key, value in results.items()
    }


#: Prefect task runs of some examples: every graflow task execution, groups not counted.
NATIVE_TASKS = {
    "linear": 3,
    "parallel_strict": 5,  # prepare, p1-p3, collect
    "best_effort": 5,  # the failed member included
    "retry": 2,  # flaky_fetch's two attempts are one task run
    "next_task": 3,  # the task added at run time included
    "next_iteration": 4,  # three iterations of countdown, after_loop
    "failing": 2,  # never_runs has no task run
}


class _NativeTasks:
    """Run plugin of the native run: every graflow task (not group) that started, and whether
    it failed for good — what the Prefect run must show as task runs and their states."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    @hookimpl
    def task_start(self, task: Any, task_id: str, context: Any) -> None:
        if not isinstance(task, ParallelGroup):
            self.states.setdefault(_base(task_id), "success")

    @hookimpl
    def task_failure(
        self, task: Any, task_id: str, context: Any, error: BaseException, final: bool
    ) -> None:
        if final and not isinstance(task, ParallelGroup):
            self.states[_base(task_id)] = "failed"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_run_on_prefect_equals_native(example, prefect_server, tmp_path) -> None:
    (tmp_path / "n").mkdir()
    (tmp_path / "p").mkdir()
    tasks = _NativeTasks()
    native = run_native(example.build, example.run_params(str(tmp_path / "n")), plugins=[tasks])
    run = run_on("prefect", example.build, example.run_params(str(tmp_path / "p")))

    assert run.target == "prefect"
    assert run.run_id and run.run_id == run.details["flow_run_id"]
    assert run.wall_seconds > 0
    if example.error is None:
        assert run.error is None, run.error
        check_outcome(example, run.result, run.channel)
        assert run.result == native.result
        assert run.details["flow_state"] == "Completed"
    else:
        assert type(run.error) is type(native.error) is example.error
        assert type(run.error.__cause__) is type(native.error.__cause__) is example.error_cause
        assert run.result is None
        assert run.details["flow_state"] == "Failed"
    assert user_channel(run.channel) == user_channel(native.channel)
    assert _comparable(task_results(run.channel)) == _comparable(task_results(native.channel))

    # One Prefect task run per graflow task execution (groups are not task runs; a retried
    # task is one task run with several attempts), named by its graflow id.
    assert {_base(n): s for n, s in run.states.items()} == tasks.states
    # every execution is a task run: a task that a cycle runs three times has three
    assert run.native_tasks == len(run.details["task_runs"]) >= len(run.states)
    if example.name in NATIVE_TASKS:
        assert run.native_tasks == NATIVE_TASKS[example.name]
    if example.name == "retry":
        (flaky,) = [r for r in run.details["task_runs"] if r["name"] == "flaky_fetch"]
        assert flaky["run_count"] == 2  # Prefect ran the retry
    if example.name == "next_iteration":
        assert len([n for n in run.states if n.startswith("countdown")]) == 3


def _base(name: str) -> str:
    return name.rsplit("_", 1)[0] if "_cycle_" in name else name


def test_failing_run_error_is_the_engines(prefect_server, tmp_path) -> None:
    run = run_on("prefect", get_example("failing").build, {"n": 1})
    assert isinstance(run.error, GraflowRuntimeError)
    assert isinstance(run.error.__cause__, CatalogError)
    assert "explode" in str(run.error.__cause__)
    assert run.states == {"load": "success", "explode": "failed"}
    assert run.native_tasks == 2
    assert run.channel["load.__result__"] == 2 and run.channel["exploded"] is True
    with pytest.raises(GraflowRuntimeError):
        run.raise_for_error()


class _RunIds:
    """Run plugin: the workflow_run_id of each run's context."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    @hookimpl
    def workflow_start(self, context: Any, workflow_name: str) -> None:
        self.ids.append(context.workflow_run_id)


def test_repeated_runs_are_separate_flow_runs(prefect_server) -> None:
    example = get_example("linear")
    seen = _RunIds()
    runs = [run_on("prefect", example.reference, {"n": n}, plugins=[seen]) for n in (1, 2)]
    assert [r.result for r in runs] == ["4 items", "6 items"]
    assert runs[0].run_id != runs[1].run_id
    assert seen.ids == [r.run_id for r in runs]  # the flow run id is the engine's run id
    assert prefect_server.flow_run(runs[0].run_id).state.is_completed()
    assert all(r.native_tasks == 3 for r in runs)
    assert all(r.details["api_url"] == prefect_server.api_url for r in runs)


def test_retries_exhausted_count_one_task_run(prefect_server) -> None:
    run = run_on("prefect", build_always_fails, {})
    assert isinstance(run.error, GraflowRuntimeError)
    assert run.states == {"always_fails": "failed"}
    (info,) = run.details["task_runs"]
    assert info["run_count"] == 4  # 1 attempt + 3 Prefect retries
    assert run.channel["seen_retry_counts"] == [0, 1, 2, 3]


def test_parameter_that_is_not_an_identifier_is_refused(prefect_server) -> None:
    with pytest.raises(ConfigError, match="not a Python identifier"):
        run_on("prefect", get_example("linear").build, {"n": 1, "out.x": 2})


def test_local_and_doctor_modules_import_neither_prefect_nor_pytest() -> None:
    # run_on("prefect") is for users too: the run module must not need pytest (the fixtures'
    # module) and, like the rest of the package, imports Prefect only when it runs.
    code = (
        "import sys, graflow_prefect.local, graflow_prefect.doctor\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('prefect', 'pytest'))\n"
        "assert not heavy, heavy\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_an_unreachable_configured_api_is_a_config_error_with_the_fix(prefect_server) -> None:
    import socket
    import time

    import prefect.settings as ps

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
    started = time.perf_counter()
    with (
        ps.temporary_settings(updates={ps.PREFECT_API_URL: url}),
        pytest.raises(ConfigError, match="prefect server start") as caught,
    ):
        run_on("prefect", get_example("linear").build, {"n": 1})
    assert f"PREFECT_API_URL={url}" in str(caught.value)
    assert "does not answer" in str(caught.value)
    assert time.perf_counter() - started < 3.0  # not Prefect's own 3.5 s of retries


def test_the_spec_of_a_rendered_flow_is_a_copy() -> None:
    from graflow_prefect.flow import spec_from_rendered_flow, to_prefect_flow

    from graflow_core.spec import build_spec

    spec = build_spec(get_example("linear").build())
    flow = to_prefect_flow(spec)
    got = spec_from_rendered_flow(flow)
    assert got == spec and got is not spec
    got.name = "changed"
    got.nodes.clear()
    assert spec_from_rendered_flow(flow) == spec  # what the flow runs is unchanged
