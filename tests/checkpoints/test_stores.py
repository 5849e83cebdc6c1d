"""Checkpoint stores: local files, real fsspec (memory:// and file://), a plugin's store, and
the checkpoint_written / checkpoint_resumed hooks."""

from __future__ import annotations

import os
import sys
import uuid

import fsspec
import pytest

from graflow_core.checkpoint_stores import (
    CheckpointStore,
    CheckpointStoreError,
    FsspecCheckpointStore,
    LocalCheckpointStore,
    has_scheme,
    resolve_store,
)
from graflow_core.core.checkpoint import CheckpointManager, CheckpointVerificationError
from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.workflow import workflow


@task(inject_context=True)
def produce(ctx):
    ctx.get_channel().set("produced", {"n": 41})
    return 41


@task
def consume(produce):
    return produce + 1


def _ctx() -> ExecutionContext:
    with workflow("stores") as wf:
        produce >> consume
    return ExecutionContext.create(wf.graph, "produce")


def _half_run() -> ExecutionContext:
    """A context that ran ``produce`` and has ``consume`` queued (checkpoint between tasks)."""
    ctx = _ctx()
    ctx.task_queue._ids.clear()
    ctx.task_queue._ids.append("consume")
    ctx.get_channel().set("produce.__result__", 41)
    ctx.get_channel().set("produced", {"n": 41})
    ctx.mark_task_completed("produce")
    ctx.steps = 1
    return ctx


@pytest.fixture
def memory_url():
    root = f"memory://graflow-tests/{uuid.uuid4().hex}"
    yield root
    fs = fsspec.filesystem("memory")
    path = root[len("memory://") :]
    if fs.exists(path):
        fs.rm(path, recursive=True)


def test_has_scheme():
    assert has_scheme("s3://b/k") and has_scheme("memory://x") and has_scheme("file:///tmp/x")
    assert not has_scheme("/tmp/x") and not has_scheme("C:\\x\\y") and not has_scheme("a/b")


def test_local_store_operations(tmp_path):
    store = LocalCheckpointStore()
    path = store.join(str(tmp_path), "sub", "ckpt-1.pkl")
    store.write_bytes(path, b"one")
    store.write_bytes(path, b"two")
    assert store.read_bytes(path) == b"two"
    assert store.exists(path)
    store.write_bytes(store.join(str(tmp_path), "sub", "other"), b"x")
    assert store.list(store.join(str(tmp_path), "sub", "ckpt-")) == [path]
    # no temporary files left behind
    assert set(os.listdir(tmp_path / "sub")) == {"ckpt-1.pkl", "other"}
    store.delete(path)
    store.delete(path)  # missing is fine
    assert not store.exists(path)
    with pytest.raises(FileNotFoundError):
        store.read_bytes(path)
    assert store.list(str(tmp_path / "nowhere" / "x")) == []


def test_local_paths_resolve_to_the_local_store(tmp_path):
    assert isinstance(resolve_store(str(tmp_path / "x")), LocalCheckpointStore)
    assert isinstance(resolve_store("memory://a/b"), FsspecCheckpointStore)


def test_memory_url_checkpoint_roundtrip(memory_url):
    base = f"{memory_url}/run/ck"
    path, meta = CheckpointManager.create_checkpoint(_half_run(), path=base, metadata={"k": 1})
    assert path == base + ".pkl"
    store = resolve_store(base)
    assert store.list(f"{memory_url}/run/ck") == [
        base + s for s in (".meta.json", ".pkl", ".state.json")
    ]
    ctx, meta2 = CheckpointManager.resume_from_checkpoint(path)
    assert meta2 == meta
    assert ctx.execute() == 42
    assert ctx.get_channel().get("produced") == {"n": 41}
    assert ctx.completed_tasks == ["produce", "consume"]


