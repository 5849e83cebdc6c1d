"""HookRecorder and the checkpoint helpers used directly (no fixtures)."""

from __future__ import annotations

import inspect

import pytest

from graflow_core import TaskExecutionContext, task, workflow
from graflow_core.plugins import get_plugin_manager
from graflow_core.plugins.hookspecs import SPEC_CLASSES
from graflow_core.testing import (
    HookCall,
    HookRecorder,
    assert_checkpoint,
    list_checkpoints,
    run_workflow,
)


def _spec_signatures() -> dict[str, list[str]]:
    specs = {}
    for cls in SPEC_CLASSES:
        for name, fn in vars(cls).items():
            if callable(fn) and not name.startswith("_"):
                specs[name] = [p for p in inspect.signature(fn).parameters if p != "self"]
    return specs


def test_the_recorder_implements_every_hook_with_every_argument():
    specs = _spec_signatures()
    assert specs, "no hook specifications found"
    for name, args in specs.items():
        impl = getattr(HookRecorder, name, None)
        assert impl is not None, f"HookRecorder lacks hook {name}"
        impl_args = [p for p in inspect.signature(impl).parameters if p != "self"]
        assert impl_args == args, f"{name}: recorder takes {impl_args}, spec has {args}"


def test_recorder_outside_pytest_fixtures():
    recorder = HookRecorder()
    with workflow("plain") as wf:

        @task
        def a() -> int:
            return 1

        @task(inject_context=True)
        def b(ctx: TaskExecutionContext, a: int) -> int:
            @task
            def c() -> str:
                return "dyn"

            ctx.next_task(c)
            return a + 1

        a >> b
    with get_plugin_manager().registered(recorder):
        recorder.clear()
        run = run_workflow(wf)
    run.assert_succeeded().assert_completed("a", "b", "c", in_order=True)
    assert recorder.names()[0] == "workflow_start"
    assert recorder.calls[0] == HookCall("workflow_start", recorder.calls[0].kwargs)
    recorder.assert_called("dynamic_task_added", task_id="c", goto=False)
    recorder.assert_sequence("dynamic_task_added:c", "task_end:b", "task_end:c", "workflow_end")
    assert "HookRecorder(" in repr(recorder)
    recorder.clear()
    assert recorder.calls == []
    with pytest.raises(AssertionError, match=r"hook task_end was called 0 time\(s\)"):
        recorder.assert_called("task_end", times=1)


def test_labels():
    assert HookCall("task_end", {"task_id": "x", "workflow_name": "w"}).label == "task_end:x"
    assert HookCall("workflow_end", {"workflow_name": "w"}).label == "workflow_end:w"
    assert HookCall("checkpoint_store", {"location": "s3://b/k"}).label == (
        "checkpoint_store:s3://b/k"
    )
    assert HookCall("register_bridges", {}).label == "register_bridges"


def test_checkpoint_helpers_on_an_fsspec_url_and_local_order(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", "k" * 40)
    pytest.importorskip("fsspec")
    url = "memory://graflow-testing-helpers"

    def build(target: str):
        with workflow("urls") as wf:

            @task(inject_context=True)
            def first(ctx: TaskExecutionContext) -> int:
                ctx.checkpoint(path=f"{target}/a")
                return 1

            @task(inject_context=True)
            def second(ctx: TaskExecutionContext, first: int) -> int:
                ctx.checkpoint(path=f"{target}/b")
                return first + 1

            first >> second
        return wf

    run_workflow(build(url)).assert_succeeded()
    assert list_checkpoints(url) == [f"{url}/a.pkl", f"{url}/b.pkl"]
    assert_checkpoint(f"{url}/b", completed=["first", "second"], pending=[])

    nested = tmp_path / "deep" / "er"
    run_workflow(build(str(nested))).assert_succeeded()
    (tmp_path / "stray.pkl").write_bytes(b"not a checkpoint (no .meta.json)")
    assert list_checkpoints(tmp_path) == [f"{nested}/a.pkl", f"{nested}/b.pkl"]
    info = assert_checkpoint(f"{nested}/a.pkl", completed=["first"], pending=["second"])
    assert "CheckpointInfo(" in repr(info) and info.path == f"{nested}/a.pkl"
