"""Capabilities, the target registry (direct and through the plugin hook) and preflight reports."""

from __future__ import annotations

import json

import pytest
import spec_sample_tasks as s

from graflow_core import RetryPolicy, workflow
from graflow_core.exceptions import ConfigError
from graflow_core.spec import (
    FEATURES,
    Bridge,
    Capabilities,
    PreflightError,
    Support,
    UnknownTargetError,
    available_targets,
    build_spec,
    feature_uses,
    get_target,
    preflight,
    register_target,
    unregister_target,
)

#: A static-DAG orchestrator in the style of Airflow.
STATIC = Capabilities(
    "static-dag",
    {
        "static_edges": "native",
        "parallel_groups": "native",
        "group_policy.strict": "native",
        "group_policy.best_effort": ("emulated", "trigger rule all_done"),
        "group_backend": ("ignored", "the executor decides"),
        "retries": "native",
        "retry_delay": "native",
        "retry_backoff": "native",
        "retry_jitter": ("ignored", "no jitter setting"),
        "timeouts": "native",
        "inject_context": "native",
        "bound_kwargs": "native",
        "channels": ("emulated", "kept in XCom"),
        "next_task": ("hosted", "the task runs inside one GraflowOperator"),
        "goto": ("hosted", "the task runs inside one GraflowOperator"),
        "next_iteration": ("hosted", "the task runs inside one GraflowOperator"),
    },
)

#: A fully dynamic orchestrator in the style of Prefect.
DYNAMIC = Capabilities.everything("dynamic", "runs natively")


def _dynamic_workflow():
    with workflow("dyn", retry_policy=RetryPolicy(2, 1.0, 2.0, 10.0, True)) as wf:
        group = (s.step(task_id="a") | s.fail_step(task_id="b")).with_execution(
            backend="threading", policy="best_effort"
        )
        s.router >> group >> s.counter >> s.guarded
    return wf


def test_native_target_supports_everything():
    report = preflight(build_spec(_dynamic_workflow()), "graflow")
    assert report.ok
    assert report.findings == []
    assert "everything is supported natively" in str(report)


def test_static_target_reports_each_use_with_what_happens():
    report = preflight(build_spec(_dynamic_workflow()), STATIC)
    assert report.target == "static-dag"
    assert report.workflow == "dyn"
    by_key = {(f.feature, f.subject): f for f in report.findings}

    goto = by_key[("goto", "router")]
    assert (goto.kind, goto.severity, goto.level) == ("task", "warning", "hosted")
    assert "task 'router' uses goto" in goto.message
    assert "inside one native task that hosts the graflow engine" in goto.message
    assert goto.note == "the task runs inside one GraflowOperator"

    assert by_key[("group_policy.best_effort", "ParallelGroup_1")].level == "emulated"
    assert by_key[("group_policy.best_effort", "ParallelGroup_1")].severity == "info"
    assert by_key[("group_backend.threading", "ParallelGroup_1")].level == "ignored"
    assert by_key[("retry_jitter", None)].kind == "workflow"
    assert by_key[("max_cycles", "counter")].severity == "error"
    assert by_key[("circuit_breakers", "guarded")].severity == "error"
    assert ("timeouts", "guarded") not in by_key  # native: no finding
    assert ("static_edges", None) not in by_key
    assert not report.ok
    assert {(f.feature, f.subject) for f in report.errors} == {
        ("max_cycles", "counter"),
        ("circuit_breakers", "guarded"),
    }
    assert report.for_subject("router") == [
        by_key[("goto", "router")],
        by_key[("next_task", "router")],
    ]
    with pytest.raises(PreflightError) as info:
        report.raise_for_errors()
    assert "cannot be exported to 'static-dag': 2 unsupported feature(s)" in str(info.value)


def test_report_is_machine_readable():
    report = preflight(_dynamic_workflow(), STATIC)  # a workflow is built into a spec first
    data = json.loads(report.to_json())
    assert data["target"] == "static-dag"
    assert data["ok"] is False
    first = data["findings"][0]
    assert set(first) == {"feature", "kind", "subject", "severity", "level", "message", "note"}
    assert data == report.to_dict()


def test_dynamic_target_has_no_findings():
    assert preflight(_dynamic_workflow(), DYNAMIC).findings == []


