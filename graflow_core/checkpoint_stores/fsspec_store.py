"""Checkpoint files on any fsspec file system: ``s3://``, ``gcs://``, ``memory://``, ...

Needs the optional ``fsspec`` package (``pip install "graflow-core[fsspec]"``) plus the
file system's own package (``s3fs``, ``gcsfs``, ...).  ``file://`` URLs are written through
:class:`~graflow_core.checkpoint_stores.local.LocalCheckpointStore` (temp file + fsync +
rename); every other file system writes each file with one ``pipe_file`` call, which object
stores apply atomically (a reader never sees part of an object).
"""

from __future__ import annotations

import contextlib
import posixpath
from typing import Any

from graflow_core.checkpoint_stores.base import CheckpointStore, CheckpointStoreError

_INSTALL_HINT = 'pip install "graflow-core[fsspec]"'


def _import_fsspec(location: str) -> Any:
    try:
        import fsspec
    except ImportError as exc:
        raise CheckpointStoreError(
            f"checkpoint location {location!r} is a URL, which needs the optional fsspec "
            f"package: {_INSTALL_HINT} (plus the file system's package, e.g. s3fs for s3://)",
            cause=exc,
        ) from exc
    return fsspec


class FsspecCheckpointStore(CheckpointStore):
    """A store over one fsspec file system; paths are URLs of that file system."""

    name = "fsspec"

    def __init__(self, fs: Any, protocol: str) -> None:
        self.fs = fs
        self.protocol = protocol
        self._made_dirs: set[str] = set()
        self._local: CheckpointStore | None = None
        if "file" in _protocols(fs):
            from graflow_core.checkpoint_stores.local import LocalCheckpointStore

            self._local = LocalCheckpointStore()

    @classmethod
    def for_url(cls, location: str, **storage_options: Any) -> FsspecCheckpointStore:
        """The store for ``location``'s scheme; :class:`CheckpointStoreError` if unsupported."""
        fsspec = _import_fsspec(location)
        protocol = location.split("://", 1)[0]
        try:
            fs = fsspec.filesystem(protocol, **storage_options)
        except ImportError as exc:
            raise CheckpointStoreError(
                f"checkpoint location {location!r}: fsspec needs another package for "
                f"'{protocol}://' ({exc})",
                cause=exc,
            ) from exc
        except ValueError as exc:
            raise CheckpointStoreError(
                f"checkpoint location {location!r}: no checkpoint store handles "
                f"'{protocol}://' (fsspec does not know it and no plugin provides a "
                "checkpoint_store for it)",
                cause=exc,
            ) from exc
        return cls(fs, protocol)

    def _path(self, url: str) -> str:
        return str(self.fs._strip_protocol(url))

    def read_bytes(self, path: str) -> bytes:
        if self._local is not None:
            return self._local.read_bytes(self._path(path))
        return bytes(self.fs.cat_file(self._path(path)))

    def write_bytes(self, path: str, data: bytes) -> None:
        target = self._path(path)
        if self._local is not None:
            self._local.write_bytes(target, data)
            return
        parent = posixpath.dirname(target)
        if parent and parent not in self._made_dirs:
            with contextlib.suppress(Exception):
                self.fs.makedirs(parent, exist_ok=True)
            self._made_dirs.add(parent)
        self.fs.pipe_file(target, bytes(data))

    def exists(self, path: str) -> bool:
        return bool(self.fs.exists(self._path(path)))

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(path))

    def list(self, prefix: str) -> list[str]:
        directory, _, start = prefix.rpartition("/")
        try:
            entries = self.fs.ls(self._path(directory), detail=True)
        except FileNotFoundError:
            return []
        names = []
        for entry in entries:
            if entry.get("type") != "file":
                continue
            name = posixpath.basename(str(entry["name"]).rstrip("/"))
            if name.startswith(start) and ".tmp-" not in name:
                names.append(f"{directory}/{name}")
        return sorted(names)

    def join(self, base: str, *parts: str) -> str:
        return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])

    def __repr__(self) -> str:
        return f"FsspecCheckpointStore(protocol={self.protocol!r})"


def _protocols(fs: Any) -> tuple[str, ...]:
    proto = getattr(fs, "protocol", ())
    return (proto,) if isinstance(proto, str) else tuple(proto)
