"""Checkpoint helpers for tests: find checkpoints, verify one and look at what it holds."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graflow_core.core.checkpoint import CheckpointMetadata

__all__ = ["CheckpointInfo", "assert_checkpoint", "list_checkpoints"]

_MISSING: Any = object()


class CheckpointInfo:
    """A verified checkpoint (nothing of it was unpickled).

    Attributes:
        path: the ``.pkl`` path.
        metadata: its :class:`~graflow_core.core.checkpoint.CheckpointMetadata`.
        state: the decoded ``<base>.state.json``.
    """

    def __init__(self, path: str, metadata: CheckpointMetadata, state: dict[str, Any]) -> None:
        self.path = path
        self.metadata = metadata
        self.state = state

    @property
    def completed_tasks(self) -> list[str]:
        """Ids of the tasks that had completed when the checkpoint was taken, in order."""
        return list(self.state.get("completed_tasks", []))

    @property
    def pending_tasks(self) -> list[str]:
        """Ids of the tasks a resume runs first: the resuming task, then the queue."""
        pending = [spec["task_id"] for spec in self.state.get("pending_tasks", [])]
        resuming = self.state.get("resuming_task_id")
        return [resuming, *pending] if resuming is not None else pending

    @property
    def user_metadata(self) -> dict[str, Any]:
        """The metadata given to ``ctx.checkpoint(metadata=...)`` (plus the task's defaults)."""
        return dict(self.metadata.user_metadata)

    def __repr__(self) -> str:
        return (
            f"CheckpointInfo({self.path!r}, completed={self.completed_tasks}, "
            f"pending={self.pending_tasks})"
        )


def _base(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    return text[:-4] if text.endswith(".pkl") else text


def assert_checkpoint(
    path: str | os.PathLike[str],
    *,
    completed: list[str] | None = None,
    pending: list[str] | None = None,
    user_metadata: dict[str, Any] | None = None,
) -> CheckpointInfo:
    """Verify the checkpoint at ``path`` (``.pkl`` optional) and return what it holds.

    Fails with an ``AssertionError`` naming the checkpoint when one of its three files is
    missing, unsigned, modified or signed with another key; when ``completed`` (the exact list
    of completed task ids, in order) or ``pending`` (the ids a resume runs first, in order)
    differ; or when ``user_metadata`` is not contained in the checkpoint's user metadata.
    Nothing is unpickled, so this works without the workflow's code.
    """
    __tracebackhide__ = True
    from graflow_core.checkpoint_stores.base import resolve_store
    from graflow_core.core.checkpoint import CheckpointError, CheckpointManager
    from graflow_core.signing import SigningError

    base = _base(path)
    try:
        metadata = CheckpointManager.verify_checkpoint(base)
    except (CheckpointError, SigningError, FileNotFoundError) as exc:
        raise AssertionError(f"checkpoint {base}.pkl is not valid: {exc}") from exc
    state_path = f"{base}.state.json"
    state = json.loads(resolve_store(state_path).read_bytes(state_path))
    info = CheckpointInfo(f"{base}.pkl", metadata, state)
    if completed is not None and info.completed_tasks != list(completed):
        raise AssertionError(
            f"checkpoint {info.path}: completed tasks are {info.completed_tasks}, "
            f"expected {list(completed)}"
        )
    if pending is not None and info.pending_tasks != list(pending):
        raise AssertionError(
            f"checkpoint {info.path}: a resume would run {info.pending_tasks} first, "
            f"expected {list(pending)}"
        )
    if user_metadata is not None:
        actual = info.user_metadata
        wrong = {
            key: actual.get(key, "<missing>")
            for key, value in user_metadata.items()
            if actual.get(key, _MISSING) != value
        }
        if wrong:
            raise AssertionError(
                f"checkpoint {info.path}: user metadata differs for {sorted(wrong)}: "
                f"it has {wrong}, expected { ({k: user_metadata[k] for k in wrong}) }"
            )
    return info


def list_checkpoints(directory: str | os.PathLike[str]) -> list[str]:
    """The ``.pkl`` paths of the checkpoints under ``directory``, oldest first.

    Local directories are searched recursively (the default checkpoint path is
    ``checkpoints/<session>/...``); for URLs (``memory://``, ``s3://`` ...) only the directory
    itself is listed.  Order: the ``created_at`` of each checkpoint's metadata, then path.
    """
    from graflow_core.checkpoint_stores.base import has_scheme, resolve_store

    root = os.fspath(directory)
    if has_scheme(root):
        store = resolve_store(root)
        files = set(store.list(store.join(root, "")))
        bases = [f[:-4] for f in files if f.endswith(".pkl") and f"{f[:-4]}.meta.json" in files]
    else:
        bases = []
        for parent, _, names in os.walk(root):
            present = set(names)
            bases.extend(
                os.path.join(parent, n[:-4])
                for n in names
                if n.endswith(".pkl") and f"{n[:-4]}.meta.json" in present
            )
        store = resolve_store(root)

    def created(base: str) -> str:
        try:
            meta = json.loads(store.read_bytes(f"{base}.meta.json"))
        except (OSError, ValueError):
            return ""
        return str(meta.get("created_at", "")) if isinstance(meta, dict) else ""

    return [f"{base}.pkl" for base in sorted(bases, key=lambda b: (created(b), b))]
