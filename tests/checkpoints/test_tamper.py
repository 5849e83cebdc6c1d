"""Tampering with any of a checkpoint's three files is refused before anything is unpickled.

The checkpoint's channel holds a :class:`Sentinel` whose unpickling creates a directory, so
"refused" also proves "never unpickled".
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
from checkpoint_test_helpers import Sentinel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graflow_core import signing
from graflow_core.core.checkpoint import (
    CheckpointManager,
    CheckpointNotFoundError,
    CheckpointVerificationError,
)
from graflow_core.core.context import ExecutionContext
from graflow_core.core.decorators import task
from graflow_core.core.workflow import workflow
from graflow_core.signing import MissingSigningKeyError

SUFFIXES = (".pkl", ".state.json", ".meta.json")


@task
def first():
    return 1


@task
def second(first):
    return first + 1


def _context() -> ExecutionContext:
    with workflow("tamper") as wf:
        first >> second
    return ExecutionContext.create(wf.graph, "first")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """(base, original bytes per suffix, sentinel path); the checkpoint is restored after each
    example."""
    directory = tmp_path_factory.mktemp("tamper")
    sentinel = str(directory / "SENTINEL")
    ctx = _context()
    ctx.get_channel().set("evil", Sentinel(sentinel))
    ctx.get_channel().set("data", list(range(50)))
    base = str(directory / "ck")
    CheckpointManager.create_checkpoint(ctx, path=base, metadata={"m": 1})
    original = {s: _read(base + s) for s in SUFFIXES}
    return base, original, sentinel


def _read(path):
    with open(path, "rb") as fh:
        return fh.read()


def _restore(base, original):
    for suffix, data in original.items():
        with open(base + suffix, "wb") as fh:
            fh.write(data)


def _assert_refused(base, sentinel):
    with pytest.raises(CheckpointVerificationError) as info:
        CheckpointManager.resume_from_checkpoint(base)
    assert not os.path.exists(sentinel), "tampered checkpoint was unpickled"
    err = info.value
    assert err.what.startswith(base)
    assert str(err).startswith(f"{err.what}: refused")
    return err


def test_sentinel_fires_on_a_valid_checkpoint(checkpoint, tmp_path):
    base, _, sentinel = checkpoint
    copy = str(tmp_path / "copy")
    for suffix in SUFFIXES:
        shutil.copy(base + suffix, copy + suffix)
    sentinel_copy = sentinel  # the pickled path is absolute: the real sentinel
    try:
        CheckpointManager.resume_from_checkpoint(copy)
        assert os.path.exists(sentinel_copy)
    finally:
        if os.path.exists(sentinel_copy):
            os.rmdir(sentinel_copy)


_hyp = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_hyp
@given(suffix=st.sampled_from(SUFFIXES), data=st.data())
def test_flipping_any_byte_is_refused(checkpoint, suffix, data):
    base, original, sentinel = checkpoint
    content = bytearray(original[suffix])
    index = data.draw(st.integers(0, len(content) - 1), label="index")
    mask = data.draw(st.integers(1, 255), label="xor")
    content[index] ^= mask
    try:
        with open(base + suffix, "wb") as fh:
            fh.write(content)
        _assert_refused(base, sentinel)
    finally:
        _restore(base, original)


@_hyp
@given(suffix=st.sampled_from(SUFFIXES), data=st.data())
def test_truncating_is_refused(checkpoint, suffix, data):
    base, original, sentinel = checkpoint
    keep = data.draw(st.integers(0, len(original[suffix]) - 1), label="keep")
    try:
        with open(base + suffix, "wb") as fh:
            fh.write(original[suffix][:keep])
        _assert_refused(base, sentinel)
    finally:
        _restore(base, original)


@_hyp
@given(suffix=st.sampled_from(SUFFIXES), extra=st.binary(min_size=1, max_size=64))
def test_appending_is_refused(checkpoint, suffix, extra):
    base, original, sentinel = checkpoint
    try:
        with open(base + suffix, "wb") as fh:
            fh.write(original[suffix] + extra)
        _assert_refused(base, sentinel)
    finally:
        _restore(base, original)


def test_mixing_files_of_two_checkpoints_is_refused(checkpoint, tmp_path):
    base, original, sentinel = checkpoint
    other = str(tmp_path / "other")
    CheckpointManager.create_checkpoint(_context(), path=other)
    for suffix in (".state.json", ".meta.json"):
        try:
            shutil.copy(other + suffix, base + suffix)
            err = _assert_refused(base, sentinel)
            assert err.reason == "mismatch"
            assert "belongs to another checkpoint" in str(err)
        finally:
            _restore(base, original)


def test_wrong_key_is_refused(checkpoint, monkeypatch):
    base, _, sentinel = checkpoint
    monkeypatch.setenv(signing.KEY_ENV, "z" * 40)
    err = _assert_refused(base, sentinel)
    assert err.reason == "wrong-key"
    assert err.what == base + ".pkl"


def test_missing_key_refuses_to_write_and_read(checkpoint, monkeypatch, tmp_path):
    base, _, sentinel = checkpoint
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.delenv(signing.INSECURE_ENV, raising=False)
    with pytest.raises(MissingSigningKeyError, match=r"secrets\.token_hex\(32\)"):
        CheckpointManager.create_checkpoint(_context(), path=str(tmp_path / "nokey"))
    assert not any(os.path.exists(str(tmp_path / "nokey") + s) for s in SUFFIXES)
    err = _assert_refused(base, sentinel)
    assert err.reason == "no-key"


def test_opt_out_writes_unsigned_reads_only_under_opt_out(monkeypatch, tmp_path):
    monkeypatch.delenv(signing.KEY_ENV)
    monkeypatch.setenv(signing.INSECURE_ENV, "1")
    monkeypatch.setattr(signing, "_warned_insecure", False)
    base = str(tmp_path / "dev")
    with pytest.warns(RuntimeWarning, match="UNSIGNED"):
        CheckpointManager.create_checkpoint(_context(), path=base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx, _ = CheckpointManager.resume_from_checkpoint(base)
    assert ctx.execute() == 2
    # the JSON files are still covered by the (unsigned) checksum manifest
    with open(base + ".meta.json", "ab") as fh:
        fh.write(b" ")
    with pytest.raises(CheckpointVerificationError, match=r"meta\.json: refused"):
        CheckpointManager.resume_from_checkpoint(base)
    # a process with a key and without the opt-out refuses the unsigned checkpoint
    monkeypatch.delenv(signing.INSECURE_ENV)
    monkeypatch.setenv(signing.KEY_ENV, "k" * 40)
    with pytest.raises(CheckpointVerificationError) as info:
        CheckpointManager.resume_from_checkpoint(base)
    assert info.value.reason == "unsigned"


def test_legacy_unsigned_pickle(tmp_path, monkeypatch):
    """A pre-signing (or Graflow) checkpoint: refused, or loaded with a warning under the
    opt-out."""
    import cloudpickle

    base = str(tmp_path / "legacy")
    sentinel = str(tmp_path / "SENTINEL")
    ctx = _context()
    CheckpointManager.create_checkpoint(ctx, path=base)
    ctx.get_channel().set("evil", Sentinel(sentinel))
    with open(base + ".pkl", "wb") as fh:
        fh.write(cloudpickle.dumps(ctx))
    err = _assert_refused(base, sentinel)
    assert err.reason == "not-an-envelope"
    monkeypatch.setenv(signing.INSECURE_ENV, "1")
    # verification has nothing to check in an unsigned pickle: refused even under the opt-out
    with pytest.raises(CheckpointVerificationError) as info:
        CheckpointManager.verify_checkpoint(base)
    assert info.value.reason == "not-an-envelope"
    assert not os.path.exists(sentinel)
    with pytest.warns(RuntimeWarning, match="UNSIGNED checkpoint from an older version") as rec:
        restored, _ = CheckpointManager.resume_from_checkpoint(base)
    assert rec[0].filename == __file__  # the warning points at the caller of resume
    assert os.path.exists(sentinel)
    assert restored.execute() == 2


def test_crash_while_overwriting_a_base_is_refused_not_mixed(tmp_path):
    """New JSON files next to the old .pkl (a crash between the writes): refused."""
    base = str(tmp_path / "over")
    ctx = _context()
    CheckpointManager.create_checkpoint(ctx, path=base, metadata={"v": 1})
    old_pkl = _read(base + ".pkl")
    CheckpointManager.create_checkpoint(ctx, path=base, metadata={"v": 2})
    with open(base + ".pkl", "wb") as fh:
        fh.write(old_pkl)
    with pytest.raises(CheckpointVerificationError) as info:
        CheckpointManager.resume_from_checkpoint(base)
    assert info.value.reason == "mismatch"


def test_partial_files_refused_with_clear_errors(tmp_path):
    base = str(tmp_path / "part")
    CheckpointManager.create_checkpoint(_context(), path=base)
    os.remove(base + ".pkl")
    with pytest.raises(CheckpointNotFoundError, match=r"part\.pkl does not exist.*found"):
        CheckpointManager.resume_from_checkpoint(base)
    with open(base + ".pkl", "wb"):
        pass
    with pytest.raises(CheckpointVerificationError, match="not a signed graflow file"):
        CheckpointManager.resume_from_checkpoint(base)


def test_verify_checkpoint_does_not_unpickle(checkpoint):
    base, _, sentinel = checkpoint
    meta = CheckpointManager.verify_checkpoint(base)
    assert meta.user_metadata == {"m": 1}
    assert not os.path.exists(sentinel)
