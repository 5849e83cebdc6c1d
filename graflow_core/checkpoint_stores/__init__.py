"""Where checkpoint files live: local directories, fsspec URLs, or a plugin's store.

:func:`resolve_store` picks the store for a location: a plugin's ``checkpoint_store`` hook
first, then :class:`LocalCheckpointStore` for plain paths (and ``file://`` URLs are handled by
fsspec), :class:`FsspecCheckpointStore` for URLs with a scheme (``s3://``, ``gcs://``,
``memory://``, ...).  Nothing here imports fsspec or pluggy until a URL or plugin needs it.
"""

from __future__ import annotations

from graflow_core.checkpoint_stores.base import (
    CheckpointStore,
    CheckpointStoreError,
    has_scheme,
    resolve_store,
)
from graflow_core.checkpoint_stores.local import LocalCheckpointStore

__all__ = [
    "CheckpointStore",
    "CheckpointStoreError",
    "FsspecCheckpointStore",
    "LocalCheckpointStore",
    "has_scheme",
    "resolve_store",
]


def __getattr__(name: str) -> object:
    if name == "FsspecCheckpointStore":
        from graflow_core.checkpoint_stores.fsspec_store import FsspecCheckpointStore

        return FsspecCheckpointStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
