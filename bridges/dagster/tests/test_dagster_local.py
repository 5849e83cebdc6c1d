"""run_on("dagster", ...): every catalogue workflow runs on real Dagster (execute_in_process)
with the same result, final channel and failure types as natively; states, run ids, instances."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus
from graflow_dagster.local import run_workflow

from graflow_core.exceptions import ConfigError, GraflowRuntimeError, RetryLimitExceededError
from graflow_core.spec import build_spec
from graflow_core.spec.target_run import STATES, TargetRun, run_native, run_on
from graflow_core.testing.catalog import (
    EXAMPLES,
    CatalogError,
    Example,
    check_outcome,
    get_example,
    user_channel,
)

SECRET = "dagster-local-test-signing-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Native checkpoints are signed (the checkpoint example needs a key)."""
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", SECRET)


def on_dagster(
    example: Example, instance: DagsterInstance, scratch: Path, **options: Any
) -> TargetRun:
    params = example.run_params(str(scratch))
    return run_on("dagster", example.reference, params, instance=instance, **options)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_same_as_native(
    example: Example, dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    (tmp_path / "native").mkdir()
    (tmp_path / "dagster").mkdir()
    native = run_native(example.build, example.run_params(str(tmp_path / "native")))
    run = on_dagster(example, dagster_memory_instance, tmp_path / "dagster")

    assert run.target == "dagster"
    assert run.run_id and run.run_id != native.run_id
    assert set(run.states.values()) <= set(STATES)
    assert 0 < run.native_tasks <= len(run.states)
    if example.error is None:
        assert run.error is None, run.error
        check_outcome(example, run.result, run.channel)
        assert run.result == native.result
        assert user_channel(run.channel) == user_channel(native.channel)
        assert run.details["success"] is True
    else:
        assert isinstance(run.error, example.error)
        assert type(run.error) is type(native.error)
        assert type(run.error.__cause__) is type(native.error.__cause__)
        if example.error_cause is not None:
            assert isinstance(run.error.__cause__, example.error_cause)
        assert run.result is None
        assert run.details["success"] is False
    if example.static:  # one op per graflow task: the ops' states are the tasks' states
        for task_id, state in native.states.items():
            assert run.states.get(task_id, state) == state, (task_id, run.states)


def test_failing_run(dagster_memory_instance: DagsterInstance, tmp_path: Path) -> None:
    run = on_dagster(get_example("failing"), dagster_memory_instance, tmp_path)

    assert type(run.error) is GraflowRuntimeError
    assert isinstance(run.error.__cause__, CatalogError)
    assert "explode fails on purpose" in str(run.error.__cause__)
    assert run.states == {"load": "success", "explode": "failed", "never_runs": "upstream_failed"}
    assert run.native_tasks == 2
    # what the op that succeeded handed on, and what the failing op yielded before failing:
    # its exception result (as natively) and its channel write
    assert run.results["load"] == 2
    assert isinstance(run.results["explode"], CatalogError)
    assert run.channel["exploded"] is True
    with pytest.raises(GraflowRuntimeError):
        run.raise_for_error()


def test_goto_skips_the_branch_not_taken(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    taken = on_dagster(get_example("goto_branch"), dagster_memory_instance, tmp_path)
    other = on_dagster(get_example("goto_branch_other_way"), dagster_memory_instance, tmp_path)

    assert taken.states == {
        "decide": "success",
        "approve": "success",
        "reject": "skipped",
        "notify": "success",
    }
    assert taken.native_tasks == 3
    assert other.states == {
        "decide": "success",
        "approve": "skipped",
        "reject": "success",
        "notify": "skipped",
    }
    assert other.native_tasks == 2
    skipped = dagster_memory_instance.all_logs(other.run_id, of_type=DagsterEventType.STEP_SKIPPED)
    assert sorted(e.step_key for e in skipped) == ["approve", "notify"]


def test_group_member_failing_for_good(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    tolerant = on_dagster(get_example("best_effort"), dagster_memory_instance, tmp_path)
    strict = on_dagster(get_example("group_failure"), dagster_memory_instance, tmp_path)

    assert tolerant.ok and tolerant.states["bad"] == "failed"
    assert tolerant.states["tolerant"] == "success"
    assert strict.states["f2"] == "failed"
    assert strict.states["all_or_nothing"] == "failed"
    assert strict.states["collect"] == "upstream_failed"
    assert type(strict.error).__name__ == "ParallelGroupError"


def test_run_id_is_the_workflow_run_id_and_retries_are_dagsters(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    run = on_dagster(get_example("retry"), dagster_memory_instance, tmp_path)

    # the task counts its attempts in a file named by ExecutionContext.workflow_run_id
    (attempts,) = tmp_path.glob("graflow-catalog-*-flaky_fetch.attempts")
    assert run.run_id in attempts.name
    assert attempts.read_text() == "2"
    assert run.details["retries"] == {"flaky_fetch": 1}
    assert dagster_memory_instance.get_run_by_id(run.run_id) is not None


def test_every_workflow_form_and_repeated_runs(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    example = get_example("diamond")
    forms = [
        example.reference,
        example.build,
        example.build(),
        build_spec(example.build()),
        build_spec(example.build()).to_json(),
    ]
    runs = [run_workflow(f, {"n": 3}, instance=dagster_memory_instance) for f in forms]

    assert [r.result for r in runs] == [example.expected_result] * len(forms)
    assert len({r.run_id for r in runs}) == len(forms)
    assert all(r.wall_seconds > 0 for r in runs)


def test_default_instances(
    monkeypatch: pytest.MonkeyPatch,
    dagster_instance: DagsterInstance,
    dagster_home: Path,
    tmp_path: Path,
) -> None:
    example = get_example("linear")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    ephemeral = run_workflow(example.reference, dict(example.params))
    assert ephemeral.details["instance"] == "ephemeral"
    assert ephemeral.result == example.expected_result
    assert dagster_instance.get_run_by_id(ephemeral.run_id) is None

    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    kept = run_workflow(example.reference, dict(example.params), log_level="error")
    assert kept.details["instance"] == str(dagster_home)
    stored = dagster_instance.get_run_by_id(kept.run_id)
    assert stored is not None and stored.status == DagsterRunStatus.SUCCESS
    assert stored.run_config["resources"]["graflow"]["config"]["params"] == {"n": 20}

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="DAGSTER_HOME"):
        run_workflow(example.reference, dict(example.params))


def test_error_after_the_last_dagster_retry(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    (tmp_path / "native").mkdir()
    (tmp_path / "dagster").mkdir()
    ref = "dagster_test_flows:build_always_fails"
    native = run_native(ref, {"scratch_dir": str(tmp_path / "native")})
    run = run_workflow(
        ref, {"scratch_dir": str(tmp_path / "dagster")}, instance=dagster_memory_instance
    )

    assert type(run.error) is type(native.error) is RetryLimitExceededError
    assert (tmp_path / "dagster" / "always_fails.attempts").read_text() == "4"  # 1 + 3 retries
    assert run.details["retries"] == {"always_fails": 3}
    assert run.states == {"always_fails": "failed", "double": "upstream_failed"}


def test_a_run_parameter_that_is_not_json_is_a_config_error(
    dagster_memory_instance: DagsterInstance, tmp_path: Path
) -> None:
    # Dagster stores the run config as JSON: its own SerializationError used to surface
    linear = get_example("linear")
    with pytest.raises(ConfigError, match=r"run parameter 'started' is not JSON"):
        run_workflow(
            linear.reference,
            {**linear.run_params(str(tmp_path)), "started": object()},
            instance=dagster_memory_instance,
        )


def test_overlapping_process_keys_keep_the_key_until_the_last_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graflow_core.signing import KEY_ENV, process_key

    monkeypatch.delenv(KEY_ENV)
    first, second = process_key(), process_key()
    assert first.__enter__() is True
    assert second.__enter__() is True  # it uses the process key too
    key = os.environ[KEY_ENV]
    first.__exit__(None, None, None)
    assert os.environ.get(KEY_ENV) == key  # not removed under the second
    second.__exit__(None, None, None)
    assert KEY_ENV not in os.environ


def test_two_concurrent_runs_without_a_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each local run sets the process's temporary key; one ending must not remove it under
    the other (whose failed op's exception result is signed)."""
    from concurrent.futures import ThreadPoolExecutor

    from graflow_core.signing import KEY_ENV

    monkeypatch.delenv(KEY_ENV)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    example = get_example("failing")

    def one(i: int) -> TargetRun:
        (tmp_path / str(i)).mkdir()
        return run_workflow(example.reference, example.run_params(str(tmp_path / str(i))))

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(one, range(2)))
    for run in runs:
        assert type(run.error) is GraflowRuntimeError, run.error
        assert isinstance(run.error.__cause__, CatalogError)
        assert isinstance(run.results["explode"], CatalogError)
        assert run.details["ephemeral_signing_key"] is True
    assert KEY_ENV not in os.environ


def test_a_member_chain_after_its_failed_head_is_upstream_failed(
    dagster_memory_instance: DagsterInstance,
) -> None:
    """Natively the chain's tail never starts; on Dagster its op passes the failure on, and
    the run reports it as upstream_failed (found by the conformance differential tests)."""
    reference = "dagster_chain_workflows:build_failing_member_chain"
    native = run_native(reference)
    run = run_workflow(reference, instance=dagster_memory_instance)
    assert type(run.error) is type(native.error)
    assert "tail" not in native.states
    assert run.states["head"] == "failed"
    assert run.states["tail"] == "upstream_failed"
    assert run.states["ok"] == "success"
