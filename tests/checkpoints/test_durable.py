"""Durable runs in one process: a task failure stands in for a crash (the kill -9 tests in
test_kill.py use real processes)."""

from __future__ import annotations

import json
import os
import re
from itertools import pairwise

import pytest

from graflow_core.core.checkpoint import CheckpointNotFoundError, CheckpointVerificationError
from graflow_core.core.decorators import task
from graflow_core.core.resumable import DurableRun, DurableRunError, run_durable
from graflow_core.core.task import TaskWrapper
from graflow_core.core.workflow import workflow


class Crash(Exception):
    pass


# Side effects and crash switches live in files: the checkpoint pickles the tasks (closures by
# value here), so state kept in Python objects would be restored with them.


def _record(state_dir: str, name: str) -> None:
    with open(os.path.join(state_dir, "runs.log"), "a") as fh:
        fh.write(name + "\n")


def _maybe_crash(state_dir: str, name: str) -> None:
    switch = os.path.join(state_dir, f"crash-{name}")
    if os.path.exists(switch):
        os.remove(switch)
        raise Crash(name)


def _runs(state_dir: str) -> list[str]:
    path = os.path.join(state_dir, "runs.log")
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return fh.read().split()


def _tracked(name, state_dir, value=None):
    def fn(ctx):
        _record(state_dir, name)
        _maybe_crash(state_dir, name)
        if name.startswith("p"):  # parallel members: own keys (branches merge last-writer-wins)
            ctx.get_channel().set(f"member.{name}", name)
        else:
            ctx.get_channel().append("log", name)
        return name.upper() if value is None else value

    fn.__name__ = name
    return task(name, inject_context=True)(fn)


def _mixed_workflow(state_dir, backend="direct"):
    """Chain, diamond join, parallel group, a loop with next_iteration and a dynamic task."""
    with workflow("mixed") as wf:
        a = _tracked("a", state_dir)
        b = _tracked("b", state_dir)
        c = _tracked("c", state_dir)
        d = _tracked("d", state_dir)
        p1 = _tracked("p1", state_dir)
        p2 = _tracked("p2", state_dir)

        @task(inject_context=True, max_cycles=4)
        def loop(ctx):
            name = f"loop{ctx.cycle_count}"
            _record(state_dir, name)
            _maybe_crash(state_dir, name)
            ctx.get_channel().append("log", name)
            if ctx.can_iterate():
                ctx.next_iteration()
            return ctx.cycle_count

        @task(inject_context=True)
        def spawn(ctx):
            _record(state_dir, "spawn")
            _maybe_crash(state_dir, "spawn")

            def extra(ctx2):
                _record(state_dir, "extra")
                _maybe_crash(state_dir, "extra")
                ctx2.get_channel().append("log", "extra")
                return "EXTRA"

            ctx.next_task(TaskWrapper("extra", extra, inject_context=True))
            return "SPAWNED"

        e = _tracked("e", state_dir, value="END")
        a >> b
        a >> c
        b >> d
        c >> d
        d >> (p1 | p2).with_execution(backend=backend) >> loop >> spawn >> e
    return wf


def _channel(ctx):
    """The channel, with the random suffix of iteration task ids normalised."""
    ch = ctx.get_channel()
    return {re.sub(r"_[0-9a-f]{8}\b", "_*", k): ch.get(k) for k in sorted(ch.keys())}


@pytest.fixture(params=["direct", "threading"])
def backend(request):
    return request.param


@pytest.fixture
def expected(tmp_path_factory, backend):
    state = str(tmp_path_factory.mktemp("uninterrupted"))
    result, ctx = _mixed_workflow(state, backend).execute("a", ret_context=True)
    return result, _channel(ctx), _runs(state)


@pytest.mark.parametrize(
    "crash_task", ["a", "b", "d", "p2", "loop1", "loop3", "spawn", "extra", "e"]
)
def test_resume_after_crash_gives_identical_result_and_channel(
    tmp_path, expected, backend, crash_task
):
    expected_result, expected_channel, expected_runs = expected
    state = str(tmp_path / "state")
    os.mkdir(state)
    open(os.path.join(state, f"crash-{crash_task}"), "w").close()
    location = str(tmp_path / "run")
    with pytest.raises(Exception, match=f"{crash_task}|Parallel group"):
        run_durable(_mixed_workflow(state, backend), location, start_node="a")
    first = _runs(state)
    durable = DurableRun(_mixed_workflow(state, backend), location, start_node="a")
    done_before = []
    if durable.latest_checkpoint() is not None:
        assert durable.status() == "in_progress"
        with open(durable.latest_checkpoint() + ".state.json") as fh:
            done_before = json.load(fh)["completed_tasks"]
    os.remove(os.path.join(state, "runs.log"))

    # The retry: a new workflow object, as in a new process.
    result, ctx = run_durable(
        _mixed_workflow(state, backend), location, start_node="a", ret_context=True
    )
    second = _runs(state)
    assert result == expected_result == "END"
    assert _channel(ctx) == expected_channel
    assert not set(second) & set(done_before)
    # Every task ran; only the crashed one (and parallel members of a crashed group) twice.
    assert sorted(set(first) | set(second)) == sorted(set(expected_runs))
    assert set(first) & set(second) <= {crash_task, "p1", "p2"}
    assert durable.status() == "completed"


