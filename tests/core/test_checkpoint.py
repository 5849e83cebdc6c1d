"""Checkpoint / resume (§3): three files, their JSON fields, deferred and immediate checkpoints."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime

import pytest

from graflow_core.checkpoint_stores import CheckpointStoreError
from graflow_core.core.checkpoint import (
    CheckpointManager,
    CheckpointMetadata,
    CheckpointNotFoundError,
    CheckpointVerificationError,
)
from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.engine import WorkflowEngine
from graflow_core.core.task import TaskWrapper
from graflow_core.core.workflow import workflow

pytestmark = pytest.mark.usefixtures("chdir_tmp")


def load_json(path):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _logged(name, ret=None):
    """A task that appends its name to the channel list 'log' (the channel is checkpointed)."""

    def fn(ctx):
        ctx.get_channel().append("log", name)
        return name.upper() if ret is None else ret

    fn.__name__ = name
    return task(name, inject_context=True)(fn)


def _one_task_context(name):
    """A fresh context of the workflow ``name`` whose only task is a logging task ``a``."""
    with workflow(name) as wf:
        _logged("a")
    return ExecutionContext.create(wf.graph, "a")


def _deferred_workflow(ckpt_path, metadata=None):
    with workflow("deferred") as wf:
        a = _logged("a")

        @task(inject_context=True)
        def b(ctx):
            ctx.get_channel().append("log", "b")
            ctx.checkpoint(metadata, path=ckpt_path)
            return "B"

        c = _logged("c")
        d = _logged("d")
        a >> b >> c >> d
    return wf


# --- deferred --------------------------------------------------------------------------------


def test_deferred_checkpoint_writes_three_files(tmp_path):
    base = str(tmp_path / "ck" / "run1")
    wf = _deferred_workflow(base)
    result, ctx = wf.execute("a", ret_context=True)
    assert result == "D"
    for suffix in (".pkl", ".state.json", ".meta.json"):
        assert os.path.exists(base + suffix), suffix
    assert ctx.last_checkpoint_path == base + ".pkl"
    assert ctx.checkpoint_metadata["steps"] == 2
    assert ctx.checkpoint_requested is False


def test_deferred_checkpoint_state_json(tmp_path):
    base = str(tmp_path / "run2")
    wf = _deferred_workflow(base)
    _, ctx = wf.execute("a", ret_context=True)
    state = load_json(base + ".state.json")
    assert state["schema_version"] == "1.0"
    assert state["session_id"] == ctx.session_id
    assert state["trace_id"] == ctx.trace_id
    assert state["start_node"] == "a"
    assert state["steps"] == 2
    assert state["completed_tasks"] == ["a", "b"]
    assert state["cycle_counts"] == {"a": 1, "b": 1}
    assert state["backend"] == {"channel": "memory"}
    assert state["resuming_task_id"] is None
    # successors were queued before the deferred checkpoint was written
    assert [p["task_id"] for p in state["pending_tasks"]] == ["c"]
    pending = state["pending_tasks"][0]
    assert set(pending) >= {
        "task_id",
        "status",
        "created_at",
        "retry_count",
        "max_retries",
        "last_error",
    }
    assert pending["status"] == "ready"
    assert pending["retry_count"] == 0
    assert pending["max_retries"] == 3
    assert pending["last_error"] is None
    assert isinstance(pending["created_at"], float)


def test_deferred_checkpoint_meta_json(tmp_path):
    base = str(tmp_path / "run3")
    wf = _deferred_workflow(base, metadata={"stage": "after-b"})
    _, ctx = wf.execute("a", ret_context=True)
    meta = load_json(base + ".meta.json")
    assert set(meta) == {
        "checkpoint_id",
        "session_id",
        "created_at",
        "steps",
        "start_node",
        "backend",
        "user_metadata",
    }
    assert re.fullmatch(rf"{ctx.session_id}_2_\d+", meta["checkpoint_id"])
    assert meta["session_id"] == ctx.session_id
    assert meta["steps"] == 2
    assert meta["start_node"] == "a"
    assert meta["backend"] == {"channel": "memory"}
    created = datetime.fromisoformat(meta["created_at"])
    assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
    user = meta["user_metadata"]
    assert user["stage"] == "after-b"
    assert user["task_id"] == "b"
    assert user["cycle_count"] == 1
    assert user["mode"] == "deferred"
    assert isinstance(user["elapsed_time"], (int, float))


def test_deferred_checkpoint_returns_none():
    seen = {}
    with workflow("ret") as wf:

        @task(inject_context=True)
        def t(ctx):
            seen["ret"] = ctx.checkpoint(path="x")
            return 1

    wf.execute("t")
    assert seen["ret"] is None
    assert os.path.exists("x.pkl")


def test_resume_deferred_continues_with_same_result(tmp_path):
    base = str(tmp_path / "run4")
    wf = _deferred_workflow(base)
    full_result = wf.execute("a")

    ctx, meta = CheckpointManager.resume_from_checkpoint(base + ".pkl")
    assert isinstance(ctx, ExecutionContext)
    assert isinstance(meta, CheckpointMetadata)
    assert meta.steps == 2
    assert ctx.completed_tasks == ["a", "b"]
    assert ctx.steps == 2
    assert ctx.start_node == "a"
    assert ctx.get_channel().get("log") == ["a", "b"]
    assert ctx.get_result("a") == "A"
    assert ctx.last_checkpoint_path == base + ".pkl"
    assert ctx.checkpoint_metadata == meta.to_dict()
    assert ctx.checkpoint_requested is False

    resumed = WorkflowEngine().execute(ctx)
    assert resumed == full_result == "D"
    assert ctx.get_channel().get("log") == ["a", "b", "c", "d"]
    assert ctx.completed_tasks == ["a", "b", "c", "d"]
    assert ctx.steps == 4


def test_resume_path_without_pkl_suffix(tmp_path):
    base = str(tmp_path / "run5")
    wf = _deferred_workflow(base)
    wf.execute("a")
    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.execute() == "D"


def test_checkpoint_path_with_pkl_suffix(tmp_path):
    wf = _deferred_workflow(str(tmp_path / "run6.pkl"))
    wf.execute("a")
    for suffix in (".pkl", ".state.json", ".meta.json"):
        assert os.path.exists(str(tmp_path / "run6") + suffix)
    assert not os.path.exists(str(tmp_path / "run6.pkl.pkl"))


def test_default_checkpoint_path(chdir_tmp):
    wf = _deferred_workflow(None)
    _, ctx = wf.execute("a", ret_context=True)
    path = ctx.last_checkpoint_path
    rel = os.path.relpath(os.path.abspath(path), str(chdir_tmp))
    sep = re.escape(os.sep)
    sid = ctx.session_id
    pattern = rf"checkpoints{sep}{sid}{sep}session_{sid}_step_2_\d+\.pkl"
    assert re.fullmatch(pattern, rel), rel
    base = path[: -len(".pkl")]
    assert os.path.exists(base + ".state.json")
    assert os.path.exists(base + ".meta.json")


def test_last_deferred_request_wins(tmp_path):
    with workflow("last_req") as wf:

        @task(inject_context=True)
        def t(ctx):
            ctx.checkpoint({"n": 1}, path=str(tmp_path / "first"))
            ctx.checkpoint({"n": 2}, path=str(tmp_path / "second"))
            return 1

    wf.execute("t")
    assert not os.path.exists(str(tmp_path / "first.pkl"))
    assert load_json(str(tmp_path / "second.meta.json"))["user_metadata"]["n"] == 2


def test_deferred_checkpoint_honoured_on_terminate(tmp_path):
    with workflow("term") as wf:

        @task(inject_context=True)
        def t(ctx):
            ctx.checkpoint(path=str(tmp_path / "term"))
            ctx.terminate_workflow("bye")
            return 1

        @task
        def never():
            return 2

        t >> never

    wf.execute("t")
    state = load_json(str(tmp_path / "term.state.json"))
    assert state["completed_tasks"] == ["t"]
    assert state["steps"] == 1


def test_no_checkpoint_written_on_cancel(tmp_path):
    from graflow_core.exceptions import GraflowWorkflowCanceledError

    with workflow("cancel") as wf:

        @task(inject_context=True)
        def t(ctx):
            ctx.checkpoint(path=str(tmp_path / "cancel"))
            ctx.cancel_workflow("no")

    with pytest.raises(GraflowWorkflowCanceledError):
        wf.execute("t")
    assert not os.path.exists(str(tmp_path / "cancel.pkl"))


def test_deferred_checkpoint_includes_goto_target(tmp_path):
    with workflow("goto") as wf:

        @task(inject_context=True)
        def a(ctx):
            ctx.next_task(target)
            ctx.checkpoint(path=str(tmp_path / "goto"))

        @task
        def skipped():
            return "s"

        @task
        def target():
            return "T"

        a >> skipped

    assert wf.execute("a") == "T"
    state = load_json(str(tmp_path / "goto.state.json"))
    assert [p["task_id"] for p in state["pending_tasks"]] == ["target"]
    ctx, _ = CheckpointManager.resume_from_checkpoint(str(tmp_path / "goto"))
    assert ctx.execute() == "T"


# --- immediate -------------------------------------------------------------------------------


def _immediate_workflow(base):
    with workflow("immediate") as wf:
        a = _logged("a")

        @task(inject_context=True)
        def b(ctx):
            ch = ctx.get_channel()
            ch.append("log", "b")
            if not ch.get("ckpt_done", False):
                ch.set("ckpt_done", True)
                ret = ctx.checkpoint({"why": "now"}, path=base, deferred=False)
                ch.set("immediate_ret_type", type(ret).__name__)
                ch.set("immediate_ret_path", ret[0])
                ch.set("immediate_ret_meta_cls", type(ret[1]).__name__)
            return "B"

        c = _logged("c")
        a >> b >> c
    return wf


def test_immediate_checkpoint_returns_path_and_metadata(tmp_path):
    base = str(tmp_path / "imm1")
    wf = _immediate_workflow(base)
    result, ctx = wf.execute("a", ret_context=True)
    assert result == "C"
    ch = ctx.get_channel()
    assert ch.get("immediate_ret_type") == "tuple"
    assert ch.get("immediate_ret_path") == base + ".pkl"
    assert ch.get("immediate_ret_meta_cls") == "CheckpointMetadata"
    state = load_json(base + ".state.json")
    assert state["resuming_task_id"] == "b"
    assert state["completed_tasks"] == ["a"]
    assert state["steps"] == 1
    assert state["pending_tasks"] == []
    meta = load_json(base + ".meta.json")
    assert meta["user_metadata"]["mode"] == "immediate"
    assert meta["user_metadata"]["why"] == "now"
    assert meta["user_metadata"]["task_id"] == "b"


def test_resume_immediate_reruns_current_task(tmp_path):
    base = str(tmp_path / "imm2")
    wf = _immediate_workflow(base)
    full = wf.execute("a")
    ctx, meta = CheckpointManager.resume_from_checkpoint(base + ".pkl")
    assert meta.user_metadata["mode"] == "immediate"
    assert ctx.get_channel().get("log") == ["a", "b"]
    resumed = ctx.execute()
    assert resumed == full == "C"
    assert ctx.get_channel().get("log") == ["a", "b", "b", "c"]
    # the cycle count of b was already incremented before the checkpoint
    assert ctx.cycle_controller.get_cycle_count("b") == 2
    assert ctx.completed_tasks == ["a", "b", "c"]


# --- direct CheckpointManager use ------------------------------------------------------------


def test_create_checkpoint_between_tasks(tmp_path):
    with workflow("manual") as wf:
        a = _logged("a")
        b = _logged("b")
        a >> b
    ctx = ExecutionContext.create(wf.graph, "a")
    path, meta = CheckpointManager.create_checkpoint(
        ctx, path=str(tmp_path / "m"), metadata={"k": "v"}
    )
    assert path == str(tmp_path / "m") + ".pkl"
    assert isinstance(meta, CheckpointMetadata)
    assert meta.user_metadata == {"k": "v"}
    assert meta.steps == 0
    assert meta.start_node == "a"
    assert meta.session_id == ctx.session_id
    assert ctx.last_checkpoint_path == path
    assert ctx.checkpoint_metadata == meta.to_dict()
    state = load_json(str(tmp_path / "m.state.json"))
    assert [p["task_id"] for p in state["pending_tasks"]] == ["a"]
    assert state["resuming_task_id"] is None

    restored, _ = CheckpointManager.resume_from_checkpoint(path)
    assert restored.execute() == "B"
    assert restored.get_channel().get("log") == ["a", "b"]


def test_create_checkpoint_with_resuming_task_id(tmp_path):
    with workflow("manual2") as wf:
        a = _logged("a")
        b = _logged("b")
        c = _logged("c")
        a >> b
    ctx = ExecutionContext.create(wf.graph, "a")
    ctx.get_next_task()  # drain the start node
    ctx.add_to_queue(c)
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "r"), resuming_task_id="b")
    restored, _ = CheckpointManager.resume_from_checkpoint(str(tmp_path / "r"))
    restored.execute()
    assert restored.get_channel().get("log") == ["b", "c"]


def test_unknown_pending_id_becomes_noop_placeholder(tmp_path):
    ctx = _one_task_context("placeholder")
    ctx.task_queue._ids.appendleft("ghost")  # an id the graph does not know
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "p"))
    state = load_json(str(tmp_path / "p.state.json"))
    assert [p["task_id"] for p in state["pending_tasks"]] == ["ghost", "a"]
    restored, _ = CheckpointManager.resume_from_checkpoint(str(tmp_path / "p"))
    spec_ids = [s.task_id for s in CheckpointManager._get_pending_task_specs(restored)]
    assert spec_ids == ["ghost", "a"]


def test_edited_state_json_is_refused(tmp_path):
    """The JSON files are covered by the signed .pkl: hand edits are refused, not loaded."""
    ctx = _one_task_context("edited")
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "e"))
    state_path = str(tmp_path / "e.state.json")
    state = load_json(state_path)
    state["pending_tasks"].insert(0, dict(state["pending_tasks"][0], task_id="ghost"))
    with open(state_path, "w", encoding="utf-8") as fh:
        json.dump(state, fh)
    with pytest.raises(CheckpointVerificationError, match=r"e\.state\.json: refused"):
        CheckpointManager.resume_from_checkpoint(str(tmp_path / "e"))


def test_checkpoint_overwrites_existing_files(tmp_path):
    ctx = _one_task_context("over")
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "o"), metadata={"v": 1})
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "o"), metadata={"v": 2})
    assert load_json(str(tmp_path / "o.meta.json"))["user_metadata"] == {"v": 2}


@pytest.mark.parametrize("prefix", ["redis://host/key", "nosuchfs://bucket/key"])
def test_locations_without_a_store_are_not_implemented(prefix):
    """No fsspec file system and no plugin handles these schemes: a clear error, which is
    also a NotImplementedError (what Graflow raises for backends it lacks)."""
    ctx = _one_task_context("remote")
    with pytest.raises(NotImplementedError, match="no checkpoint store handles"):
        CheckpointManager.create_checkpoint(ctx, path=prefix)
    with pytest.raises(CheckpointStoreError):
        CheckpointManager.resume_from_checkpoint(prefix)


def test_missing_files_raise_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        CheckpointManager.resume_from_checkpoint(str(tmp_path / "nothing.pkl"))
    ctx = _one_task_context("missing")
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "partial"))
    os.remove(str(tmp_path / "partial.meta.json"))
    with pytest.raises(CheckpointNotFoundError, match=r"partial\.meta\.json does not exist"):
        CheckpointManager.resume_from_checkpoint(str(tmp_path / "partial"))


def test_corrupt_json_is_refused(tmp_path):
    ctx = _one_task_context("corrupt")
    CheckpointManager.create_checkpoint(ctx, path=str(tmp_path / "bad"))
    with open(str(tmp_path / "bad.state.json"), "w", encoding="utf-8") as fh:
        fh.write("{not json")
    with pytest.raises(CheckpointVerificationError) as info:
        CheckpointManager.resume_from_checkpoint(str(tmp_path / "bad"))
    assert info.value.reason == "mismatch"
    assert info.value.what == str(tmp_path / "bad.state.json")


# --- CheckpointMetadata and helpers ----------------------------------------------------------


def test_checkpoint_metadata_roundtrip():
    meta = CheckpointMetadata.create(
        checkpoint_id="s_1_2",
        session_id="s",
        steps=1,
        start_node="a",
        backend={"channel": "memory"},
        user_metadata={"x": 1},
    )
    d = meta.to_dict()
    assert set(d) == {
        "checkpoint_id",
        "session_id",
        "created_at",
        "steps",
        "start_node",
        "backend",
        "user_metadata",
    }
    assert datetime.fromisoformat(d["created_at"]).utcoffset().total_seconds() == 0
    again = CheckpointMetadata.from_dict(d)
    assert again == meta
    assert CheckpointMetadata.from_dict(
        {"checkpoint_id": "c", "session_id": "s", "created_at": "t", "steps": 0}
    ) == CheckpointMetadata("c", "s", "t", 0, None, {}, {})


def test_private_helpers():
    assert CheckpointManager._infer_backend_from_path(None) == "local"
    assert CheckpointManager._infer_backend_from_path("/tmp/x") == "local"
    assert CheckpointManager._infer_backend_from_path("redis://x") == "redis"
    assert CheckpointManager._infer_backend_from_path("s3://x") == "s3"
    assert CheckpointManager._infer_backend_from_path("memory://x/y") == "memory"
    assert CheckpointManager._infer_backend_from_path("C:\\dir\\x") == "local"
    assert CheckpointManager._get_base_path("a/b.pkl") == "a/b"
    assert CheckpointManager._get_base_path("a/b") == "a/b"
    ctx = _one_task_context("helpers")
    cid = CheckpointManager._generate_checkpoint_id(ctx)
    assert cid.count("_") == 2
    assert cid.startswith(ctx.session_id + "_0_")
    assert CheckpointManager._resolve_base_path(ctx, "foo.pkl") == "foo"


# --- checkpoints and dynamic tasks -----------------------------------------------------------


def _iterating_workflow(base, deferred):
    with workflow("iter_ckpt") as wf:

        @task(inject_context=True, max_cycles=5)
        def loop(ctx):
            ch = ctx.get_channel()
            ch.append("log", ctx.cycle_count)
            if ctx.cycle_count == 2 and not ch.get("ckpt_done", False):
                ch.set("ckpt_done", True)
                ctx.checkpoint(path=base, deferred=deferred)
            if ctx.can_iterate():
                ctx.next_iteration()
            return ctx.cycle_count

    return wf


def test_deferred_checkpoint_in_iteration_resumes_remaining_iterations(tmp_path):
    base = str(tmp_path / "iter_def")
    wf = _iterating_workflow(base, deferred=True)
    full = wf.execute("loop")
    assert full == 5
    state = load_json(base + ".state.json")
    assert len(state["pending_tasks"]) == 1
    assert re.fullmatch(r"loop_cycle_2_[0-9a-f]{8}", state["pending_tasks"][0]["task_id"])
    assert state["cycle_counts"] == {"loop": 2}
    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.execute() == full
    assert ctx.get_channel().get("log") == [1, 2, 3, 4, 5]


def test_immediate_checkpoint_in_iteration_reruns_that_iteration(tmp_path):
    base = str(tmp_path / "iter_imm")
    wf = _iterating_workflow(base, deferred=False)
    full = wf.execute("loop")
    state = load_json(base + ".state.json")
    assert re.fullmatch(r"loop_cycle_1_[0-9a-f]{8}", state["resuming_task_id"])
    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    result = ctx.execute()
    log = ctx.get_channel().get("log")
    # the iteration re-runs from its start; its cycle count had already been incremented
    assert log[:2] == [1, 2]
    assert log[2] == 3
    assert result == log[-1]
    assert full == 5


def test_checkpoint_with_pending_dynamic_task(tmp_path):
    base = str(tmp_path / "dyn")
    with workflow("dyn_ckpt") as wf:

        @task(inject_context=True)
        def spawner(ctx):
            def spawned(ctx2):
                ctx2.get_channel().append("log", "spawned")
                return "S"

            ctx.next_task(TaskWrapper("spawned", spawned, inject_context=True), goto=True)
            ctx.checkpoint(path=base)

    assert wf.execute("spawner") == "S"
    state = load_json(base + ".state.json")
    assert [p["task_id"] for p in state["pending_tasks"]] == ["spawned"]
    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.execute() == "S"
    assert ctx.get_channel().get("log") == ["spawned"]


def test_resume_counts_steps_against_same_max_steps(tmp_path):
    base = str(tmp_path / "steps")
    wf = _deferred_workflow(base)
    wf.execute("a", max_steps=50)
    ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.max_steps == 50
    assert ctx.steps == 2
    ctx.execute()
    assert ctx.steps == 4
