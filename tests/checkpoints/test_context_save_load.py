"""ExecutionContext.save / load write and read signed envelopes, like checkpoints."""

from __future__ import annotations

import pytest

from graflow_core import task, workflow
from graflow_core.core.context import ExecutionContext
from graflow_core.signing import MissingSigningKeyError, SignatureVerificationError


def _context() -> ExecutionContext:
    with workflow("saved") as wf:

        @task
        def a():
            return 41

    _, ctx = wf.execute(ret_context=True)
    return ctx


def test_save_then_load_round_trips(tmp_path):
    ctx = _context()
    path = tmp_path / "ctx.pkl"
    ctx.save(str(path))
    assert path.read_bytes().startswith(b"GFSIG\x00")
    loaded = ExecutionContext.load(str(path))
    assert loaded.get_result("a") == 41
    assert loaded.session_id == ctx.session_id


def test_tampered_or_raw_pickles_are_refused(tmp_path):
    path = tmp_path / "ctx.pkl"
    _context().save(str(path))
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(SignatureVerificationError, match=r"ctx\.pkl"):
        ExecutionContext.load(str(path))

    import pickle

    raw = tmp_path / "raw.pkl"
    raw.write_bytes(pickle.dumps({"not": "signed"}))
    with pytest.raises(SignatureVerificationError):
        ExecutionContext.load(str(raw))


def test_saving_without_a_key_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS", raising=False)
    with pytest.raises(MissingSigningKeyError, match="token_hex"):
        _context().save(str(tmp_path / "ctx.pkl"))
    assert not (tmp_path / "ctx.pkl").exists()
