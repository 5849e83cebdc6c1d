"""DeadLetterStore: what a failed task leaves behind, and replaying it."""

from __future__ import annotations

import json
import pickle
import threading
import warnings
from pathlib import Path

import pytest

from graflow_core import task, workflow
from graflow_core.exceptions import GraflowRuntimeError, RetryLimitExceededError
from graflow_core.resilience.dead_letter import (
    FAILED,
    REPLAYED,
    DeadLetterError,
    DeadLetterNotFoundError,
    DeadLetterNotReplayableError,
    DeadLetterReplayError,
    DeadLetterStore,
    DeadLetterStoreWarning,
)


def run_failing(module, store, flag, **kwargs):
    """Run the billing workflow (it fails); the execution context of the run."""
    wf, channel = module.build(store, flag, **kwargs)
    ctx = wf.create_execution_context(None, 100, channel)
    with pytest.raises(GraflowRuntimeError):
        wf.create_engine().execute(ctx)
    return ctx


def test_failure_is_recorded_with_inputs_error_and_traceback(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    flag = tmp_path / "fixed"
    ctx = run_failing(mod, store, flag)

    [entry] = store.list()
    assert entry.task_id == "charge"
    assert entry.workflow_name == "billing"
    assert entry.session_id == ctx.session_id
    assert (entry.retry_count, entry.attempts) == (0, 1)
    assert entry.status == FAILED
    assert entry.error_type == "ConnectionError"
    assert entry.error_message == "payments down for order 42"
    assert "Traceback (most recent call last)" in entry.traceback
    assert "in charge" in entry.traceback
    assert "raise ConnectionError" in entry.traceback
    assert entry.task_ref == f"{mod.__name__}:charge"
    assert entry.source_file == str(Path(mod.__file__).resolve())
    assert entry.inputs_repr == {"fetch": "{'order': 42, 'amount': 9.5}", "flag": repr(str(flag))}
    assert entry.replayable and entry.inputs_stored
    assert entry.not_replayable_reason is None
    assert store.load_inputs(entry.id) == {"fetch": {"order": 42, "amount": 9.5}, "flag": str(flag)}

    files = sorted(p.name for p in (tmp_path / "dl").iterdir())
    assert files == [f"{entry.id}.inputs.pkl", f"{entry.id}.json"]  # no temporary files left
    data = json.loads((tmp_path / "dl" / f"{entry.id}.json").read_text())
    assert data["format"] == "graflow-dead-letter/1"
    assert data["error_type"] == "ConnectionError" and data["attempts"] == 1
    blob = (tmp_path / "dl" / f"{entry.id}.inputs.pkl").read_bytes()
    assert blob.startswith(b"GFSIG\x00")  # signed envelope, not a bare pickle


def test_one_entry_after_retries_with_the_retry_count(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    wf, channel = mod.build(store, tmp_path / "fixed", charge_task=mod.charge_with_retries)
    with pytest.raises(RetryLimitExceededError):
        wf.execute(initial_channel=channel)
    [entry] = store.list()
    assert entry.task_id == "charge_with_retries"
    assert (entry.retry_count, entry.attempts) == (2, 3)
    assert entry.error_message == "still down"


def test_replay_after_fixing_the_cause(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    flag = tmp_path / "fixed"
    run_failing(mod, store, flag)
    [entry] = store.list()

    with pytest.raises(DeadLetterReplayError) as info:
        store.replay(entry.id)
    assert isinstance(info.value.cause, ConnectionError)
    assert entry.id in str(info.value) and "task 'charge'" in str(info.value)
    again = store.get(entry.id)
    assert again.status == FAILED
    assert [r["ok"] for r in again.replays] == [False]
    assert "payments down" in again.replays[0]["error"]

    flag.write_text("fixed")
    assert store.replay(entry.id[:20]) == "charged 42"  # a unique id prefix is enough
    done = store.get(entry.id)
    assert done.status == REPLAYED
    assert done.resolved_at is not None
    assert [r["ok"] for r in done.replays] == [False, True]
    assert done.replays[-1]["result"] == "'charged 42'"
    assert store.list(status=FAILED) == []
    assert [e.id for e in store.list(status=REPLAYED)] == [entry.id]


def test_replay_with_another_function(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    run_failing(mod, store, tmp_path / "fixed")
    [entry] = store.list()
    assert store.replay(entry.id, func=lambda fetch, flag: fetch["amount"] * 2) == 19.0
    assert store.get(entry.id).status == REPLAYED


def test_unpicklable_inputs_keep_the_error_record(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    lock = threading.Lock()
    with workflow("locks", dead_letter_store=store) as wf:
        mod.charge(task_id="charge_locked", fetch={"order": 1}, flag=lock)
    with pytest.raises(GraflowRuntimeError):
        wf.execute("charge_locked")
    [entry] = store.list()
    assert entry.task_id == "charge_locked"
    assert entry.error_type == "TypeError"  # Path(lock) fails
    assert entry.inputs_repr["flag"].startswith("<unlocked _thread.lock")
    assert not entry.inputs_stored and not entry.replayable
    assert "could not be pickled (input flag)" in entry.not_replayable_reason
    assert not (tmp_path / "dl" / f"{entry.id}.inputs.pkl").exists()
    with pytest.raises(DeadLetterNotReplayableError, match="could not be pickled"):
        store.replay(entry.id)


def test_tampered_inputs_are_refused(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    run_failing(mod, store, tmp_path / "fixed")
    [entry] = store.list()
    blob_path = tmp_path / "dl" / f"{entry.id}.inputs.pkl"
    blob = bytearray(blob_path.read_bytes())
    blob[-3] ^= 0xFF
    blob_path.write_bytes(bytes(blob))
    with pytest.raises(DeadLetterNotReplayableError, match="signature mismatch"):
        store.replay(entry.id)


def test_wrong_key_is_refused(tmp_path: Path, make_module, monkeypatch) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    run_failing(mod, store, tmp_path / "fixed")
    [entry] = store.list()
    monkeypatch.setenv("GRAFLOW_SECRET_KEY", "another-key-" + "x" * 40)
    with pytest.raises(DeadLetterNotReplayableError, match="different key"):
        store.load_inputs(entry.id)


def test_without_a_signing_key_the_failure_is_still_recorded(
    tmp_path: Path, make_module, monkeypatch
) -> None:
    monkeypatch.delenv("GRAFLOW_SECRET_KEY")
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    run_failing(mod, store, tmp_path / "fixed")
    [entry] = store.list()
    assert entry.error_message == "payments down for order 42"
    assert not entry.replayable
    assert "GRAFLOW_SECRET_KEY" in entry.not_replayable_reason


def test_task_defined_in_a_function_is_replayable_with_func(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "dl")
    with workflow("local", dead_letter_store=store) as wf:

        @task
        def divide(a: int = 1, b: int = 0) -> float:
            return a / b

    with pytest.raises(GraflowRuntimeError):
        wf.execute(initial_channel={"a": 6, "b": 0})
    [entry] = store.list()
    assert entry.error_type == "ZeroDivisionError"
    assert entry.inputs_stored and not entry.replayable
    assert "defined inside a function" in entry.not_replayable_reason
    with pytest.raises(DeadLetterNotReplayableError, match="pass func="):
        store.replay(entry.id)
    assert store.replay(entry.id, func=lambda a, b: a / (b + 3)) == 2.0


def test_record_failure_never_raises(tmp_path: Path, make_module) -> None:
    mod = make_module()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    store = DeadLetterStore(blocker)
    wf, channel = mod.build(store, tmp_path / "fixed")
    with (
        pytest.warns(DeadLetterStoreWarning, match="could not record the failure of task"),
        pytest.raises(GraflowRuntimeError) as info,
    ):
        wf.execute(initial_channel=channel)
    assert isinstance(info.value.cause, ConnectionError)  # the task's own error, unchanged


def test_record_failure_with_warnings_as_errors_still_does_not_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = DeadLetterStore(blocker)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recorded = store.record_failure(task=None, task_id="x", context=None, error=ValueError())
    assert recorded is None


def test_parallel_members_failing_in_threads_each_get_an_entry(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "dl")
    with workflow("fanout", dead_letter_store=store) as wf:
        members = []
        for i in range(8):

            @task(id=f"member_{i}")
            def member() -> None:
                raise RuntimeError("boom")

            members.append(member)
        from graflow_core import parallel

        group = parallel(*members).with_execution(backend="threading", policy="best_effort")
        _ = group
    wf.execute()
    entries = store.list()
    assert sorted(e.task_id for e in entries) == [f"member_{i}" for i in range(8)]
    assert len({e.id for e in entries}) == 8


def test_get_delete_purge_and_errors(tmp_path: Path, make_module) -> None:
    mod = make_module()
    store = DeadLetterStore(tmp_path / "dl")
    for _ in range(3):
        run_failing(mod, store, tmp_path / "fixed")
    entries = store.list()
    assert len(entries) == 3
    assert [e.created_at for e in entries] == sorted(e.created_at for e in entries)
    with pytest.raises(DeadLetterNotFoundError, match="no dead letter 'zzz'"):
        store.get("zzz")
    with pytest.raises(DeadLetterNotFoundError, match="ambiguous"):
        store.get(entries[0].id[:4])
    with pytest.raises(DeadLetterNotFoundError):
        store.get("../etc/passwd")
    store.delete(entries[0].id)
    assert len(store.list()) == 2
    assert not list((tmp_path / "dl").glob(f"{entries[0].id}*"))
    (tmp_path / "dl" / "garbage.json").write_text("{not json")
    with pytest.warns(DeadLetterStoreWarning, match="garbage.json"):
        assert len(store.list()) == 2
    with pytest.raises(DeadLetterError, match="not a readable dead-letter entry"):
        store.get("garbage")
    assert store.purge() == 2 + 1
    assert list((tmp_path / "dl").iterdir()) == []


def test_missing_directory_is_an_empty_store(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "never-written")
    assert store.list() == []
    assert not (tmp_path / "never-written").exists()


def test_store_pickles_with_the_context(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "dl")
    copy = pickle.loads(pickle.dumps(store))
    assert copy.path == store.path
    assert copy.list() == []