def test_completed_run_returns_stored_result_without_running(tmp_path):
    location = str(tmp_path / "done")
    counter = tmp_path / "count"

    with workflow("once") as wf:

        @task
        def only():
            with open(counter, "a") as fh:
                fh.write("x")
            return {"answer": 42}

    assert run_durable(wf, location) == {"answer": 42}
    assert run_durable(wf, location) == {"answer": 42}
    result, ctx = run_durable(wf, location, ret_context=True)
    assert result == {"answer": 42}
    assert ctx.completed_tasks == ["only"]
    assert counter.read_text() == "x"


def _chain(n, name="chain"):
    with workflow(name) as wf:
        tasks = []
        for i in range(n):

            def fn(i=i):
                return i

            fn.__name__ = f"t{i}"
            tasks.append(task(f"t{i}")(fn))
        for x, y in pairwise(tasks):
            x >> y
    return wf


def test_checkpoint_every_and_keep(tmp_path):
    location = tmp_path / "every"
    run = DurableRun(_chain(7), str(location), checkpoint_every=3, keep=2)
    assert run.status() == "new"
    assert run.run() == 6
    # checkpoints after tasks 3 and 6, plus the final one after task 7; two are kept
    names = sorted(os.listdir(location))
    assert names == [
        "ckpt-000002.meta.json",
        "ckpt-000002.pkl",
        "ckpt-000002.state.json",
        "ckpt-000003.meta.json",
        "ckpt-000003.pkl",
        "ckpt-000003.state.json",
        "latest",
        "result",
    ]
    assert run.latest_checkpoint() == str(location / "ckpt-000003")
    run.clear()
    assert os.listdir(location) == []
    assert run.status() == "new"
    with pytest.raises(ValueError, match="checkpoint_every"):
        DurableRun(_chain(1), str(location), checkpoint_every=0)


def test_crash_after_final_checkpoint_before_result(tmp_path):
    location = tmp_path / "late"
    assert run_durable(_chain(3), str(location)) == 2
    os.remove(location / "result")  # as if the process died right before writing it
    assert run_durable(_chain(3), str(location)) == 2
    assert (location / "result").exists()


def test_partial_next_checkpoint_is_ignored(tmp_path):
    """A crash while writing checkpoint N+1 leaves partial files; `latest` still names N."""
    location = tmp_path / "partial"
    wf = _chain(4, "partial")
    run = DurableRun(wf, str(location))
    assert run.run() == 3
    os.remove(location / "result")
    # fake an interrupted write of the next checkpoint: truncated and garbage files
    (location / "ckpt-000005.state.json").write_text('{"trunc')
    (location / "ckpt-000005.pkl").write_bytes(b"GFSIG\x00\x01")
    assert DurableRun(wf, str(location)).run() == 3


def test_other_workflow_at_same_location_is_refused(tmp_path):
    location = str(tmp_path / "shared")
    run_durable(_chain(2, "first"), location)
    with pytest.raises(DurableRunError, match="holds a run of workflow 'first', not 'second'"):
        run_durable(_chain(2, "second"), location)


def test_tampered_pointer_and_result_are_refused(tmp_path):
    location = tmp_path / "tamper"
    run_durable(_chain(3), str(location))
    for name in ("result", "latest"):
        path = location / name
        original = path.read_bytes()
        bad = bytearray(original)
        bad[-3] ^= 0x10
        path.write_bytes(bytes(bad))
        with pytest.raises(CheckpointVerificationError) as info:
            run_durable(_chain(3), str(location))
        assert info.value.what == str(path)
        path.write_bytes(original)
        if name == "result":
            path.unlink()  # go on with the pointer


def test_pointer_to_missing_checkpoint(tmp_path):
    location = tmp_path / "gone"
    run_durable(_chain(2), str(location))
    (location / "result").unlink()
    for f in location.glob("ckpt-*"):
        f.unlink()
    with pytest.raises(CheckpointNotFoundError, match="points to checkpoint"):
        run_durable(_chain(2), str(location))


def test_durable_run_on_memory_url():
    import uuid

    import fsspec

    location = f"memory://durable-tests/{uuid.uuid4().hex}"
    try:
        assert run_durable(_chain(5), location) == 4
        assert DurableRun(_chain(5), location).status() == "completed"
        assert run_durable(_chain(5), location) == 4
    finally:
        fsspec.filesystem("memory").rm(location[len("memory://") :], recursive=True)


def test_run_plugins_are_attached_on_start_and_on_resume(tmp_path):
    from graflow_core.plugins import TaskOutcome, hookimpl

    class Host:
        def __init__(self):
            self.hosted = []

        @hookimpl
        def execute_task(self, task_id, invoke):
            self.hosted.append(task_id)
            return TaskOutcome(invoke())

    state = str(tmp_path / "state")
    os.mkdir(state)
    open(os.path.join(state, "crash-b"), "w").close()

    def build():
        with workflow("hosted") as wf:
            _tracked("a", state) >> _tracked("b", state) >> _tracked("c", state)
        return wf

    location = str(tmp_path / "run")
    first = Host()
    with pytest.raises(Exception, match="b"):
        run_durable(build(), location, start_node="a", plugins=[first])
    assert first.hosted == ["a", "b"]
    second = Host()
    assert run_durable(build(), location, start_node="a", plugins=[second]) == "C"
    assert second.hosted == ["b", "c"]
