"""Signed envelopes for bytes that leave the process: checkpoints, results, XCom values.

Anything graflow_core pickles and stores (a checkpoint, a durable run's result, a bridge's
XCom/result value) is wrapped in an *envelope* and verified before it is unpickled::

    offset  size  field
    0       6     magic  b"GFSIG\\x00"
    6       1     format version (1)
    7       1     mode: 0x01 signed (HMAC-SHA256), 0x00 unsigned (development opt-out)
    8       8     key fingerprint (signed: HMAC(key, b"graflow-key-fingerprint")[:8];
                  unsigned: zeros)
    16      32    tag: signed -> HMAC-SHA256(key, bytes[0:16] + payload);
                  unsigned -> SHA-256(bytes[0:16] + payload) (detects corruption only)
    48      ...   payload

The key comes from ``GRAFLOW_SECRET_KEY`` (at least 32 bytes, e.g. the output of
``python -c "import secrets; print(secrets.token_hex(32))"``).  Old keys listed in
``GRAFLOW_SECRET_KEY_FALLBACKS`` (comma separated) are accepted for verification, so keys can
be rotated without invalidating stored data.  For local development only,
``GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS=1`` allows writing and reading unsigned envelopes
when no key is set (a warning is emitted once per process).

:func:`verify` and :func:`loads_signed` check the tag (constant-time) *before* anything is
unpickled; unsigned, tampered, truncated or wrong-key data raises
:class:`SignatureVerificationError` naming what was read and the likely cause.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from graflow_core.exceptions import ConfigError, GraflowError

__all__ = [
    "ENVELOPE_HEADER_SIZE",
    "INSECURE_ENV",
    "KEY_ENV",
    "KEY_FALLBACKS_ENV",
    "MIN_KEY_BYTES",
    "MissingSigningKeyError",
    "SignatureVerificationError",
    "SigningError",
    "dumps_signed",
    "envelope_info",
    "insecure_mode",
    "is_envelope",
    "key_fingerprint",
    "loads_signed",
    "sign",
    "signing_key",
    "verify",
]

KEY_ENV = "GRAFLOW_SECRET_KEY"
KEY_FALLBACKS_ENV = "GRAFLOW_SECRET_KEY_FALLBACKS"
INSECURE_ENV = "GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS"
MIN_KEY_BYTES = 32

MAGIC = b"GFSIG\x00"
VERSION = 1
MODE_UNSIGNED = 0
MODE_SIGNED = 1
_FP_SIZE = 8
_TAG_SIZE = 32
_PREFIX_SIZE = len(MAGIC) + 2 + _FP_SIZE  # magic, version, mode, fingerprint
ENVELOPE_HEADER_SIZE = _PREFIX_SIZE + _TAG_SIZE
_NO_FINGERPRINT = b"\x00" * _FP_SIZE
_FP_LABEL = b"graflow-key-fingerprint"

_GENERATE_HINT = (
    f'generate one with: python -c "import secrets; print(secrets.token_hex(32))" and export '
    f"it as {KEY_ENV} in every process that writes or reads checkpoints"
)


class SigningError(GraflowError):
    """Base class of the errors raised while signing or verifying data."""


class MissingSigningKeyError(SigningError, ConfigError):
    """No usable signing key: ``GRAFLOW_SECRET_KEY`` is unset or too short."""


class SignatureVerificationError(SigningError, ValueError):
    """Data is unsigned, tampered with, truncated or signed with another key.

    ``what`` names the data (usually a file path or URL); ``reason`` is a short machine-usable
    code: ``"not-an-envelope"``, ``"truncated"``, ``"unsupported-version"``, ``"unsigned"``,
    ``"wrong-key"``, ``"tampered"``, ``"no-key"``.
    """

    def __init__(self, what: str, reason: str, message: str) -> None:
        super().__init__(f"{what}: {message}")
        self.what = what
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------

# Cache: (env value, fallbacks value) -> (key, fallback keys). Re-read when the env changes so
# tests and long-running processes that rotate keys see the new value.
_key_cache: tuple[tuple[str | None, str | None], tuple[bytes | None, tuple[bytes, ...]]] | None = (
    None
)
_warned_insecure = False


def _check_key(raw: str, source: str) -> bytes:
    key = raw.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise MissingSigningKeyError(
            f"{source} is too short ({len(key)} bytes; at least {MIN_KEY_BYTES} are needed); "
            + _GENERATE_HINT
        )
    return key


def _keys() -> tuple[bytes | None, tuple[bytes, ...]]:
    global _key_cache
    env = os.environ
    raw = env.get(KEY_ENV) or None
    raw_fallbacks = env.get(KEY_FALLBACKS_ENV) or None
    cached = _key_cache
    if cached is not None and cached[0] == (raw, raw_fallbacks):
        return cached[1]
    key = _check_key(raw, KEY_ENV) if raw is not None else None
    fallbacks: tuple[bytes, ...] = ()
    if raw_fallbacks:
        fallbacks = tuple(
            _check_key(part.strip(), f"a key in {KEY_FALLBACKS_ENV}")
            for part in raw_fallbacks.split(",")
            if part.strip()
        )
    _key_cache = ((raw, raw_fallbacks), (key, fallbacks))
    return key, fallbacks


def signing_key() -> bytes | None:
    """The current key from ``GRAFLOW_SECRET_KEY`` (``None`` when unset).

    Raises :class:`MissingSigningKeyError` when it is set but shorter than 32 bytes.
    """
    return _keys()[0]


_process_key: list[str] = []  # this process's own signing key, made on first need
_process_key_users = 0  # process_key() blocks running now (the first set the key)
_process_key_lock = threading.Lock()


@contextlib.contextmanager
def process_key() -> Iterator[bool]:
    """Give what runs in this block a signing key when none is configured (yields whether).

    For runs whose signed data (checkpoints of a hosted workflow, large step values, pickled
    task results) is written and read back in this process only -- a bridge's local run: without
    ``GRAFLOW_SECRET_KEY`` (and without the insecure opt-out) a random key of this process is
    set in the environment for the block, then removed again. Read such data inside the block.

    Blocks may overlap (local runs in threads): the key is set by the first and removed when the
    last of them ends, never under a block still running.
    """
    global _process_key_users
    with _process_key_lock:
        shared = _process_key_users > 0  # another block set the key and still runs
        if not shared and (os.environ.get(KEY_ENV) or insecure_mode()):
            use = False
        else:
            use = True
            if not shared:
                if not _process_key:
                    import secrets

                    _process_key.append(secrets.token_hex(32))
                os.environ[KEY_ENV] = _process_key[0]
            _process_key_users += 1
    if not use:
        yield False
        return
    try:
        yield True
    finally:
        with _process_key_lock:
            _process_key_users -= 1
            if _process_key_users == 0 and os.environ.get(KEY_ENV) == _process_key[0]:
                os.environ.pop(KEY_ENV, None)


def insecure_mode() -> bool:
    """True when ``GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS`` opts out of signing (development)."""
    return os.environ.get(INSECURE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _warn_insecure(action: str) -> None:
    global _warned_insecure
    if _warned_insecure:
        return
    _warned_insecure = True
    import warnings

    warnings.warn(
        f"graflow: {action} UNSIGNED data because {INSECURE_ENV} is set and {KEY_ENV} is not; "
        "anyone who can write these files can run code in this process. Use this only for "
        f"local development; {_GENERATE_HINT}.",
        RuntimeWarning,
        stacklevel=4,
    )


def _fingerprint(key: bytes) -> bytes:
    import hmac

    return hmac.digest(key, _FP_LABEL, "sha256")[:_FP_SIZE]


def key_fingerprint(key: bytes | None = None) -> str | None:
    """Hex fingerprint of ``key`` (default: the current key); safe to log, reveals nothing."""
    if key is None:
        key = signing_key()
    return None if key is None else _fingerprint(key).hex()


# --------------------------------------------------------------------------------------------
# Envelopes
# --------------------------------------------------------------------------------------------


def sign(payload: bytes) -> bytes:
    """Wrap ``payload`` in a signed envelope (see the module docstring for the layout).

    Without ``GRAFLOW_SECRET_KEY``: an unsigned envelope when
    ``GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS=1`` (warns once), else
    :class:`MissingSigningKeyError` explaining how to create a key.
    """
    key = signing_key()
    if key is not None:
        prefix = MAGIC + bytes((VERSION, MODE_SIGNED)) + _fingerprint(key)
    elif insecure_mode():
        _warn_insecure("writing")
        prefix = MAGIC + bytes((VERSION, MODE_UNSIGNED)) + _NO_FINGERPRINT
    else:
        raise MissingSigningKeyError(
            f"cannot sign data: {KEY_ENV} is not set; {_GENERATE_HINT} (for local development "
            f"only, {INSECURE_ENV}=1 writes unsigned data instead)"
        )
    return b"".join((prefix, _tag(key, prefix, payload), payload))


def _tag(key: bytes | None, prefix: bytes | memoryview, payload: bytes | memoryview) -> bytes:
    """The envelope's tag: HMAC-SHA256 with ``key``, or plain SHA-256 when ``key`` is None."""
    import hashlib
    import hmac

    digest = hashlib.sha256(prefix) if key is None else hmac.new(key, prefix, "sha256")
    digest.update(payload)
    return digest.digest()


