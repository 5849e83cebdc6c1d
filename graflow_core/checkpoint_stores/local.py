"""Checkpoint files in a local directory, written with temp file + fsync + rename."""

from __future__ import annotations

import contextlib
import os

from graflow_core.checkpoint_stores.base import CheckpointStore


class LocalCheckpointStore(CheckpointStore):
    """The default store: plain paths on the local file system.

    :meth:`write_bytes` writes a temporary file in the target directory, fsyncs it, renames
    it over the target and fsyncs the directory, so after it returns the new content survives
    a crash or power loss, and a crash before that leaves the old content.
    """

    name = "local"

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def write_bytes(self, path: str, data: bytes) -> None:
        write_file_atomic(path, data)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def delete(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def list(self, prefix: str) -> list[str]:
        directory, start = os.path.split(prefix)
        try:
            names = os.listdir(directory or ".")
        except FileNotFoundError:
            return []
        return sorted(
            os.path.join(directory, n)
            for n in names
            if n.startswith(start)
            and ".tmp-" not in n
            and os.path.isfile(os.path.join(directory or ".", n))
        )

    def join(self, base: str, *parts: str) -> str:
        return os.path.join(base, *parts)


def write_file_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, rename, fsync of
    the directory (parent directories are created).  The file gets ``mode`` minus the umask.

    Shared by :class:`LocalCheckpointStore` and the dead-letter store.
    """
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (no-op where directories cannot be opened)."""
    flags = getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY
    try:
        fd = os.open(directory, flags)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - file systems without directory fsync
        pass
    finally:
        os.close(fd)
