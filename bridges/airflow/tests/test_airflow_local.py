"""``run_on("airflow", ...)``: every catalogue workflow runs on Airflow (dag.test(), in process)
with the same result, channel, failure type and task count as on the graflow engine."""

from __future__ import annotations

import re
from typing import Any

import pytest

from graflow_core import RetryPolicy, task, workflow
from graflow_core.spec.target_run import run_native, run_on
from graflow_core.testing.catalog import EXAMPLES, check_outcome, get_example

_ITERATION = re.compile(r"_cycle_(\d+)_[0-9a-f]{8}")


def _normal(channel: dict[str, Any]) -> dict[str, Any]:
    """Iteration task ids end in random hex: keep only the iteration number."""
    return {_ITERATION.sub(r"_cycle_\1", k): v for k, v in channel.items()}


def _comparable(results: dict[str, Any]) -> dict[str, Any]:
    """Exceptions (stored results of failed tasks) compared by type and message."""
    return {
        k: (type(v).__name__, str(v)) if isinstance(v, BaseException) else v
        for k, v in results.items()
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_catalogue_example_on_airflow_is_like_native(example, airflow_env, tmp_path):
    from graflow_core.spec import build_spec
    from graflow_core.steps import plan_steps

    params = example.run_params(str(tmp_path))
    native = run_native(example.build, params)
    run = run_on("airflow", example.build, params)
    assert run.target == "airflow"
    assert run.run_id.startswith(f"{run.details['dag_id']}/manual__")
    assert set(run.states.values()) <= {"success", "failed", "skipped", "upstream_failed"}
    if example.error is None:
        assert run.ok, run.error
        check_outcome(example, run.result, run.channel)
        assert run.result == native.result
        assert _normal(run.channel) == _normal(native.channel)
    else:
        assert type(run.error) is type(native.error) is example.error
        if example.error_cause is not None:
            assert type(run.error.__cause__) is example.error_cause
        assert run.result is None
        # a failed run keeps what ran until the failure: the failing task's exception result too
        assert _comparable(run.results) == _comparable(native.results)
    if plan_steps(build_spec(example.build())).whole:
        assert run.native_tasks == 1  # one GraflowOperator
    elif example.static:
        assert run.native_tasks == native.native_tasks


def test_failing_example_states_and_error(airflow_env):
    example = get_example("failing")
    run = run_on("airflow", example.build, example.run_params())
    assert not run.ok
    assert run.states == {"load": "success", "explode": "failed", "never_runs": "upstream_failed"}
    assert run.native_tasks == 2  # never_runs did not run
    assert "explode fails on purpose" in str(run.error)
    with pytest.raises(example.error):
        run.raise_for_error()


def test_goto_example_shows_the_branch_not_taken_as_skipped(airflow_env):
    run = run_on("airflow", get_example("goto_branch_other_way").reference, {"amount": 10})
    assert run.ok
    assert run.states == {
        "decide": "success",
        "reject": "success",
        "approve": "skipped",
        "notify": "skipped",
    }
    assert run.native_tasks == 2
    assert run.result == "rejected 10"


@task
def echo_params(n: int, unit: str = "none") -> str:
    return f"{n} {unit}"


@task(inject_context=True)
def run_identity(ctx: Any, echo: str) -> list[str]:
    return [echo, ctx.execution_context.workflow_run_id]


def test_repeated_runs_get_their_own_run_ids_and_conf(airflow_env):
    """One run's conf does not leak into the next (dag.test keeps conf in task params); the
    run id is the workflow_run_id the steps saw."""
    with workflow("local_echo") as wf:
        echo_params(task_id="echo") >> run_identity
    first = run_on("airflow", wf, {"n": 1, "unit": "boxes"})
    second = run_on("airflow", wf, {"n": 2})
    assert (first.result, second.result) == (["1 boxes", first.run_id], ["2 none", second.run_id])
    assert first.run_id != second.run_id
    assert second.wall_seconds < 30
    assert second.details["setup_seconds"] == 0.0


@task
def one() -> int:
    return 1


@task
def two(one: int) -> int:
    return one + 1


def test_two_workflows_of_one_name_run_one_after_the_other(airflow_env):
    with workflow("local_same_name") as first:
        one >> two
    with workflow("local_same_name") as second:
        one(task_id="one")
    assert run_on("airflow", first, {}).result == 2
    run = run_on("airflow", second, {})
    assert run.result == 1
    assert set(run.states) == {"one"}


_FRESH_PROCESS = """
import json, sys
from graflow_core.spec.target_run import run_on
from graflow_core.testing.catalog import get_example

out = {}
for name in ("linear", "terminate"):  # terminate: hosted in a GraflowOperator (signs checkpoints)
    example = get_example(name)
    run = run_on("airflow", example.build, example.run_params(), quiet=True)
    details = run.details
    out[name] = [run.ok, run.result, details["setup_seconds"] > 0, details["ephemeral_signing_key"]]
    out[name].append(example.build().name in details["log"])  # what Airflow printed
json.dump(out, sys.stdout)
"""


@pytest.mark.slow
def test_a_fresh_process_and_home_without_the_fixture(tmp_path):
    """No fixture, no database, no signing key: the first run creates the schema of the
    configured AIRFLOW_HOME's new database and warms up; the key is the process's own; quiet
    runs print nothing (Airflow's output is in the details)."""
    import json
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GRAFLOW_SECRET"))}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    proc = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == ""
    assert json.loads(proc.stdout) == {
        "linear": [True, "42 items", True, True, True],
        "terminate": [True, "stopped at 2", False, True, True],
    }
    assert (home / "airflow.db").is_file()
    assert (home / "dags").is_dir()


@task(retry_policy=RetryPolicy(max_retries=1, initial_interval=0.0))
def always_fails() -> None:
    raise ValueError("always")


def test_a_task_failing_after_its_last_airflow_retry_raises_what_the_engine_raises(airflow_env):
    with workflow("local_retries_exhausted") as wf:
        one >> always_fails
    native = run_native(wf, {})
    run = run_on("airflow", wf, {})
    assert run.details["try_numbers"]["always_fails"] == 2  # Airflow retried once
    assert type(run.error) is type(native.error)
    assert type(run.error.__cause__) is type(native.error.__cause__)
    assert run.states == {"one": "success", "always_fails": "failed"}
