"""The :class:`CheckpointStore` interface and the store resolution for a location."""

from __future__ import annotations

import re
from typing import Any

from graflow_core.exceptions import GraflowError

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")


class CheckpointStoreError(GraflowError, NotImplementedError):
    """No store can handle a checkpoint location (unknown scheme, missing optional package).

    Also a ``NotImplementedError``: what Graflow raises for checkpoint backends it lacks.
    """


class CheckpointStore:
    """Byte storage for checkpoint files, addressed by full location strings.

    A store receives the same strings the user passed (a local path, or a URL for URL-based
    stores) and the results of :meth:`join`.  Implementations must make :meth:`write_bytes`
    atomic: a reader sees either the old content or the complete new content, never a part.
    """

    #: Short name shown in ``CheckpointMetadata.backend`` and messages.
    name = "store"

    def read_bytes(self, path: str) -> bytes:
        """The content of ``path``; ``FileNotFoundError`` when it does not exist."""
        raise NotImplementedError

    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace ``path`` with ``data`` atomically (creating parent directories)."""
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        """True when ``path`` exists."""
        raise NotImplementedError

    def delete(self, path: str) -> None:
        """Remove ``path``; no error when it does not exist."""
        raise NotImplementedError

    def list(self, prefix: str) -> list[str]:
        """Sorted paths of the files whose path starts with ``prefix`` (not recursive).

        The prefix's directory part names the directory to list; its last part filters file
        names: ``list("runs/r1/ckpt-")`` returns ``["runs/r1/ckpt-000001.pkl", ...]``.
        """
        raise NotImplementedError

    def join(self, base: str, *parts: str) -> str:
        """``base`` extended by ``parts`` with the store's separator."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def has_scheme(location: str) -> bool:
    """True for URLs like ``s3://bucket/key`` (``C:\\dir`` and plain paths are not)."""
    return _SCHEME_RE.match(location) is not None


# --------------------------------------------------------------------------------------------
# Plugin hooks
# --------------------------------------------------------------------------------------------


def call_plugin_hook(name: str, **kwargs: Any) -> None:
    """Call the notification hook ``name`` (``checkpoint_written`` / ``checkpoint_resumed``)
    when a plugin implements it (pluggy is imported only when a plugin exists)."""
    from graflow_core.core.hooks import active_hooks

    snapshot = active_hooks()
    caller = getattr(snapshot, name) if snapshot is not None else None
    if caller is not None:
        caller(**kwargs)


_LOCAL: CheckpointStore | None = None


def resolve_store(location: str, store: CheckpointStore | None = None) -> CheckpointStore:
    """The store for ``location``: ``store`` if given, else a plugin's, else the default.

    Order: the ``checkpoint_store(location=...)`` plugin hook (first non-``None`` answer),
    then
    :class:`~graflow_core.checkpoint_stores.local.LocalCheckpointStore` for paths without a
    scheme, then :class:`~graflow_core.checkpoint_stores.fsspec_store.FsspecCheckpointStore`
    for URLs.
    """
    global _LOCAL
    if store is not None:
        return store
    from graflow_core.core.hooks import current_manager

    manager = current_manager()
    if manager is not None:
        found = manager.hook.checkpoint_store(location=location)
        if found is not None:
            return found  # type: ignore[no-any-return,unused-ignore]
    if not has_scheme(location):
        if _LOCAL is None:
            from graflow_core.checkpoint_stores.local import LocalCheckpointStore

            _LOCAL = LocalCheckpointStore()
        return _LOCAL
    from graflow_core.checkpoint_stores.fsspec_store import FsspecCheckpointStore

    return FsspecCheckpointStore.for_url(location)
