"""graflow_core.signing: envelopes, keys, rotation, the insecure opt-out, never unpickling
unverified bytes."""

from __future__ import annotations

import pickle
import warnings

import pytest
from checkpoint_test_helpers import Sentinel

from graflow_core import signing
from graflow_core.exceptions import ConfigError, GraflowError
from graflow_core.signing import (
    ENVELOPE_HEADER_SIZE,
    MissingSigningKeyError,
    SignatureVerificationError,
    dumps_signed,
    loads_signed,
    sign,
    verify,
)

KEY_A = "a" * 64
KEY_B = "b" * 64


@pytest.fixture
def key_a(monkeypatch):
    monkeypatch.setenv(signing.KEY_ENV, KEY_A)
    monkeypatch.delenv(signing.KEY_FALLBACKS_ENV, raising=False)
    monkeypatch.delenv(signing.INSECURE_ENV, raising=False)


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv(signing.KEY_ENV, raising=False)
    monkeypatch.delenv(signing.KEY_FALLBACKS_ENV, raising=False)
    monkeypatch.delenv(signing.INSECURE_ENV, raising=False)
    monkeypatch.setattr(signing, "_warned_insecure", False)


def test_roundtrip_and_layout(key_a):
    blob = sign(b"payload")
    assert blob.startswith(signing.MAGIC)
    assert len(blob) == ENVELOPE_HEADER_SIZE + len(b"payload")
    assert verify(blob, what="x") == b"payload"
    info = signing.envelope_info(blob)
    assert info["signed"] is True
    assert info["key_fingerprint"] == signing.key_fingerprint()
    assert KEY_A not in repr(info)


def test_dumps_loads(key_a):
    assert loads_signed(dumps_signed({"a": [1, 2]}), what="x") == {"a": [1, 2]}


def test_every_single_byte_flip_is_refused(key_a):
    blob = sign(b"some payload bytes")
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises(SignatureVerificationError):
            verify(bytes(bad), what="f")


def test_truncated_and_appended_are_refused(key_a):
    blob = sign(b"payload")
    for n in range(len(blob)):
        with pytest.raises(SignatureVerificationError):
            verify(blob[:n], what="f")
    with pytest.raises(SignatureVerificationError, match="modified, corrupted or truncated"):
        verify(blob + b"x", what="f")


def test_wrong_key_names_file_and_cause(key_a, monkeypatch):
    blob = sign(b"p")
    monkeypatch.setenv(signing.KEY_ENV, KEY_B)
    with pytest.raises(SignatureVerificationError) as info:
        verify(blob, what="/data/run.pkl")
    assert info.value.reason == "wrong-key"
    assert info.value.what == "/data/run.pkl"
    text = str(info.value)
    assert text.startswith("/data/run.pkl: refused: signed with a different key")
    assert signing.KEY_FALLBACKS_ENV in text


def test_fallback_keys_verify_during_rotation(key_a, monkeypatch):
    old = sign(b"old data")
    monkeypatch.setenv(signing.KEY_ENV, KEY_B)
    monkeypatch.setenv(signing.KEY_FALLBACKS_ENV, f" {KEY_A} ,")
    assert verify(old, what="x") == b"old data"
    new = sign(b"new")  # always signed with the current key
    assert signing.envelope_info(new)["key_fingerprint"] == signing.key_fingerprint(KEY_B.encode())


def test_missing_key_message_says_how_to_generate(no_key):
    with pytest.raises(MissingSigningKeyError) as info:
        sign(b"x")
    assert isinstance(info.value, ConfigError) and isinstance(info.value, GraflowError)
    text = str(info.value)
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in text
    assert signing.INSECURE_ENV in text


def test_short_key_is_rejected(monkeypatch):
    monkeypatch.setenv(signing.KEY_ENV, "short")
    with pytest.raises(MissingSigningKeyError, match=r"too short \(5 bytes; at least 32"):
        sign(b"x")


def test_signed_blob_without_key_in_reader(key_a, monkeypatch):
    blob = sign(b"x")
    monkeypatch.delenv(signing.KEY_ENV)
    with pytest.raises(SignatureVerificationError) as info:
        verify(blob, what="f")
    assert info.value.reason == "no-key"
    assert "token_hex(32)" in str(info.value)


def test_insecure_opt_out_writes_unsigned_and_warns_once(no_key, monkeypatch):
    monkeypatch.setenv(signing.INSECURE_ENV, "1")
    with pytest.warns(RuntimeWarning, match="UNSIGNED") as record:
        blob = sign(b"dev data")
        assert verify(blob, what="f") == b"dev data"
    assert len(record) == 1
    assert signing.envelope_info(blob) == {
        "envelope": True,
        "version": 1,
        "signed": False,
        "key_fingerprint": None,
        "payload_size": 8,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sign(b"again")  # no second warning
    corrupted = bytearray(blob)
    corrupted[-1] ^= 0xFF
    with pytest.raises(SignatureVerificationError, match="checksum does not match"):
        verify(bytes(corrupted), what="f")


def test_unsigned_refused_without_opt_out(no_key, monkeypatch):
    monkeypatch.setenv(signing.INSECURE_ENV, "1")
    with pytest.warns(RuntimeWarning):
        blob = sign(b"dev data")
    monkeypatch.delenv(signing.INSECURE_ENV)
    monkeypatch.setenv(signing.KEY_ENV, KEY_A)
    with pytest.raises(SignatureVerificationError) as info:
        verify(blob, what="f")
    assert info.value.reason == "unsigned"


def test_key_wins_over_opt_out(key_a, monkeypatch):
    monkeypatch.setenv(signing.INSECURE_ENV, "1")
    assert signing.envelope_info(sign(b"x"))["signed"] is True


def test_plain_pickle_is_refused_and_never_unpickled(key_a, tmp_path):
    sentinel = tmp_path / "sentinel"
    raw = pickle.dumps(Sentinel(str(sentinel)))
    with pytest.raises(SignatureVerificationError) as info:
        loads_signed(raw, what="old.pkl")
    assert info.value.reason == "not-an-envelope"
    assert "older graflow_core or by Graflow" in str(info.value)
    assert not sentinel.exists()


def test_tampered_payload_never_unpickled(key_a, tmp_path):
    sentinel = tmp_path / "sentinel"
    blob = bytearray(dumps_signed(Sentinel(str(sentinel))))
    blob[-2] ^= 0x20
    with pytest.raises(SignatureVerificationError):
        loads_signed(bytes(blob), what="f")
    assert not sentinel.exists()
    loads_signed(dumps_signed(Sentinel(str(sentinel))), what="f")
    assert sentinel.exists()  # the sentinel works: valid data is unpickled


def test_import_graflow_core_does_not_import_signing_machinery():
    import subprocess
    import sys

    code = (
        "import sys, graflow_core; "
        "print(sorted(m for m in ('hmac', 'graflow_core.signing', 'cloudpickle', 'fsspec', "
        "'graflow_core.checkpoint_stores') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
