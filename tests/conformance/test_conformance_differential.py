"""Differential tests: random workflows run on the graflow engine, Airflow, Prefect and Dagster
with identical outcomes (result, task results, final channel, error type and cause type).

The workflows are the spec tests' random plans (tests/spec/test_spec_properties.py: DAG shapes,
parallel groups nested one level, every group policy, group backends, retry policies, failing
tasks, channel writes by every task) and the step tests' random branching workflows
(tests/steps/test_steps_conformance.py: ``goto`` jumps), built from module-level tasks so that
every engine can import them. Profiles: see conftest.py (``GRAFLOW_CONFORMANCE_PROFILE``).
"""

from __future__ import annotations

from typing import Any

import test_spec_properties as props
import test_steps_conformance as steps_props
from conformance_support import ENGINES, Outcome, explain, partial_channel, profile_name
from hypothesis import assume, example, given, settings

from graflow_core.spec import WorkflowSpec, build_spec, get_target
from graflow_core.spec.preflight_check import preflight
from graflow_core.spec.target_run import TargetRun
from graflow_core.steps import plan_steps

PROFILE = settings.get_profile(profile_name())


def _raised_before_the_run(engine: str, build: Any, spec: WorkflowSpec) -> BaseException | None:
    """The error rendering or planning ``build()`` for ``engine`` raises, or ``None``."""
    bridge = get_target(engine)
    try:
        if bridge.render is not None:
            bridge.render(build())
        plan_steps(spec)
    except Exception as exc:
        return exc
    return None


def _compare_everywhere(build: Any, run_on_engine: Any, _checking_empty: bool = False) -> None:
    """Run ``build()`` on every engine and compare each outcome with the graflow engine's.

    A bridge may raise instead of returning a failed ``TargetRun`` only for an error raised
    before the run (the workflow cannot be rendered or planned for it), which its preflight
    report must name; an error of the run itself must come back as ``TargetRun.error``.
    """
    reference: TargetRun | None = None
    spec = build_spec(build())
    if not spec.tasks and not _checking_empty:
        # every task created outside the block: test_an_empty_workflow_is_refused_alike
        assume(False)
    for engine in ENGINES:
        try:
            run = run_on_engine(engine, build, {})
        except Exception as exc:
            assert reference is not None and reference.error is not None, (engine, exc)
            expected = type(reference.error)  # the same kind of error, maybe wrapped by the bridge
            assert isinstance(exc, expected) or isinstance(exc.__cause__, expected), (
                engine,
                exc,
                reference.error,
            )
            before = _raised_before_the_run(engine, build, spec)
            kinds = {type(exc), type(exc.__cause__)}
            assert before is not None and kinds & {type(before), type(before.__cause__)}, (
                f"{engine} raised {exc!r} from the run instead of returning it as "
                f"TargetRun.error (rendering and planning raise {before!r})"
            )
            report = preflight(spec, engine)
            assert not report.ok, f"{engine} cannot render or plan it, yet preflight is ok: {exc!r}"
            continue
        if reference is None:
            reference = run
            continue
        problems = Outcome.of(run).differences(
            Outcome.of(reference), partial=partial_channel(engine, run), spec=spec
        )
        assert not problems, explain(engine, problems, run)
        if run.error is None:
            report = preflight(spec, engine)
            assert report.ok, f"ran on {engine}, yet preflight says: {report}"


def _task_plan(fails: bool) -> dict[str, Any]:
    return {"fails": fails, "k": 1, "salt": 0, "extra": None, "retry": None, "inside": True}


#: Two independent failing branches after one root: a strict group with a failing member, then
#: a failing task. The engine stops at the first failure in plan order (the group's
#: ParallelGroupError); the orchestrators run both branches and must report that one too (Dagster
#: used to report the later task's GraflowRuntimeError, fixed in 6f3bd6f).
TWO_FAILING_BRANCHES: dict[str, Any] = {
    "nodes": [
        ("task", _task_plan(False)),
        (
            "group",
            {
                "members": [
                    {"kind": "task", "task": _task_plan(True)},
                    {"kind": "task", "task": _task_plan(False)},
                ],
                "policy": "strict",
                "critical": [False, False],
                "at_least": 0,
                "allowed": 0,
                "backend": None,
                "thread_count": None,
                "name": True,
                "nested_via_constructor": False,
            },
        ),
        ("task", _task_plan(True)),
    ],
    "preds": [[0], [0]],
    "default_retry": None,
    "version": None,
}


@settings(PROFILE)
@given(plan=props.workflow_plans())
@example(plan=TWO_FAILING_BRANCHES)
def test_random_workflows_run_alike_on_every_engine(
    plan: dict[str, Any], run_on_engine: Any
) -> None:
    plan = steps_props._threaded(plan)
    _compare_everywhere(lambda: props._Builder().build(plan), run_on_engine)


@settings(PROFILE)
@given(plan=steps_props.branch_plans())
def test_random_branching_workflows_run_alike_on_every_engine(
    plan: dict[str, Any], run_on_engine: Any
) -> None:
    _compare_everywhere(lambda: steps_props._branch_workflow(plan), run_on_engine)


def test_an_empty_workflow_is_refused_alike(run_on_engine: Any) -> None:
    """Every task created outside the block: the engine refuses the workflow, every bridge
    raises the same kind of error before the run, and preflight reports it."""
    plan = {
        "nodes": [("task", {**_task_plan(True), "inside": False})],
        "preds": [],
        "default_retry": None,
        "version": None,
    }
    _compare_everywhere(lambda: props._Builder().build(plan), run_on_engine, _checking_empty=True)
