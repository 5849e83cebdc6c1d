"""Workflow → spec → JSON → spec → workflow on hand-written workflows covering every feature."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import spec_sample_tasks as s

from graflow_core import ParallelGroup, RetryPolicy, Task, TaskWrapper, task, workflow
from graflow_core.core.graph import TaskGraph
from graflow_core.exceptions import GraflowWorkflowCanceledError, WorkflowDefinitionError
from graflow_core.spec import (
    SCHEMA_VERSION,
    GroupDef,
    PolicyDef,
    RetryDef,
    SpecError,
    SpecLoadError,
    TaskDef,
    WorkflowSpec,
    build_spec,
    check_referencable,
    load_workflow,
)

HANDLERS = {"spec_tagging": s.TaggingHandler()}


_ITERATION_ID = re.compile(r"_cycle_(\d+)_[0-9a-f]{8}")


def _channel(ctx: Any) -> dict[str, str]:
    # Results of failed tasks are exception objects: compare by repr. Iteration ids end in a
    # random suffix.
    return {
        _ITERATION_ID.sub(r"_cycle_\1", k): _ITERATION_ID.sub(r"_cycle_\1", repr(v))
        for k, v in ctx.channel.data.items()
    }


def _run(wf: Any, **kwargs: Any) -> tuple[str, Any, dict[str, str]]:
    try:
        result, ctx = wf.execute(ret_context=True, **kwargs)
    except Exception as exc:
        return ("error", f"{type(exc).__name__}: {exc}", {})
    return ("ok", result, _channel(ctx))


def _round_trip(wf: Any, **run_kwargs: Any) -> WorkflowSpec:
    """Assert every round trip of ``wf`` is lossless and that both workflows run alike."""
    spec = build_spec(wf)
    text = spec.to_json()
    again = WorkflowSpec.from_json(text)
    assert again == spec
    assert again.to_json() == text
    assert json.loads(text) == spec.to_dict()
    loaded = load_workflow(again, handlers=HANDLERS)
    assert build_spec(loaded) == spec
    assert build_spec(loaded).to_json() == text
    wf_handlers = getattr(wf, "_handlers", {})
    for name, handler in HANDLERS.items():
        wf_handlers.setdefault(name, handler)
    assert _run(loaded, **run_kwargs) == _run(wf, **run_kwargs)
    return spec


def test_everything_round_trips_and_runs_alike():
    spec = _round_trip(s.build_everything())
    assert spec.schema_version == SCHEMA_VERSION
    assert spec.name == "everything"
    assert spec.version == "2.1"
    assert spec.start_node == "source"
    assert spec.retry_policy == RetryDef(1, 0.0, 2.0, 5.0, False)

    assert spec.task("noop") == TaskDef(id="noop", kind="placeholder")
    assert spec.task("add_one").ref == "spec_sample_tasks:add_one_impl"
    assert spec.task("double").parameters == ["source"]
    step = spec.task("last")
    assert step.ref == "spec_sample_tasks:step"
    assert step.parameters == ["ctx", "k", "salt", "extra"]
    assert step.bound_kwargs == {"k": 5, "salt": 2.5, "extra": {"a": [1, None, True], "b": "s"}}
    assert step.inject_context is True
    assert step.features == ["channels"]

    flaky = spec.task("flaky")
    assert flaky.retry_policy == RetryDef(2, 0.0, 1.0, 0.0, False)
    assert flaky.max_retries == 2
    configured = spec.task("configured")
    assert (configured.max_retries, configured.max_cycles) == (3, 4)
    assert configured.resolve_keyword_args is False
    assert spec.task("decorated").parameters == ["x"]
    assert spec.task("handled").handler_type == "spec_tagging"
    echoed = spec.task("echoed")
    assert (echoed.ref, echoed.task_type) == ("spec_sample_tasks:echo_target", "spec-test-echo")
    assert echoed.type_options == {"prefix": ">"}
    guarded = spec.task("guarded")
    assert (guarded.timeout, guarded.circuit_breaker) == (5.0, "spec-test-breaker")

    groups = {g.id: g for g in spec.groups}
    assert groups["ParallelGroup_1"] == GroupDef(
        "ParallelGroup_1",
        ["c1", "c2"],
        "direct",
        {},
        PolicyDef("critical", {"critical_task_ids": ["c1"]}),
    )
    assert groups["ParallelGroup_2"].backend == "threading"
    assert groups["ParallelGroup_2"].backend_config == {"thread_count": 2}
    assert groups["ParallelGroup_2"].policy == PolicyDef("at_least_n", {"min_success": 1})
    assert groups["ParallelGroup_3"].policy == PolicyDef(
        "custom", {"ref": "spec_sample_tasks:TOLERANT", "state": None}
    )
    assert groups["ParallelGroup_4"].policy == PolicyDef(
        "custom", {"ref": "spec_sample_tasks:AllowFailures", "state": {"allowed": 0}}
    )
    assert groups["best"].policy == PolicyDef("best_effort")
    assert groups["best"].members == ["b1", "b2"]  # b3 follows b2 through an edge
    assert ("b2", "b3") in spec.edges
    outer = groups["ParallelGroup_7"]
    assert outer.members == ["ParallelGroup_6", "o1"]
    assert groups["ParallelGroup_6"].members == ["i1", "i2"]


def test_members_that_are_not_graph_nodes_are_only_in_their_group():
    free_a = s.step(task_id="free_a", k=1)  # created outside any block: not a node
    free_b = s.step(task_id="free_b", k=2)
    with workflow("free") as wf:
        s.source >> (free_a | free_b) >> s.step(task_id="end")
    spec = _round_trip(wf)
    assert "free_a" not in spec.nodes
    assert spec.group("ParallelGroup_1").members == ["free_a", "free_b"]
    assert {t.id for t in spec.tasks} >= {"free_a", "free_b"}


def test_loaded_workflow_uses_fresh_task_objects():
    with workflow("fresh") as wf:
        s.source >> s.double
    loaded = load_workflow(build_spec(wf))
    assert loaded.graph.get_node("source") is not s.source
    assert loaded.graph.get_node("source").func is s.source.func
    assert loaded.execute() == 6 == wf.execute()


def test_group_counter_continues_after_loaded_auto_ids():
    with workflow("ids") as wf:
        s.source >> (s.step(task_id="x") | s.step(task_id="y"))
    loaded = load_workflow(build_spec(wf))
    with loaded:
        group = s.step(task_id="p") | s.step(task_id="q")
    assert group.task_id == "ParallelGroup_2"


@pytest.mark.parametrize(
    ("build", "features"),
    [
        (lambda: s.router, ["goto", "next_task"]),
        (lambda: s.counter, ["channels", "next_iteration"]),
        (lambda: s.stopper, ["terminate"]),
        (lambda: s.canceller, ["cancel"]),
        (lambda: s.saver, ["checkpoints"]),
        (lambda: s.typed_writer, ["typed_channels"]),
        (lambda: s.nested_code, ["channels"]),
        (lambda: s.source, []),
    ],
)
def test_dynamic_features_are_detected(build, features):
    with workflow("dyn") as wf:
        build() >> s.step(task_id="after")
    spec = build_spec(wf)
    assert spec.task(build().task_id).features == features


@pytest.mark.usefixtures("chdir_tmp")
@pytest.mark.parametrize(
    "head", [s.router, s.counter, s.stopper, s.saver, s.typed_writer, s.llm_user]
)
def test_dynamic_workflows_run_alike_after_loading(head):
    with workflow("dyn") as wf:
        wf.register_llm_agent("helper", object())
        head >> s.step(task_id="after", k=1)
    spec = build_spec(wf)
    loaded = load_workflow(spec)
    loaded.register_llm_agent("helper", object())
    assert build_spec(loaded) == spec
    assert _run(loaded) == _run(wf)


def test_cancel_is_reproduced():
    with workflow("cancel") as wf:
        s.canceller >> s.step(task_id="never")
    loaded = load_workflow(build_spec(wf))
    with pytest.raises(GraflowWorkflowCanceledError):
        loaded.execute()


def test_nodes_added_while_running_are_not_part_of_the_spec():
    with workflow("ran") as wf:
        s.router >> s.step(task_id="after")
    before = build_spec(wf)
    wf.execute()
    assert "dyn" in wf.graph.nodes  # next_task added it
    assert build_spec(wf) == before


def test_llm_injection_flags():
    with workflow("llm") as wf:
        s.llm_user >> s.source
    td = build_spec(wf).task("llm_user")
    assert (td.inject_llm_client, td.inject_llm_agent) == (True, "helper")
    assert td.parameters == ["llm_client", "llm_agent"]


def test_task_graph_with_explicit_start_node():
    graph = TaskGraph()
    graph.add_node(s.source)
    graph.add_node(s.double)
    graph.add_edge("source", "double")
    graph.add_edge("double", "source")  # a cycle: no node without predecessors
    spec = build_spec(graph, start_node="source", name="g", version="0")
    assert (spec.name, spec.version, spec.start_node) == ("g", "0", "source")
    assert spec.edges == [("source", "double"), ("double", "source")]
    assert build_spec(graph).start_node is None
    loaded = load_workflow(spec)
    assert set(loaded.graph.edges) == {("source", "double"), ("double", "source")}


def test_several_start_candidates_give_no_start_node():
    with workflow("two") as wf:
        s.source >> s.step(task_id="x")
        s.step(task_id="y") >> s.step(task_id="z")
    assert build_spec(wf).start_node is None


def test_placeholder_tasks_and_plain_function_wrappers():
    with workflow("plain") as wf:
        Task("begin") >> TaskWrapper("ten", s.plain_function)
    spec = _round_trip(wf)
    assert spec.task("ten").ref == "spec_sample_tasks:plain_function"
    assert spec.task("begin").kind == "placeholder"


def test_non_json_bound_kwargs_are_a_clear_error():
    import datetime

    with workflow("bad") as wf:
        s.source >> s.step(task_id="when", k=datetime.date(2024, 1, 1))
        s.source >> s.step(task_id="pair", k=(1, 2), extra={"ok": [1, {2, 3}]})
    with pytest.raises(SpecError) as info:
        build_spec(wf)
    text = str(info.value)
    assert "task 'when': bound keyword argument ['k'] is a date" in text
    assert "task 'pair': bound keyword argument ['k'] is a tuple" in text
    assert "bind only JSON values" in text
    assert [p.subject for p in info.value.problems] == ["when", "pair"]
    assert isinstance(info.value, WorkflowDefinitionError)


def test_non_json_nested_values_name_their_path():
    with workflow("bad") as wf:
        s.source >> s.step(task_id="deep", extra={"ok": [1, {2, 3}], "n": float("nan")})
    (problem,) = check_referencable(wf)
    assert problem.subject == "deep"
    assert "['extra']['ok'][1] is a set" in problem.reason


def test_non_json_backend_config_and_group_policy_state():
    class Opaque:
        pass

    with workflow("bad") as wf:
        group = (s.step(task_id="a") | s.step(task_id="b")).with_execution(
            backend_config={"thing": Opaque()}, policy=s.AllowFailures(0)
        )
        group.with_execution(policy=s.AllowFailures(Opaque()))  # type: ignore[arg-type]
        s.source >> group
    with pytest.raises(SpecError) as info:
        build_spec(wf)
    subjects = [(p.kind, p.subject) for p in info.value.problems]
    assert subjects == [("group", "ParallelGroup_1"), ("group", "ParallelGroup_1")]
    assert "backend_config['thing'] is a Opaque" in info.value.problems[0].reason
    assert "attribute ['allowed'] is a Opaque" in info.value.problems[1].reason


def test_subclass_of_builtin_policy_is_custom():
    with workflow("sub") as wf:
        s.source >> (s.step(task_id="a") | s.step(task_id="b")).with_execution(
            policy=s.StrictCritical(["a"])
        )
    with pytest.raises(SpecError, match="_critical_task_ids'] is a frozenset"):
        build_spec(wf)


def test_two_objects_with_one_id_are_reported():
    a1 = s.step(task_id="dup", k=1)
    a2 = s.step(task_id="dup", k=2)
    with workflow("dup") as wf:
        s.source >> (a1 | s.step(task_id="other"))
        s.double >> ParallelGroup([a2, s.step(task_id="third")])
    with pytest.raises(SpecError, match="two different objects share this id"):
        build_spec(wf)


def test_edge_without_task_is_reported():
    with workflow("bare") as wf:
        s.source >> s.double
    wf.add_edge("double", "ghost")
    with pytest.raises(SpecError, match="node 'ghost': is a graph node without a task"):
        build_spec(wf)


def test_unregistered_breaker_object_is_reported():
    from graflow_core.resilience.circuit_breaker import CircuitBreaker

    @task(circuit_breaker=CircuitBreaker("not-registered"))
    def local_guarded() -> None:
        pass

    with workflow("cb") as wf:
        s.source >> local_guarded
    problems = check_referencable(wf)
    reasons = " | ".join(p.reason for p in problems)
    assert "circuit breaker" in reasons and "not registered by name" in reasons


def test_registered_breaker_object_is_recorded_by_name():
    wrapper = TaskWrapper("by_name", s.guarded.func, circuit_breaker=s.BREAKER)
    with workflow("cb") as wf:
        s.source >> wrapper
    assert build_spec(wf).task("by_name").circuit_breaker == "spec-test-breaker"


def test_workflow_retry_policy_default_is_loaded():
    with workflow("r", retry_policy=RetryPolicy(2, 0.5, 3.0, 9.0, True)) as wf:
        s.source >> s.double
    loaded = load_workflow(build_spec(wf))
    assert loaded.retry_policy == RetryPolicy(2, 0.5, 3.0, 9.0, True)
    assert loaded.version is None


# -- reading specs -----------------------------------------------------------------------------


def _minimal() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "name": "m",
        "nodes": ["a"],
        "tasks": [{"id": "a", "ref": "spec_sample_tasks:source"}],
    }


def test_minimal_hand_written_spec_loads_with_defaults():
    spec = WorkflowSpec.from_dict(_minimal())
    assert spec.task("a") == TaskDef(id="a", ref="spec_sample_tasks:source")
    assert load_workflow(_minimal()).execute() == 3
    assert load_workflow(json.dumps(_minimal())).execute() == 3


def test_malformed_specs_list_every_problem():
    data = _minimal()
    data["tasks"] = [
        {"id": "a", "ref": "spec_sample_tasks:source", "max_retries": "3", "colour": "red"},
        {"id": "b", "kind": "other", "inject_context": 1},
    ]
    data["groups"] = [{"id": "g", "members": ["a", "zzz"], "policy": {"kind": "at_least_n"}}]
    data["edges"] = [["a", "b", "c"], ["a", "nowhere"]]
    with pytest.raises(SpecLoadError) as info:
        WorkflowSpec.from_dict(data)
    text = str(info.value)
    assert "task 'a': field 'max_retries' must be int or null, got '3'" in text
    assert "unknown field 'colour'" in text
    assert "field 'kind' must be one of" in text
    assert "field 'inject_context' must be bool, got 1" in text
    assert "'min_success'" in text
    assert "every edge must be a [from, to] pair" in text


def test_structural_problems_are_reported():
    data = _minimal()
    data["edges"] = [["a", "nowhere"]]
    data["groups"] = [{"id": "g", "members": ["a", "zzz"]}]
    data["start_node"] = "missing"
    with pytest.raises(SpecLoadError) as info:
        WorkflowSpec.from_dict(data)
    text = str(info.value)
    assert "task 'nowhere': is an endpoint of edge a -> nowhere but not a node" in text
    assert "task 'g': has member 'zzz', which is not defined" in text
    assert "is the start node but not defined" in text


def test_newer_schema_version_asks_for_an_upgrade():
    data = _minimal()
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SpecLoadError, match="upgrade graflow-core"):
        WorkflowSpec.from_dict(data)


def test_not_json_is_refused():
    with pytest.raises(SpecLoadError, match="not valid JSON"):
        WorkflowSpec.from_json("{")
    with pytest.raises(SpecLoadError, match="not an object"):
        WorkflowSpec.from_json("[]")


def test_lookups_raise_key_error():
    spec = WorkflowSpec.from_dict(_minimal())
    with pytest.raises(KeyError):
        spec.task("zzz")
    with pytest.raises(KeyError):
        spec.group("zzz")


def test_policy_shorthand_and_custom_policy_checks():
    data = _minimal()
    data["nodes"] = ["g"]
    data["tasks"].append({"id": "b", "ref": "spec_sample_tasks:double"})
    data["groups"] = [{"id": "g", "members": ["a", "b"], "policy": "best_effort"}]
    spec = WorkflowSpec.from_dict(data)
    assert spec.group("g").policy == PolicyDef("best_effort")
    data["groups"][0]["policy"] = {"kind": "custom", "ref": "spec_sample_tasks:source"}
    with pytest.raises(SpecLoadError, match="not a GroupExecutionPolicy instance"):
        load_workflow(data)
    data["groups"][0]["policy"] = {
        "kind": "custom",
        "ref": "spec_sample_tasks:source",
        "state": {},
    }
    with pytest.raises(SpecLoadError, match="not a GroupExecutionPolicy subclass"):
        load_workflow(data)
