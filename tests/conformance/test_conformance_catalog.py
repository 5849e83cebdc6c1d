"""Every catalogue workflow runs natively and on Airflow, Prefect and Dagster alike.

One test per example and engine, through ``run_on(engine, ...)``: the run must meet the
example's own expectations (result, task results, final channel, absent keys, error type and
``__cause__`` type) and give the same outcome as the graflow engine (conformance_support).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

import pytest
from conformance_support import ENGINES, Outcome, explain, graflow_states, partial_channel

from graflow_core.spec import build_spec, get_target
from graflow_core.spec.target_run import TargetRun, run_native
from graflow_core.testing.catalog import EXAMPLES, Example, check_outcome, task_results


@pytest.fixture(scope="module")
def native_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TargetRun]:
    """The graflow engine's run of every example (the reference), made once."""
    runs = {}
    for example in EXAMPLES:
        scratch = tmp_path_factory.mktemp(f"native-{example.name}")
        runs[example.name] = run_native(example.build, example.run_params(str(scratch)))
    return runs


def check_expectations(example: Example, run: TargetRun) -> None:
    """``run`` is what ``example`` says every correct run produces."""
    if example.error is None:
        assert run.error is None, f"{run.target}: {run.error!r}"
        check_outcome(example, run.result, run.channel)
        return
    assert isinstance(run.error, example.error), f"{run.target}: {run.error!r}"
    assert isinstance(run.error.__cause__, example.error_cause), repr(run.error.__cause__)
    assert run.result is None
    results = task_results(run.channel)
    for tid, expected in example.expected_results.items():
        assert results.get(tid) == expected, (tid, results)
    present = [k for k in example.absent if k in run.channel]
    assert not present, f"{run.target}: keys that must be absent are present: {present}"


def check_states(example: Example, engine: str, run: TargetRun, tasks: set[str]) -> None:
    """The orchestrator's task states: the tasks that failed are exactly ``failed_tasks`` (a
    group fails only with the run), nothing else failed or was stopped in a passing run.

    Where the whole run is hosted in one native task (a non-static example on a static
    target), the graflow tasks have no states of their own: that task fails with the run.
    """
    states = graflow_states(run)
    failed = {n for n, s in states.items() if s == "failed"}
    hosted = (
        not example.static
        and get_target(engine).capabilities.support("next_task").level == "hosted"
    )
    if hosted:
        assert bool(failed) == (example.error is not None), (engine, run.states)
        return
    assert failed & tasks == set(example.failed_tasks), (engine, run.states)
    if example.error is None:
        assert failed <= tasks, f"{engine}: a group failed in a passing run: {run.states}"
        stopped = {n: s for n, s in states.items() if s not in ("success", "skipped", "failed")}
        assert not stopped, (engine, run.states)


#: Cells of the matrix that do not conform yet: (example, engine) -> why. They run as strict
#: xfails, so a fix shows up as an unexpected pass (then remove the entry); see
#: docs/conformance.md. (None at the moment.)
KNOWN_GAPS: dict[tuple[str, str], str] = {}


def _matrix() -> list[Any]:
    cells = []
    for example in EXAMPLES:
        for engine in ENGINES:
            gap = KNOWN_GAPS.get((example.name, engine))
            marks = [pytest.mark.xfail(reason=gap, strict=True)] if gap else []
            cells.append(pytest.param(example, engine, id=f"{example.name}-{engine}", marks=marks))
    return cells


@pytest.mark.parametrize(("example", "engine"), _matrix())
def test_catalogue_example_runs_alike_on_every_engine(
    example: Example,
    engine: str,
    native_runs: dict[str, TargetRun],
    run_on_engine: Any,
    tmp_path: Path,
) -> None:
    run = run_on_engine(engine, example.build, example.run_params(str(tmp_path)))
    assert run.target == engine
    check_expectations(example, run)
    native = native_runs[example.name]
    partial = partial_channel(engine, run)
    spec = build_spec(example.build())
    problems = Outcome.of(run).differences(Outcome.of(native), partial=partial, spec=spec)
    assert not problems, explain(engine, problems, run)
    assert run.run_id, "every run has the orchestrator's run identity"
    if example.error is None:
        assert run.native_tasks > 0
    check_states(example, engine, run, {t.id for t in spec.tasks})
    if "checkpoints" in example.features:
        written = glob.glob(os.path.join(str(tmp_path), "*.checkpoint.pkl"))
        level = get_target(engine).capabilities.support("checkpoints").level
        # where checkpoints are native the task's checkpoint is written; where the target
        # ignores them (each native task's output is the checkpoint) nothing is written
        assert bool(written) == (level == "native"), (engine, level, written)
