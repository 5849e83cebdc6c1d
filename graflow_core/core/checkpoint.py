"""Checkpoints in Graflow's three-file layout, signed and verified before anything is unpickled.

``<base>.state.json`` (queue and progress) and ``<base>.meta.json`` (``CheckpointMetadata``)
are plain JSON, as in Graflow.  ``<base>.pkl`` is a signed envelope
(:mod:`graflow_core.signing`) whose payload is::

    b"GFCKPT\\x01"  |  4-byte big-endian manifest length  |  manifest (JSON)  |  cloudpickle

The manifest holds the SHA-256 of the exact bytes of both JSON files, so the signature covers
all three files: changing any byte of any of them, or combining files of two different
checkpoints, is refused (:class:`CheckpointVerificationError`) before anything is unpickled.

Write order: both JSON files first, the ``.pkl`` last, each replaced atomically (temp file +
fsync + rename + directory fsync; see ``LocalCheckpointStore``).
A crash in between leaves JSON files that do not match the old ``.pkl``'s manifest, so the
checkpoint is refused, never loaded inconsistent.  Durable runs
(:mod:`graflow_core.core.resumable`) write every checkpoint to a new base and move a signed
``latest`` pointer last, so the previous checkpoint stays usable after any crash.

Files are read and written through a :class:`~graflow_core.checkpoint_stores.CheckpointStore`
(local paths, fsspec URLs such as ``s3://`` or ``memory://``, or a plugin's store).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from graflow_core.core.context import ExecutionContext
from graflow_core.exceptions import GraflowError
from graflow_core.queue.base import TaskSpec, TaskStatus
from graflow_core.signing import SignatureVerificationError

if TYPE_CHECKING:
    from graflow_core.checkpoint_stores.base import CheckpointStore

__all__ = [
    "CheckpointError",
    "CheckpointManager",
    "CheckpointMetadata",
    "CheckpointNotFoundError",
    "CheckpointVerificationError",
]

PAYLOAD_MAGIC = b"GFCKPT\x01"
MANIFEST_FORMAT = "graflow-core-checkpoint"
MANIFEST_VERSION = 1
SUFFIXES = (".pkl", ".state.json", ".meta.json")


class CheckpointError(GraflowError):
    """A checkpoint cannot be written or read."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A file of the checkpoint does not exist (also a ``FileNotFoundError``)."""


class CheckpointVerificationError(CheckpointError, SignatureVerificationError):
    """A checkpoint file is unsigned, tampered with, truncated, signed with another key, or
    does not belong with the other two files.  Nothing of the checkpoint was unpickled.

    ``what`` is the refused file, ``reason`` a short code (see
    :class:`~graflow_core.signing.SignatureVerificationError`; ``"mismatch"`` for a JSON file
    that does not match the signed manifest).
    """