def is_envelope(blob: bytes) -> bool:
    """True when ``blob`` starts with the envelope magic (says nothing about validity)."""
    return blob[: len(MAGIC)] == MAGIC


def envelope_info(blob: bytes) -> dict[str, Any]:
    """The header fields of an envelope, unverified (for diagnostics only)."""
    if not is_envelope(blob) or len(blob) < ENVELOPE_HEADER_SIZE:
        return {"envelope": False}
    fp = blob[len(MAGIC) + 2 : _PREFIX_SIZE]
    return {
        "envelope": True,
        "version": blob[len(MAGIC)],
        "signed": blob[len(MAGIC) + 1] == MODE_SIGNED,
        "key_fingerprint": None if fp == _NO_FINGERPRINT else fp.hex(),
        "payload_size": len(blob) - ENVELOPE_HEADER_SIZE,
    }


def verify(blob: bytes, *, what: str) -> bytes:
    """Return the payload of the envelope ``blob`` after checking its tag (constant time).

    ``what`` names the data in errors (a file path or URL).  Raises
    :class:`SignatureVerificationError` when ``blob`` is not an envelope (e.g. an unsigned
    file from an older version), is truncated, was signed with a key that is neither
    ``GRAFLOW_SECRET_KEY`` nor in ``GRAFLOW_SECRET_KEY_FALLBACKS``, or was modified;
    :class:`MissingSigningKeyError`-style advice is part of the message when no key is set.
    Unsigned envelopes are accepted only under ``GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS=1``.
    """
    import hmac

    view = memoryview(blob)
    if not is_envelope(blob):
        raise SignatureVerificationError(
            what,
            "not-an-envelope",
            "refused: not a signed graflow file (no signature header). It is probably an "
            "unsigned file written by an older graflow_core or by Graflow, or a corrupted "
            "file; it was not loaded. Re-create it with the current version"
            + ("" if insecure_mode() else f" (or, for local development, set {INSECURE_ENV}=1)"),
        )
    if len(blob) < ENVELOPE_HEADER_SIZE:
        raise SignatureVerificationError(
            what,
            "truncated",
            f"refused: truncated ({len(blob)} bytes, shorter than the "
            f"{ENVELOPE_HEADER_SIZE}-byte signature header); the write was interrupted or "
            "the file was damaged",
        )
    version = blob[len(MAGIC)]
    mode = blob[len(MAGIC) + 1]
    if version != VERSION or mode not in (MODE_SIGNED, MODE_UNSIGNED):
        raise SignatureVerificationError(
            what,
            "unsupported-version",
            f"refused: signature header version {version}/mode {mode} is not understood by "
            "this graflow_core (written by a newer version, or corrupted)",
        )
    prefix = view[:_PREFIX_SIZE]
    tag = blob[_PREFIX_SIZE:ENVELOPE_HEADER_SIZE]
    payload = view[ENVELOPE_HEADER_SIZE:]
    fp = bytes(view[len(MAGIC) + 2 : _PREFIX_SIZE])

    if mode == MODE_UNSIGNED:
        if not insecure_mode():
            raise SignatureVerificationError(
                what,
                "unsigned",
                "refused: the file is UNSIGNED (written with "
                f"{INSECURE_ENV}=1); unsigned data is read only when {INSECURE_ENV}=1 is set "
                "in this process too (local development only)",
            )
        if fp != _NO_FINGERPRINT or not hmac.compare_digest(_tag(None, prefix, payload), tag):
            raise SignatureVerificationError(
                what,
                "tampered",
                "refused: the unsigned file's checksum does not match: it is corrupted or "
                "was modified (or truncated by an interrupted write)",
            )
        _warn_insecure("reading")
        return bytes(payload)

    key, fallbacks = _keys()
    if key is None and not fallbacks:
        raise SignatureVerificationError(
            what,
            "no-key",
            f"refused: the file is signed but {KEY_ENV} is not set in this process, so it "
            f"cannot be verified; set {KEY_ENV} to the key that wrote it ({_GENERATE_HINT})",
        )
    candidates = [k for k in ((key,) if key is not None else ()) + fallbacks]
    matching = [k for k in candidates if hmac.compare_digest(_fingerprint(k), fp)]
    if not matching:
        current = key_fingerprint(key) if key is not None else "none"
        raise SignatureVerificationError(
            what,
            "wrong-key",
            f"refused: signed with a different key (key fingerprint {fp.hex()}; this "
            f"process has {current}"
            + (f" plus {len(fallbacks)} fallback key(s)" if fallbacks else "")
            + f"). Set {KEY_ENV} to the key that wrote it, or list that key in "
            f"{KEY_FALLBACKS_ENV} while rotating keys; if the keys are the same, the header "
            "was corrupted or tampered with",
        )
    for k in matching:
        if hmac.compare_digest(_tag(k, prefix, payload), tag):
            return bytes(payload)
    raise SignatureVerificationError(
        what,
        "tampered",
        "refused: signature mismatch: the file was modified, corrupted or truncated after it "
        "was signed (e.g. an interrupted copy or write); it was not loaded",
    )


def dumps_signed(obj: Any) -> bytes:
    """``sign(cloudpickle.dumps(obj))``."""
    import cloudpickle

    return sign(cloudpickle.dumps(obj))


def loads_signed(blob: bytes, *, what: str) -> Any:
    """Verify ``blob`` (see :func:`verify`), then unpickle its payload.

    Nothing is unpickled unless the envelope verified.
    """
    payload = verify(blob, what=what)
    import pickle

    return pickle.loads(payload)
