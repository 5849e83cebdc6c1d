"""Checkpoints in Graflow's three-file format.

``<base>.pkl`` is a cloudpickle of the ExecutionContext (graph, channel contents, counters),
``<base>.state.json`` the queue and progress, ``<base>.meta.json`` the ``CheckpointMetadata``.
Every file is written to a temporary name, flushed to disk and renamed into place, so a crash
never leaves a half-written checkpoint under the real name.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

from graflow_core.core.context import ExecutionContext
from graflow_core.queue.base import TaskSpec, TaskStatus


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
    ) -> tuple[str, CheckpointMetadata]:
        """Write ``<base>.pkl``, ``.state.json`` and ``.meta.json``; return the pkl path.

        ``path`` defaults to ``checkpoints/<session>/session_<session>_step_<n>_<ts>``.
        ``resuming_task_id`` is queued first on resume (the immediate-checkpoint case).
        """
        backend = cls._infer_backend_from_path(path)
        if backend != "local":
            raise NotImplementedError(f"Checkpoint backend '{backend}' is not implemented yet")
        base_path = cls._resolve_base_path(context, path)
        cls._ensure_directory(os.path.dirname(base_path) or ".")

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
        import cloudpickle

        pickle_path = f"{base_path}.pkl"
        _write_atomic(pickle_path, cloudpickle.dumps(context))
        cls._save_json(f"{base_path}.state.json", state)
        cls._save_json(f"{base_path}.meta.json", meta.to_dict())
        context.checkpoint_metadata = meta.to_dict()
        context.last_checkpoint_path = pickle_path
        return pickle_path, meta

    @classmethod
    def resume_from_checkpoint(
        cls, checkpoint_path: str
    ) -> tuple[ExecutionContext, CheckpointMetadata]:
        """Load a checkpoint; continue with ``WorkflowEngine().execute(ctx)`` or ``ctx.execute()``.

        ``checkpoint_path`` may be given with or without ``.pkl``.
        """
        backend = cls._infer_backend_from_path(checkpoint_path)
        if backend != "local":
            raise NotImplementedError(f"Checkpoint backend '{backend}' is not implemented yet")
        base_path = cls._get_base_path(checkpoint_path)
        context = ExecutionContext.load(f"{base_path}.pkl")
        state = cls._load_json(f"{base_path}.state.json")
        metadata = CheckpointMetadata.from_dict(cls._load_json(f"{base_path}.meta.json"))

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
        return context, metadata

    # -- helpers (Graflow's tests call several of these directly) ------------------------------

    @staticmethod
    def _generate_checkpoint_id(context: ExecutionContext) -> str:
        return f"{context.session_id}_{context.steps}_{int(time.time())}"

    @staticmethod
    def _infer_backend_from_path(path: str | None) -> str:
        if path is None:
            return "local"
        if path.startswith("redis://"):
            return "redis"
        if path.startswith("s3://"):
            return "s3"
        return "local"

    @classmethod
    def _resolve_base_path(cls, context: ExecutionContext, path: str | None) -> str:
        if path is None:
            directory = os.path.join("checkpoints", context.session_id)
            cls._ensure_directory(directory)
            name = f"session_{context.session_id}_step_{context.steps}_{int(time.time())}"
            return os.path.join(directory, name)
        return cls._get_base_path(path)

    @staticmethod
    def _get_base_path(path: str) -> str:
        return path[:-4] if path.endswith(".pkl") else path

    @staticmethod
    def _ensure_directory(directory: str) -> None:
        if directory:
            os.makedirs(directory, exist_ok=True)

    @staticmethod
    def _save_json(path: str, data: dict[str, Any]) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        _write_atomic(path, text.encode("utf-8"))

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


def _write_atomic(path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file, fsync and rename."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