def test_cycles_are_found():
    from graflow_core.core.graph import TaskGraph

    graph = TaskGraph()
    for t in (s.source, s.double, s.add_one_impl):
        graph.add_node(t)
    graph.add_edge("source", "double")
    graph.add_edge("double", "add_one")
    graph.add_edge("add_one", "double")
    spec = build_spec(graph, start_node="source")
    cycles = [u for u in feature_uses(spec) if u.feature == "cycles"]
    assert [(u.subject, u.detail) for u in cycles] == [("double", "double -> add_one")]
    report = preflight(spec, STATIC)
    assert [f.feature for f in report.errors] == ["cycles"]


def test_feature_lookup_falls_back_to_family_then_default():
    caps = Capabilities("t", {"task_type": "hosted", "task_type.mlflow": "native"})
    assert caps.support("task_type.mlflow").level == "native"
    assert caps.support("task_type.other").level == "hosted"
    assert caps.support("timeouts").level == "error"
    assert caps.supports("task_type.mlflow") and not caps.supports("task_type.other")
    assert Capabilities.from_dict(caps.to_dict()) == caps
    with pytest.raises(ConfigError, match="Unknown support level 'maybe'"):
        Support("maybe")


def test_every_used_feature_is_documented():
    spec = build_spec(s.build_everything())
    for use in feature_uses(spec):
        assert use.feature.split(".", 1)[0] in FEATURES, use


def test_unknown_target_names_the_distribution(pm):
    # `pm`: no entry-point plugins, as in an environment without graflow-airflow installed
    with pytest.raises(UnknownTargetError) as info:
        preflight(build_spec(_dynamic_workflow()), "airflow")
    text = str(info.value)
    assert "Unknown target 'airflow'" in text
    assert "pip install graflow-airflow" in text
    assert "graflow-core[airflow]" in text
    assert "Known targets: graflow" in text
    with pytest.raises(UnknownTargetError, match="registers through the `graflow` entry-point"):
        get_target("nomad")


def test_direct_registration():
    bridge = Bridge("static-dag", STATIC, distribution="my-bridge")
    register_target(bridge)
    try:
        assert get_target("static-dag") is bridge
        assert available_targets()["static-dag"] is bridge
        assert not preflight(_dynamic_workflow(), "static-dag").ok
        assert preflight(_dynamic_workflow(), bridge).target == "static-dag"
        with pytest.raises(ConfigError, match="already registered"):
            register_target(Bridge("static-dag", DYNAMIC))
        register_target(Bridge("static-dag", DYNAMIC), replace=True)
        assert preflight(_dynamic_workflow(), "static-dag").ok
    finally:
        unregister_target("static-dag")
    with pytest.raises(UnknownTargetError):
        get_target("static-dag")


def test_bridge_validation():
    with pytest.raises(ConfigError, match="non-empty string name"):
        Bridge("", STATIC)
    with pytest.raises(ConfigError, match="capabilities must be"):
        Bridge("x", {"static_edges": "native"})  # type: ignore[arg-type]


def test_bridges_from_plugins():
    from graflow_core.plugins import get_plugin_manager, hookimpl

    class FakeBridgePlugin:
        @hookimpl
        def register_bridges(self):
            return [Bridge("fake-orchestrator", STATIC, distribution="graflow-fake")]

    class BadBridgePlugin:
        @hookimpl
        def register_bridges(self):
            return ["not a bridge"]

    manager = get_plugin_manager()
    plugin = FakeBridgePlugin()
    manager.register(plugin, name="spec-test-fake-bridge")
    try:
        bridge = get_target("fake-orchestrator")
        assert bridge.distribution == "graflow-fake"
        assert "fake-orchestrator" in available_targets()
        assert preflight(_dynamic_workflow(), "fake-orchestrator").target == "static-dag"
    finally:
        manager.unregister(plugin)
    with pytest.raises(UnknownTargetError):
        get_target("fake-orchestrator")
    bad = BadBridgePlugin()
    manager.register(bad, name="spec-test-bad-bridge")
    try:
        with pytest.raises(ConfigError, match=r"must return a list of graflow_core\.spec\.Bridge"):
            get_target("anything")
    finally:
        manager.unregister(bad)


def test_importing_the_spec_package_is_lazy():
    import subprocess
    import sys

    code = (
        "import sys, graflow_core.spec; "
        "print([m for m in ('pluggy', 'dataclasses', 'graflow_core.spec.model') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
