"""TargetRun, run_native / run_on and LazyCallable: the common shape of a run on any engine."""

from __future__ import annotations

import pytest

from graflow_core.exceptions import ConfigError, GraflowRuntimeError
from graflow_core.spec import Bridge, Capabilities, build_spec, register_target, unregister_target
from graflow_core.spec.errors import UnknownTargetError
from graflow_core.spec.target_run import TargetRun, resolve_workflow, run_native, run_on
from graflow_core.spec.targets import LazyCallable
from graflow_core.testing.catalog import CatalogError, check_outcome, get_example


@pytest.mark.parametrize("form", ["reference", "builder", "workflow", "spec"])
def test_run_native_accepts_every_form_of_workflow(form: str) -> None:
    example = get_example("diamond")
    workflow = {
        "reference": example.reference,
        "builder": example.build,
        "workflow": example.build(),
        "spec": build_spec(example.build()),
    }[form]
    run = run_native(workflow, example.params)
    assert run.ok and run.target == "graflow"
    check_outcome(example, run.result, run.channel)
    assert run.native_tasks == 4
    assert run.states == dict.fromkeys(["root", "left", "right", "join"], "success")
    assert run.results["join"] == [13, 30]
    assert run.user_channel == {"n": 3}
    assert run.run_id and run.wall_seconds > 0


def test_a_failed_run_keeps_the_error_and_the_channel_so_far() -> None:
    example = get_example("failing")
    run = run_on("graflow", example.reference, example.params)
    assert not run.ok and run.result is None
    assert isinstance(run.error, GraflowRuntimeError)
    assert isinstance(run.error.__cause__, CatalogError)
    assert run.states == {"load": "success", "explode": "failed"}
    assert run.results["load"] == 2
    assert isinstance(run.results["explode"], CatalogError)  # the engine stores the exception
    with pytest.raises(GraflowRuntimeError):
        run.raise_for_error()


def test_retried_task_ends_as_success(tmp_path) -> None:
    example = get_example("retry")
    run = run_native(example.reference, example.run_params(str(tmp_path)))
    assert run.ok and run.states["flaky_fetch"] == "success"
    assert run.result == "succeeded on attempt 2"


def test_run_on_an_unknown_or_runless_target_says_what_to_do() -> None:
    with pytest.raises(UnknownTargetError, match="Known targets"):
        run_on("no-such-engine", get_example("linear").reference)
    register_target(Bridge("paper", Capabilities("paper", {})))
    try:
        with pytest.raises(ConfigError, match="cannot run workflows locally"):
            run_on("paper", get_example("linear").reference)
    finally:
        unregister_target("paper")


def test_run_on_passes_params_and_options_to_the_bridge() -> None:
    seen = {}

    def fake_run(workflow, params, **options):
        seen.update(workflow=workflow, params=params, options=options)
        return TargetRun("recording", result=42)

    register_target(Bridge("recording", Capabilities("recording", {}), run=fake_run))
    try:
        run = run_on("recording", "pkg:wf", {"n": 1}, dag_id="x")
    finally:
        unregister_target("recording")
    assert run.result == 42
    assert seen == {"workflow": "pkg:wf", "params": {"n": 1}, "options": {"dag_id": "x"}}


def test_resolve_workflow_rejects_what_is_not_a_workflow() -> None:
    with pytest.raises(ConfigError, match="zero-argument function"):
        resolve_workflow(42)
    with pytest.raises(ConfigError):
        resolve_workflow(lambda: "not a workflow")


def test_a_spec_starts_at_its_start_node_natively_as_on_the_bridges() -> None:
    spec = build_spec(get_example("linear").build(), start_node="transform")
    run = run_native(spec, {"load": 5})
    assert run.ok and run.result == "10 items"
    assert list(run.states) == ["transform", "report"]
    assert run_native(spec.to_json(), {"load": 5}).result == "10 items"
    # an explicit start node wins
    assert run_native(spec, {"n": 1}, start_node="load").result == "4 items"


def test_lazy_callable_imports_on_first_call_only() -> None:
    import sys

    sys.modules.pop("graflow_core.testing.checkpoints", None)
    lazy = LazyCallable("graflow_core.testing.checkpoints:__name__.upper")
    assert repr(lazy) == "LazyCallable('graflow_core.testing.checkpoints:__name__.upper')"
    assert "graflow_core.testing.checkpoints" not in sys.modules  # nothing imported yet
    assert lazy() == "GRAFLOW_CORE.TESTING.CHECKPOINTS"
    assert "graflow_core.testing.checkpoints" in sys.modules
    lazy = LazyCallable("json:dumps")
    assert lazy([1]) == "[1]"
    with pytest.raises(ConfigError, match="module:attr"):
        LazyCallable("json.dumps")
    with pytest.raises(ConfigError):
        LazyCallable(":dumps")
    missing = LazyCallable("json:no_such_function")
    with pytest.raises(Exception, match="no attribute path"):
        missing()


def test_check_run_params_names_the_key_that_is_not_json(tmp_path) -> None:
    from graflow_core.spec.target_run import check_run_params

    check_run_params("dagster", {"n": 1, "xs": [1, "a", None], "d": {"k": 1.5}})
    check_run_params("dagster", None)
    with pytest.raises(ConfigError, match=r"dagster: run parameter 'when' is not JSON.*JSON value"):
        check_run_params("dagster", {"ok": 1, "when": object()})
    with pytest.raises(ConfigError, match=r"run parameter 'nested'"):
        check_run_params("airflow", {"nested": {"a": {1, 2}}})
    with pytest.raises(ConfigError, match=r"run parameter 3 has a int name"):
        check_run_params("prefect", {3: "x"})
    # the engine itself takes any value
    linear = get_example("linear")
    params = {**linear.run_params(str(tmp_path)), "anything": object()}
    assert run_native(linear.build, params).error is None
