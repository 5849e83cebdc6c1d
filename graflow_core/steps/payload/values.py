"""Channel values as JSON-able entries: inline JSON, inline signed pickle, or a reference.

A step's output carries every channel value it passes on as an *entry*, a small JSON-able list:

``["j", value]``
    the value itself, when it is plain JSON (``str``, ``int``, ``float``, ``bool``, ``None``,
    lists, dicts with string keys) and its JSON text is at most ``inline_max`` bytes;
``["p", "<base64>"]``
    any other picklable value up to ``inline_max`` bytes: a signed envelope
    (:func:`graflow_core.signing.sign`) of its cloudpickle, base64-encoded. It is verified
    before it is unpickled, so a tampered XCom/IO-manager value is refused;
``["r", {"uri", "sha256", "format", "size"}]``
    a larger value, written once to the :class:`ValueStore` as a signed envelope (of its JSON
    text, ``format`` ``"j"``, or of its pickle, ``"p"``); the digest and the envelope are
    checked when it is read back;
``["d"]``
    the key was deleted (only in channel states).

Pickled and stored values need the signing key (``GRAFLOW_SECRET_KEY``, see
docs/checkpoints.md); inline JSON values do not, so workflows passing plain data need no key.

The store location is the ``store=`` argument of :func:`graflow_core.steps.run_step`, else the
``GRAFLOW_STEP_STORE`` environment variable, else ``<tempdir>/graflow-steps`` (enough when all
native tasks run on one machine). A local directory or any fsspec URL (``s3://bucket/prefix``)
works; values go to ``<location>/<workflow_run_id>/<sha256>``; ``ValueStore.delete_run(run_id)``
removes a finished run's values. The inline limit is
``inline_max=``, else ``GRAFLOW_STEP_INLINE_MAX`` (bytes), else :data:`DEFAULT_INLINE_MAX`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import threading
from typing import Any

from graflow_core.exceptions import ConfigError, GraflowError

#: Values whose encoded form is larger than this many bytes are stored by reference.
DEFAULT_INLINE_MAX = 48 * 1024
STORE_ENV = "GRAFLOW_STEP_STORE"
INLINE_MAX_ENV = "GRAFLOW_STEP_INLINE_MAX"

JSON = "j"
PICKLE = "p"
REF = "r"
DELETED = "d"

Entry = list[Any]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class StepPayloadError(GraflowError):
    """A step payload or stored value cannot be read (malformed, missing, tampered)."""


def _is_json(value: Any) -> bool:
    t = type(value)
    if t is str or t is bool or t is int or value is None:
        return True
    if t is float:
        return value == value and value not in (float("inf"), float("-inf"))
    if t is list:
        return all(_is_json(v) for v in value)
    if t is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    return False


def inline_max_default() -> int:
    """The inline limit from ``GRAFLOW_STEP_INLINE_MAX`` or :data:`DEFAULT_INLINE_MAX`."""
    raw = os.environ.get(INLINE_MAX_ENV)
    if not raw:
        return DEFAULT_INLINE_MAX
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{INLINE_MAX_ENV}={raw!r} is not an integer; set it to a number of bytes "
            "(values larger than it are stored by reference)"
        ) from None
    if value < 0:
        raise ConfigError(f"{INLINE_MAX_ENV} must be >= 0, got {value}")
    return value


class ValueStore:
    """Where values larger than the inline limit live: a local directory or an fsspec URL.

    ``ValueStore(location)`` writes ``<location>/<run>/<sha256>`` as signed envelopes through
    the checkpoint stores of :mod:`graflow_core.checkpoint_stores` (so the same URLs and
    plugins work). ``inline_max`` is the inline limit in bytes.
    """

    def __init__(self, location: str | None = None, *, inline_max: int | None = None) -> None:
        from graflow_core.checkpoint_stores.base import resolve_store

        if location is None:
            location = os.environ.get(STORE_ENV) or os.path.join(
                tempfile.gettempdir(), "graflow-steps"
            )
        self.location = str(location).rstrip("/") or str(location)
        self.inline_max = inline_max_default() if inline_max is None else int(inline_max)
        self._store = resolve_store(self.location)
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ValueStore({self.location!r}, inline_max={self.inline_max})"

    # -- encoding ------------------------------------------------------------------------------

    def encode(self, value: Any, *, run: str = "run") -> Entry:
        """The entry for ``value`` (see the module docs); large values are written here."""
        if _is_json(value):
            text = json.dumps(value, allow_nan=False, separators=(",", ":"))
            if len(text) <= self.inline_max:
                return [JSON, value]
            return self._put(text.encode(), JSON, run)
        import cloudpickle

        from graflow_core.signing import sign

        try:
            raw = cloudpickle.dumps(value)
        except Exception as exc:
            raise StepPayloadError(
                f"A channel value of type {type(value).__name__} cannot be pickled to pass it "
                f"to the next native task ({type(exc).__name__}: {exc}); keep channel values "
                "and task results picklable (or JSON)"
            ) from exc
        if len(raw) + 48 <= self.inline_max:
            return [PICKLE, base64.b64encode(sign(raw)).decode("ascii")]
        return self._put(raw, PICKLE, run)

    def _put(self, raw: bytes, fmt: str, run: str) -> Entry:
        from graflow_core.signing import sign

        digest = hashlib.sha256(raw).hexdigest()
        uri = self._store.join(self.location, _SAFE.sub("_", run) or "run", digest)
        if not self._store.exists(uri):
            self._store.write_bytes(uri, sign(raw))
        return [REF, {"uri": uri, "sha256": digest, "format": fmt, "size": len(raw)}]

    def delete_run(self, run: str) -> int:
        """Delete the values stored for run ``run`` (after the run); returns how many."""
        prefix = self._store.join(self.location, _SAFE.sub("_", run) or "run", "")
        paths = self._store.list(prefix)
        for path in paths:
            self._store.delete(path)
        return len(paths)

    # -- decoding ------------------------------------------------------------------------------

    def decode(self, entry: Entry, *, what: str = "a step value") -> Any:
        """The value of ``entry``; refuses tampered or unsigned pickles and stored values."""
        kind = entry[0] if isinstance(entry, list) and entry else None
        if kind == JSON and len(entry) == 2:
            return entry[1]
        if kind == PICKLE and len(entry) == 2 and isinstance(entry[1], str):
            from graflow_core.signing import loads_signed

            try:
                blob = base64.b64decode(entry[1], validate=True)
            except ValueError as exc:
                raise StepPayloadError(f"{what}: the inline pickle is not base64 ({exc})") from exc
            return loads_signed(blob, what=what)
        if kind == REF and len(entry) == 2 and isinstance(entry[1], dict):
            return self._get(entry[1], what)
        raise StepPayloadError(
            f"{what}: malformed value entry {str(entry)[:80]!r}; step payloads must come from "
            "StepOutput.to_payload() of the same graflow-core version"
        )

    def _get(self, ref: dict[str, Any], what: str) -> Any:
        from graflow_core.signing import verify

        digest = ref.get("sha256")
        uri = ref.get("uri")
        if not isinstance(digest, str) or not isinstance(uri, str):
            raise StepPayloadError(f"{what}: malformed value reference {ref!r}")
        with self._lock:
            if digest in self._cache:
                return self._cache[digest]
        try:
            blob = self._store.read_bytes(uri)
        except FileNotFoundError:
            raise StepPayloadError(
                f"{what}: the stored value {uri} does not exist. The value store must be "
                f"shared by every native task of the run (set {STORE_ENV} to a shared "
                "directory or URL, e.g. s3://bucket/graflow-steps)"
            ) from None
        raw = verify(blob, what=f"{what} ({uri})")
        if hashlib.sha256(raw).hexdigest() != digest:
            raise StepPayloadError(
                f"{what}: the stored value {uri} does not match its digest {digest} (it was "
                "replaced by another signed value); it was not loaded"
            )
        if ref.get("format") == JSON:
            value = json.loads(raw)
        else:
            import pickle

            value = pickle.loads(raw)
        with self._lock:
            self._cache[digest] = value
        return value


_stores: dict[tuple[str | None, int | None], ValueStore] = {}
_stores_lock = threading.Lock()


def value_store(
    location: str | ValueStore | None = None, *, inline_max: int | None = None
) -> ValueStore:
    """The (per-process cached) :class:`ValueStore` for ``location`` (see the module docs)."""
    if isinstance(location, ValueStore):
        return location
    key = (location or os.environ.get(STORE_ENV), inline_max)
    with _stores_lock:
        found = _stores.get(key)
        if found is None or (inline_max is None and found.inline_max != inline_max_default()):
            found = _stores[key] = ValueStore(location, inline_max=inline_max)
        return found


__all__ = [
    "DEFAULT_INLINE_MAX",
    "INLINE_MAX_ENV",
    "STORE_ENV",
    "Entry",
    "StepPayloadError",
    "ValueStore",
    "value_store",
]
