"""Every catalogue workflow runs natively and on Prefect with identical results and channels,
and every graflow task that ran is a Prefect task run named by its graflow id."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graflow_prefect import to_prefect_flow
from prefect_test_helpers import Capture

from graflow_core.core.task import ParallelGroup
from graflow_core.testing.catalog import (
    EXAMPLES,
    check_outcome,
    run_native,
    task_results,
    user_channel,
)


def _prefect_run(example: Any, scratch: str) -> tuple[Any, BaseException | None, Capture]:
    capture = Capture()
    params = example.run_params(scratch)
    # scratch_dir is not a task parameter: give it to the flow as an explicit parameter
    extra = {k: v for k, v in params.items() if k == "scratch_dir"}
    flow = to_prefect_flow(example.build, parameters=extra, plugins=[capture])
    state = flow(**params, return_state=True)
    error: BaseException | None = None
    result = None
    try:
        result = state.result()
    except Exception as exc:
        error = exc
    capture.flow_run_id = str(state.state_details.flow_run_id)  # type: ignore[attr-defined]
    capture.state = state  # type: ignore[attr-defined]
    return result, error, capture


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_catalog_example_same_on_prefect_as_native(example, prefect_server, tmp_path) -> None:
    native_dir, prefect_dir = tmp_path / "native", tmp_path / "prefect"
    native_dir.mkdir()
    prefect_dir.mkdir()
    result, error, capture = _prefect_run(example, str(prefect_dir))
    assert capture.channel is not None, "the flow did not run the workflow"

    if example.error is not None:
        with pytest.raises(example.error) as native_error:
            run_native(example, scratch_dir=str(native_dir))
        assert isinstance(error, example.error)
        assert isinstance(error.__cause__, example.error_cause)
        assert type(error.__cause__) is type(native_error.value.__cause__)
        assert capture.state.is_failed()
        for tid, expected in example.expected_results.items():
            assert task_results(capture.channel)[tid] == expected
        assert not [k for k in example.absent if k in capture.channel]
    else:
        assert error is None
        native_result, native_channel = run_native(example, scratch_dir=str(native_dir))
        check_outcome(example, result, capture.channel)
        assert result == native_result
        assert user_channel(capture.channel) == user_channel(native_channel)
        assert _comparable(task_results(capture.channel)) == _comparable(
            task_results(native_channel)
        )
        assert capture.state.is_completed()

    # The context's workflow_run_id is the Prefect flow run id.
    ctx = capture.context
    assert ctx.workflow_run_id == capture.flow_run_id

    # Every graflow task that ran is one Prefect task run named by its id (retries included:
    # a retried task is ONE task run with several attempts, not several task runs).
    graph = ctx.graph
    results = task_results(capture.channel)
    ran = {
        tid
        for tid, value in results.items()
        if not isinstance(graph._tasks.get(tid) or _member(graph, tid), ParallelGroup)
        and not isinstance(value, BaseException)
    }
    failing = set(example.failed_tasks)
    runs = prefect_server.task_runs(capture.flow_run_id, expected=len(ran) + len(failing))
    by_name = {r.name: r for r in runs}
    if "cycles" not in example.features:  # a static cycle re-runs a task under its own id
        assert len(by_name) == len(runs), [r.name for r in runs]
    completed = {name for name, r in by_name.items() if r.state_type == "COMPLETED"}
    failed = {name for name, r in by_name.items() if r.state_type == "FAILED"}
    assert completed == ran
    assert failed == failing
    if example.name in ("parallel_strict", "nested_groups"):
        # members record their group's predecessor as upstream (the UI draws the fan-out)
        prepare = [by_name["prepare"].id]
        members = completed - {"prepare", "collect", "chain_tail"}
        assert {n: by_name[n].upstream.get("upstream") for n in members} == dict.fromkeys(
            members, prepare
        )
    if example.name == "nested_groups":
        assert by_name["chain_tail"].upstream.get("upstream") == [by_name["chain_head"].id]
    if example.name == "retry":
        assert by_name["flaky_fetch"].run_count == 2  # Prefect ran the retry
        assert by_name["flaky_fetch"].state_name == "Completed"
    if example.name == "next_task":
        assert "extra_work" in completed  # a task added at run time is a task run too
    if example.name == "next_iteration":
        assert len([n for n in completed if n.startswith("countdown")]) == 3


def _member(graph: Any, tid: str) -> Any:
    try:
        return graph.get_node(tid)
    except KeyError:
        return None


def _comparable(results: dict[str, Any]) -> dict[str, Any]:
    """Task results with exceptions compared by type and message (not identity), iteration ids
    without their random suffix (``countdown_cycle_1_7a28b9b2`` -> ``countdown_cycle_1``)."""
    return {
        _ITERATION.sub(r"\1", k): (type(v).__name__, str(v)) if isinstance(v, BaseException) else v
        for k, v in results.items()
    }


_ITERATION = re.compile(r"(_cycle_\d+)_[0-9a-f]+$")