def test_memory_url_tamper_is_refused(memory_url):
    base = f"{memory_url}/ck"
    CheckpointManager.create_checkpoint(_half_run(), path=base)
    fs = fsspec.filesystem("memory")
    raw = bytearray(fs.cat_file(f"{base[len('memory://') :]}.pkl"))
    raw[len(raw) // 2] ^= 1
    fs.pipe_file(f"{base[len('memory://') :]}.pkl", bytes(raw))
    with pytest.raises(CheckpointVerificationError):
        CheckpointManager.resume_from_checkpoint(base)


def test_file_url_checkpoint_roundtrip(tmp_path):
    base_url = f"file://{tmp_path}/ck"
    CheckpointManager.create_checkpoint(_half_run(), path=base_url)
    for suffix in (".pkl", ".state.json", ".meta.json"):
        assert (tmp_path / f"ck{suffix}").is_file()
    # the same checkpoint reads back through the URL and through the plain path
    ctx, _ = CheckpointManager.resume_from_checkpoint(base_url)
    assert ctx.execute() == 42
    ctx2, _ = CheckpointManager.resume_from_checkpoint(str(tmp_path / "ck"))
    assert ctx2.execute() == 42
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]


def test_fsspec_store_list_and_delete(memory_url):
    store = FsspecCheckpointStore.for_url(memory_url)
    store.write_bytes(store.join(memory_url, "ckpt-000001.pkl"), b"a")
    store.write_bytes(store.join(memory_url, "ckpt-000002.pkl"), b"b")
    store.write_bytes(store.join(memory_url, "latest"), b"c")
    assert store.list(store.join(memory_url, "ckpt-")) == [
        f"{memory_url}/ckpt-000001.pkl",
        f"{memory_url}/ckpt-000002.pkl",
    ]
    store.delete(f"{memory_url}/ckpt-000001.pkl")
    store.delete(f"{memory_url}/ckpt-000001.pkl")
    assert not store.exists(f"{memory_url}/ckpt-000001.pkl")
    assert store.read_bytes(f"{memory_url}/latest") == b"c"
    assert store.list(f"{memory_url}/missing/x") == []


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(CheckpointStoreError, match="no checkpoint store handles 'nosuch://'"):
        resolve_store("nosuch://x/y")


def test_missing_fsspec_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec", None)  # makes `import fsspec` fail
    with pytest.raises(CheckpointStoreError, match=r'pip install "graflow-core\[fsspec\]"'):
        resolve_store("memory://x/y")


class DictStore(CheckpointStore):
    """A plugin-provided store keeping files in a dict (for the 'dict://' scheme)."""

    name = "dict"

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def read_bytes(self, path):
        try:
            return self.files[path]
        except KeyError:
            raise FileNotFoundError(path) from None

    def write_bytes(self, path, data):
        self.files[path] = bytes(data)

    def exists(self, path):
        return path in self.files

    def delete(self, path):
        self.files.pop(path, None)

    def list(self, prefix):
        return sorted(p for p in self.files if p.startswith(prefix))

    def join(self, base, *parts):
        return "/".join([base, *parts])


def test_plugin_store_and_checkpoint_hooks():
    from graflow_core.plugins import get_plugin_manager, hookimpl

    events = []
    store = DictStore()

    class Plugin:
        @hookimpl
        def checkpoint_store(self, location):
            return store if location.startswith("dict://") else None

        @hookimpl
        def checkpoint_written(self, context, path, metadata):
            events.append(("written", path, metadata["user_metadata"]))

        @hookimpl
        def checkpoint_resumed(self, context, path, metadata):
            events.append(("resumed", path, context.steps))

    with get_plugin_manager().registered(Plugin(), name="dict-store-test"):
        CheckpointManager.create_checkpoint(_half_run(), path="dict://ck", metadata={"a": 1})
        assert sorted(store.files) == [
            "dict://ck.meta.json",
            "dict://ck.pkl",
            "dict://ck.state.json",
        ]
        ctx, _ = CheckpointManager.resume_from_checkpoint("dict://ck")
        assert ctx.execute() == 42
        # other locations still get the default stores
        assert isinstance(resolve_store("memory://z"), FsspecCheckpointStore)
    assert events == [("written", "dict://ck.pkl", {"a": 1}), ("resumed", "dict://ck.pkl", 1)]
