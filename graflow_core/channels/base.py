"""The abstract :class:`Channel`: a key/value store shared by the tasks of a workflow run.

This module only imports :mod:`abc` (always preloaded), so importing it costs next to nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager
    from typing import Any


#: The suffix of the channel key a task's result is stored under: ``"<task_id>.__result__"``.
RESULT_SUFFIX = ".__result__"


def task_results(data: Mapping[str, Any]) -> dict[str, Any]:
    """The task results in a channel dict (``Channel.to_dict()``): ``{task_id: result}``."""
    cut = len(RESULT_SUFFIX)
    return {k[:-cut]: v for k, v in data.items() if k.endswith(RESULT_SUFFIX)}


class _NoLock:
    """A do-nothing context manager: the default ``Channel.lock``."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NO_LOCK = _NoLock()


class Channel(ABC):
    """Interface of every channel backend.

    A channel maps string keys to arbitrary values, optionally with a time-to-live, and offers
    list and counter operations plus an advisory per-key lock. Task results are stored in the
    run's channel under ``"{task_id}.__result__"``.
    """

    def __init__(self, name: str) -> None:
        """Create a channel called ``name`` (for workflow runs, the session id)."""
        self.name = name

    @abstractmethod
    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store ``value`` under ``key``; with ``ttl`` the key expires after ``ttl`` seconds."""

    @abstractmethod
    def get(self, key: str, default: Any = None) -> Any:
        """Return the value under ``key``, or ``default`` if it is missing or expired."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; return whether it was present."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Return whether ``key`` holds a value that has not expired."""

    @abstractmethod
    def keys(self) -> list[str]:
        """Return the keys that currently hold a value."""

    def to_dict(self) -> dict[str, Any]:
        """Every key that currently holds a value, with its value."""
        return {key: self.get(key) for key in self.keys()}

    @abstractmethod
    def clear(self) -> None:
        """Remove every key."""

    @abstractmethod
    def append(self, key: str, value: Any, ttl: int | None = None) -> int:
        """Add ``value`` at the end of the list under ``key`` (created if missing).

        Returns the new length of the list. Raises ``TypeError`` if ``key`` holds a non-list.
        With ``ttl``, the key expires ``ttl`` seconds from now.
        """

    @abstractmethod
    def prepend(self, key: str, value: Any, ttl: int | None = None) -> int:
        """Insert ``value`` at the front of the list under ``key`` (created if missing).

        Returns the new length of the list. Raises ``TypeError`` if ``key`` holds a non-list.
        With ``ttl``, the key expires ``ttl`` seconds from now.
        """

    @abstractmethod
    def atomic_add(self, key: str, amount: int | float = 1) -> int | float:
        """Add ``amount`` (may be negative) to the number under ``key`` and return the sum.

        A missing key counts as 0. Raises ``TypeError`` if ``key`` holds a non-number.
        """

    def lock(self, key: str, timeout: float = 10.0) -> AbstractContextManager[None]:
        """Return a context manager holding an advisory lock on ``key`` while it is entered.

        The lock does not guard plain ``get``/``set``; it is meant for read-modify-write
        sequences that ``atomic_add`` cannot express. Backends that provide mutual exclusion
        raise ``TimeoutError`` when the lock is not acquired within ``timeout`` seconds.

        This default implementation gives **no** mutual exclusion; backends override it.
        """
        return _NO_LOCK