class CheckpointMetadata:
    """What ``<base>.meta.json`` holds."""

    __slots__ = (
        "backend",
        "checkpoint_id",
        "created_at",
        "session_id",
        "start_node",
        "steps",
        "user_metadata",
    )

    def __init__(
        self,
        checkpoint_id: str,
        session_id: str,
        created_at: str,
        steps: int,
        start_node: str | None,
        backend: dict[str, str],
        user_metadata: dict[str, Any],
    ) -> None:
        self.checkpoint_id = checkpoint_id
        self.session_id = session_id
        self.created_at = created_at
        self.steps = steps
        self.start_node = start_node
        self.backend = backend
        self.user_metadata = user_metadata

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {name: getattr(self, name) for name in _META_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMetadata:
        """Read the JSON form."""
        return cls(
            checkpoint_id=data["checkpoint_id"],
            session_id=data["session_id"],
            created_at=data["created_at"],
            steps=data["steps"],
            start_node=data.get("start_node"),
            backend=data.get("backend", {}),
            user_metadata=data.get("user_metadata", {}),
        )

    @classmethod
    def create(
        cls,
        *,
        checkpoint_id: str,
        session_id: str,
        steps: int,
        start_node: str | None,
        backend: dict[str, str],
        user_metadata: dict[str, Any],
    ) -> CheckpointMetadata:
        """New metadata stamped with the current UTC time."""
        return cls(
            checkpoint_id=checkpoint_id,
            session_id=session_id,
            created_at=datetime.now(timezone.utc).isoformat(),
            steps=steps,
            start_node=start_node,
            backend=backend,
            user_metadata=user_metadata,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CheckpointMetadata):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CheckpointMetadata({self.to_dict()!r})"


_META_FIELDS = (
    "checkpoint_id",
    "session_id",
    "created_at",
    "steps",
    "start_node",
    "backend",
    "user_metadata",
)


class CheckpointManager:
    """Create checkpoints of a running workflow and resume from them."""

    @classmethod
    def create_checkpoint(
        cls,
        context: ExecutionContext,
        *,
        path: str | None = None,
        metadata: dict[str, Any] | None = None,
        resuming_task_id: str | None = None,
        store: CheckpointStore | None = None,
    ) -> tuple[str, CheckpointMetadata]:
        """Write ``<base>.state.json``, ``<base>.meta.json`` and the signed ``<base>.pkl``.

        Returns the ``.pkl`` path and the metadata.  ``path`` (a local path or a URL) defaults
        to ``checkpoints/<session>/session_<session>_step_<n>_<ts>``; ``resuming_task_id`` is
        queued first on resume (the immediate-checkpoint case).  ``store`` overrides the store
        resolution.  Raises :class:`~graflow_core.signing.MissingSigningKeyError` (before
        writing anything) when no signing key is configured.
        """
        from graflow_core.checkpoint_stores.base import call_plugin_hook, resolve_store

        base_path = cls._resolve_base_path(context, path)
        target = resolve_store(base_path, store)

        state = context.get_checkpoint_state()
        state["pending_tasks"] = [
            cls._serialize_task_spec(spec) for spec in cls._get_pending_task_specs(context)
        ]
        state["resuming_task_id"] = resuming_task_id
        meta = CheckpointMetadata.create(
            checkpoint_id=cls._generate_checkpoint_id(context),
            session_id=context.session_id,
            steps=context.steps,
            start_node=context.start_node,
            backend=state["backend"],
            user_metadata=dict(metadata) if metadata else {},
        )
        state_bytes = _json_bytes(state)
        meta_bytes = _json_bytes(meta.to_dict())
        pkl_blob = _build_pickle_envelope(context, state_bytes, meta_bytes, meta.checkpoint_id)

        pickle_path = f"{base_path}.pkl"
        target.write_bytes(f"{base_path}.state.json", state_bytes)
        target.write_bytes(f"{base_path}.meta.json", meta_bytes)
        target.write_bytes(pickle_path, pkl_blob)  # last: it makes the checkpoint valid
        context.checkpoint_metadata = meta.to_dict()
        context.last_checkpoint_path = pickle_path
        call_plugin_hook(
            "checkpoint_written", context=context, path=pickle_path, metadata=meta.to_dict()
        )
        return pickle_path, meta

    @classmethod
    def resume_from_checkpoint(
        cls, checkpoint_path: str, *, store: CheckpointStore | None = None
    ) -> tuple[ExecutionContext, CheckpointMetadata]:
        """Verify and load a checkpoint; continue with ``ctx.execute()``.

        ``checkpoint_path`` may be given with or without ``.pkl``.  All three files are
        verified before anything is unpickled: :class:`CheckpointVerificationError` when one is
        unsigned, modified, truncated, signed with another key or from another checkpoint;
        :class:`CheckpointNotFoundError` when one is missing.
        """
        from graflow_core.checkpoint_stores.base import call_plugin_hook, resolve_store

        base_path = cls._get_base_path(checkpoint_path)
        source = resolve_store(base_path, store)
        context, state, metadata = _read_verified(source, base_path)

        context.completed_tasks = list(state.get("completed_tasks", []))
        context._completed_set = set(context.completed_tasks)
        context.cycle_controller.cycle_counts.update(state.get("cycle_counts", {}))
        context.checkpoint_metadata = metadata.to_dict()
        context.last_checkpoint_path = f"{base_path}.pkl"

        queue = context.task_queue
        queue.cleanup()
        resuming_task_id = state.get("resuming_task_id")
        if resuming_task_id is not None and context.graph.has_node(resuming_task_id):
            queue._ids.append(resuming_task_id)
        for spec_data in state.get("pending_tasks", []):
            queue.enqueue(cls._deserialize_task_spec(spec_data, context))
        context.clear_checkpoint_request()
        call_plugin_hook(
            "checkpoint_resumed",
            context=context,
            path=f"{base_path}.pkl",
            metadata=metadata.to_dict(),
        )
        return context, metadata

    @classmethod
    def verify_checkpoint(
        cls, checkpoint_path: str, *, store: CheckpointStore | None = None
    ) -> CheckpointMetadata:
        """Check all three files of a checkpoint without unpickling it; return its metadata.

        Raises like :meth:`resume_from_checkpoint`.
        """
        from graflow_core.checkpoint_stores.base import resolve_store

        base_path = cls._get_base_path(checkpoint_path)
        _, _, meta_bytes = _verified_files(resolve_store(base_path, store), base_path)
        return CheckpointMetadata.from_dict(json.loads(meta_bytes))

    # -- helpers (Graflow's tests call several of these directly) ------------------------------

    @staticmethod
    def _generate_checkpoint_id(context: ExecutionContext) -> str:
        return f"{context.session_id}_{context.steps}_{int(time.time())}"

    @staticmethod
    def _infer_backend_from_path(path: str | None) -> str:
        """``"local"`` for paths, else the URL scheme (``"s3"``, ``"memory"``, ...)."""
        if path is None:
            return "local"
        from graflow_core.checkpoint_stores.base import has_scheme

        return path.split("://", 1)[0] if has_scheme(path) else "local"

    @classmethod
    def _resolve_base_path(cls, context: ExecutionContext, path: str | None) -> str:
        if path is None:
            import os

            directory = os.path.join("checkpoints", context.session_id)
            name = f"session_{context.session_id}_step_{context.steps}_{int(time.time())}"
            return os.path.join(directory, name)
        return cls._get_base_path(path)

    @staticmethod
    def _get_base_path(path: str) -> str:
        return path[:-4] if path.endswith(".pkl") else path

    @staticmethod
    def _ensure_directory(directory: str) -> None:
        if directory:
            import os

            os.makedirs(directory, exist_ok=True)

    @staticmethod
    def _save_json(path: str, data: dict[str, Any]) -> None:
        from graflow_core.checkpoint_stores.base import resolve_store

        resolve_store(path).write_bytes(path, _json_bytes(data))

    @staticmethod
    def _load_json(path: str) -> dict[str, Any]:
        with open(path, encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
        return data

    @staticmethod
    def _get_pending_task_specs(context: ExecutionContext) -> list[TaskSpec]:
        return list(context.task_queue.get_pending_task_specs())

    @staticmethod
    def _serialize_task_spec(task_spec: TaskSpec) -> dict[str, Any]:
        return {
            "task_id": task_spec.task_id,
            "status": task_spec.status.value,
            "created_at": task_spec.created_at,
            "retry_count": task_spec.retry_count,
            "max_retries": task_spec.max_retries,
            "last_error": task_spec.last_error,
        }

    @staticmethod
    def _deserialize_task_spec(data: dict[str, Any], context: ExecutionContext) -> TaskSpec:
        task_id = data["task_id"]
        try:
            executable = context.graph.get_node(task_id)
        except KeyError:
            from graflow_core.core.task import Task

            executable = Task(task_id, register_to_context=False)
        return TaskSpec(
            executable,
            context,
            status=TaskStatus.READY,
            created_at=data.get("created_at", time.time()),
            retry_count=data.get("retry_count", 0),
            max_retries=data.get("max_retries", 3),
            last_error=data.get("last_error"),
        )


# --------------------------------------------------------------------------------------------
# The file format
# --------------------------------------------------------------------------------------------


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _pickle_context(context: ExecutionContext) -> bytes:
    import cloudpickle

    # The engine's per-task hook belongs to this process (a durable run), not to the data.
    hook = context.__dict__.pop("_after_task", None)
    try:
        return cloudpickle.dumps(context)
    finally:
        if hook is not None:
            context.__dict__["_after_task"] = hook


def _build_pickle_envelope(
    context: ExecutionContext, state_bytes: bytes, meta_bytes: bytes, checkpoint_id: str
) -> bytes:
    from graflow_core.signing import sign

    manifest = json.dumps(
        {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "checkpoint_id": checkpoint_id,
            "state_sha256": _sha256(state_bytes),
            "meta_sha256": _sha256(meta_bytes),
            "pickler": "cloudpickle",
        },
        sort_keys=True,
    ).encode("utf-8")
    return sign(
        b"".join(
            (PAYLOAD_MAGIC, len(manifest).to_bytes(4, "big"), manifest, _pickle_context(context))
        )
    )


def _read(store: CheckpointStore, path: str, base_path: str) -> bytes:
    try:
        return store.read_bytes(path)
    except FileNotFoundError as exc:
        others = [s for s in SUFFIXES if s != path[len(base_path) :]]
        present = [s for s in others if _exists(store, base_path + s)]
        what = "missing" if present else "not found"
        raise CheckpointNotFoundError(
            f"checkpoint {base_path} {what}: {path} does not exist (a checkpoint is "
            "<base>.pkl, <base>.state.json and <base>.meta.json"
            + (f"; found {', '.join(base_path + s for s in present)}" if present else "")
            + ")",
            cause=exc,
        ) from exc


def _exists(store: CheckpointStore, path: str) -> bool:
    try:
        return store.exists(path)
    except Exception:  # diagnostics only
        return False


def _verify_envelope(blob: bytes, *, what: str) -> bytes:
    """:func:`graflow_core.signing.verify`, refusals raised as :class:`CheckpointVerificationError`
    (for every signed file of a checkpoint or a durable run)."""
    from graflow_core.signing import verify

    try:
        return verify(blob, what=what)
    except SignatureVerificationError as exc:
        message = str(exc)[len(exc.what) + 2 :]
        raise CheckpointVerificationError(exc.what, exc.reason, message) from None


def _verified_files(
    store: CheckpointStore, base_path: str, *, legacy_ok: bool = False
) -> tuple[memoryview, bytes, bytes]:
    """Read all three files and verify them; return (pickle bytes, state JSON, meta JSON).

    ``legacy_ok`` (resuming only): under the insecure opt-out, an unsigned ``.pkl`` from
    before signing existed (or from Graflow) is returned unverified, with a warning.
    """
    import hmac

    from graflow_core.signing import is_envelope

    pkl_path = f"{base_path}.pkl"
    blob = _read(store, pkl_path, base_path)
    state_path, meta_path = f"{base_path}.state.json", f"{base_path}.meta.json"
    if legacy_ok and not is_envelope(blob) and _legacy_allowed(blob):
        import warnings

        warnings.warn(
            f"graflow: loading {pkl_path}, an UNSIGNED checkpoint from an older version "
            "or Graflow, because GRAFLOW_INSECURE_UNSIGNED_CHECKPOINTS is set; it is not "
            "verified. Write a new checkpoint to get a signed one.",
            RuntimeWarning,
            stacklevel=4,
        )
        return (
            memoryview(blob),
            _read(store, state_path, base_path),
            _read(store, meta_path, base_path),
        )
    view = memoryview(_verify_envelope(blob, what=pkl_path))
    manifest, header_end = _manifest(view, pkl_path)
    state_bytes = _read(store, state_path, base_path)
    meta_bytes = _read(store, meta_path, base_path)
    for path, data, key in (
        (state_path, state_bytes, "state_sha256"),
        (meta_path, meta_bytes, "meta_sha256"),
    ):
        expected = str(manifest.get(key, ""))
        if not hmac.compare_digest(_sha256(data).encode(), expected.encode()):
            raise CheckpointVerificationError(
                path,
                "mismatch",
                f"refused: does not match the signed {pkl_path} (SHA-256 differs): the file "
                "was modified or corrupted, or belongs to another checkpoint (e.g. a crash "
                "while this checkpoint was being overwritten); nothing was loaded",
            )
    return view[header_end:], state_bytes, meta_bytes


def _manifest(payload: memoryview, pkl_path: str) -> tuple[dict[str, Any], int]:
    """The manifest at the start of a verified payload, and where the pickle starts."""
    n = len(PAYLOAD_MAGIC)
    if bytes(payload[:n]) != PAYLOAD_MAGIC or len(payload) < n + 4:
        raise CheckpointVerificationError(
            pkl_path,
            "not-a-checkpoint",
            "refused: correctly signed, but not a graflow checkpoint (another kind of signed "
            "data, or a checkpoint format this version does not know)",
        )
    size = int.from_bytes(payload[n : n + 4], "big")
    try:
        manifest = json.loads(bytes(payload[n + 4 : n + 4 + size]))
    except ValueError:
        manifest = None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != MANIFEST_FORMAT
        or manifest.get("version") != MANIFEST_VERSION
    ):
        raise CheckpointVerificationError(
            pkl_path,
            "not-a-checkpoint",
            "refused: correctly signed, but its checkpoint manifest is not understood "
            f"(expected {MANIFEST_FORMAT} version {MANIFEST_VERSION})",
        )
    return manifest, n + 4 + size


def _legacy_allowed(blob: bytes) -> bool:
    from graflow_core.signing import insecure_mode

    return insecure_mode() and blob[:1] == b"\x80"  # a pickle protocol >= 2 stream


def _read_verified(
    store: CheckpointStore, base_path: str
) -> tuple[ExecutionContext, dict[str, Any], CheckpointMetadata]:
    import pickle

    pickled, state_bytes, meta_bytes = _verified_files(store, base_path, legacy_ok=True)
    state = json.loads(state_bytes)
    metadata = CheckpointMetadata.from_dict(json.loads(meta_bytes))
    context = pickle.loads(pickled)
    if not isinstance(context, ExecutionContext):
        raise CheckpointError(
            f"{base_path}.pkl holds a {type(context).__name__}, not an ExecutionContext"
        )
    return context, state, metadata
