"""In-process channel: a plain dict, with lazily checked expiry times.

``get``/``set``/``exists`` sit on the engine's per-task path, so they take no lock (single dict
operations are atomic under the GIL) and only look at expiry times when some key has a TTL.
Only ``_thread`` and ``time`` (both built in) are imported.
"""

from __future__ import annotations

import time
from _thread import RLock, allocate_lock

from graflow_core.channels.base import Channel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from typing_extensions import Self


class _KeyLock:
    """Context manager acquiring one per-key ``RLock`` with a timeout."""

    __slots__ = ("_key", "_lock", "_timeout")

    def __init__(self, lock: Any, key: str, timeout: float) -> None:
        self._lock = lock
        self._key = key
        self._timeout = timeout

    def __enter__(self) -> None:
        timeout = self._timeout
        if timeout is None or timeout < 0:
            acquired = self._lock.acquire()
        else:
            acquired = self._lock.acquire(True, timeout)
        if not acquired:
            raise TimeoutError(f"Could not acquire lock for key '{self._key}' within {timeout}s")

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


class MemoryChannel(Channel):
    """A channel held in this process's memory; values are stored by reference.

    Keys with a TTL expire lazily: an expired key is dropped the next time ``get``, ``exists``,
    ``keys`` or a list/counter operation looks at it. The channel can be pickled (its locks are
    recreated on load), which is how checkpoints and process-based backends carry it.
    """

    def __init__(self, name: str, **kwargs: Any) -> None:
        """Create an empty channel; extra keyword arguments (backend options) are ignored."""
        self.name = name
        self._data: dict[str, Any] = {}
        self._expiry: dict[str, float] = {}
        self._key_locks: dict[str, Any] = {}
        self._key_locks_guard = allocate_lock()

    # -- pickling ---------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """Return the picklable state (everything except the locks)."""
        state = self.__dict__.copy()
        state.pop("_key_locks", None)
        state.pop("_key_locks_guard", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the state and create fresh locks."""
        self.__dict__.update(state)
        self.__dict__.setdefault("_expiry", {})
        self._key_locks = {}
        self._key_locks_guard = allocate_lock()

    def __repr__(self) -> str:
        return f"MemoryChannel(name={self.name!r}, keys={len(self._data)})"

    # -- Graflow's attribute names ----------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        """The underlying key/value dict (Graflow's attribute name; may hold expired keys)."""
        return self._data

    @property
    def ttl_data(self) -> dict[str, float]:
        """Expiry times (``time.time()`` based) of the keys that have a TTL."""
        return self._expiry

    # -- basic operations -------------------------------------------------------------------

    def _expire(self, key: str) -> None:
        """Drop ``key`` if its TTL has passed."""
        deadline = self._expiry.get(key)
        if deadline is not None and time.time() > deadline:
            self._expiry.pop(key, None)
            self._data.pop(key, None)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Store ``value`` under ``key``; with ``ttl`` the key expires after ``ttl`` seconds.

        Setting a key without ``ttl`` removes any earlier expiry of that key.
        """
        self._data[key] = value
        if ttl is not None:
            self._expiry[key] = time.time() + ttl
        elif self._expiry:
            self._expiry.pop(key, None)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value under ``key``, or ``default`` if it is missing or expired."""
        if self._expiry and key in self._expiry:
            self._expire(key)
        return self._data.get(key, default)

    def exists(self, key: str) -> bool:
        """Return whether ``key`` holds an unexpired value."""
        if self._expiry and key in self._expiry:
            self._expire(key)
        return key in self._data

    def delete(self, key: str) -> bool:
        """Remove ``key``; return whether it was present."""
        if self._expiry:
            self._expiry.pop(key, None)
        sentinel = _MISSING
        return self._data.pop(key, sentinel) is not sentinel

    def keys(self) -> list[str]:
        """Return the keys holding unexpired values."""
        if self._expiry:
            now = time.time()
            for key, deadline in list(self._expiry.items()):
                if now > deadline:
                    self._expiry.pop(key, None)
                    self._data.pop(key, None)
        return list(self._data)

    def clear(self) -> None:
        """Remove every key."""
        self._data.clear()
        self._expiry.clear()

    # -- list and counter operations --------------------------------------------------------

    def _list_at(self, key: str) -> list[Any]:
        if self._expiry and key in self._expiry:
            self._expire(key)
        existing = self._data.setdefault(key, [])
        if not isinstance(existing, list):
            raise TypeError(f"Key '{key}' exists but is not a list")
        return existing

    def append(self, key: str, value: Any, ttl: int | None = None) -> int:
        """Append ``value`` to the list under ``key`` (created if missing); return its length.

        Raises ``TypeError`` if ``key`` holds a non-list. With ``ttl``, the key expires ``ttl``
        seconds from now; without it, an existing expiry is kept.
        """
        with self._get_key_lock(key):
            items = self._list_at(key)
            items.append(value)
            if ttl is not None:
                self._expiry[key] = time.time() + ttl
            return len(items)

    def prepend(self, key: str, value: Any, ttl: int | None = None) -> int:
        """Insert ``value`` at the front of the list under ``key``; return its length.

        Raises ``TypeError`` if ``key`` holds a non-list. With ``ttl``, the key expires ``ttl``
        seconds from now; without it, an existing expiry is kept.
        """
        with self._get_key_lock(key):
            items = self._list_at(key)
            items.insert(0, value)
            if ttl is not None:
                self._expiry[key] = time.time() + ttl
            return len(items)

    def atomic_add(self, key: str, amount: int | float = 1) -> int | float:
        """Add ``amount`` to the number under ``key`` (missing counts as 0); return the sum.

        Thread-safe within this channel. Raises ``TypeError`` if ``key`` holds a non-number.
        An existing expiry of ``key`` is kept.
        """
        with self._get_key_lock(key):
            if self._expiry and key in self._expiry:
                self._expire(key)
            current = self._data.get(key, 0)
            if not isinstance(current, (int, float)):
                raise TypeError(
                    f"Key '{key}' holds {type(current).__name__}, expected int or float"
                )
            new_value = current + amount
            self._data[key] = new_value
            return new_value

    # -- locking ----------------------------------------------------------------------------

    def _get_key_lock(self, key: str) -> Any:
        """Return the ``RLock`` of ``key``, creating it on first use."""
        lock = self._key_locks.get(key)
        if lock is None:
            with self._key_locks_guard:
                lock = self._key_locks.get(key)
                if lock is None:
                    lock = self._key_locks[key] = RLock()
        return lock

    def lock(self, key: str, timeout: float = 10.0) -> _KeyLock:
        """Return a context manager holding the re-entrant lock of ``key`` while entered.

        The lock is advisory: plain ``get``/``set`` ignore it, while ``atomic_add``, ``append``
        and ``prepend`` on the same key wait for it. Raises ``TimeoutError`` on entry if the
        lock is not acquired within ``timeout`` seconds.
        """
        return _KeyLock(self._get_key_lock(key), key, timeout)

    # -- branch support ---------------------------------------------------------------------

    def fork(self, name: str) -> Self:
        """Return a new channel called ``name`` holding a shallow copy of this one's keys.

        Values are shared by reference; expiry times are copied; locks are not shared.
        """
        cls = type(self)
        new = cls.__new__(cls)
        state = self.__dict__.copy()
        state["name"] = name
        state["_data"] = self._data.copy()
        state["_expiry"] = self._expiry.copy() if self._expiry else {}
        state["_key_locks"] = {}
        state["_key_locks_guard"] = allocate_lock()
        new.__dict__.update(state)
        return new

    def merge_from(self, other: Channel) -> None:
        """Write every key of ``other`` into this channel (the values of ``other`` win).

        Keys keep the expiry they have in ``other``: a key with a TTL there gets the same
        deadline here, a key without one loses any expiry it had here.
        """
        if isinstance(other, MemoryChannel):
            other_data = other._data
            other_expiry = other._expiry
            self._data.update(other_data)
            if self._expiry:
                expiry = self._expiry
                for key in other_data:
                    if key not in other_expiry:
                        expiry.pop(key, None)
            if other_expiry:
                self._expiry.update(other_expiry)
            return
        for key in other.keys():  # noqa: SIM118  (a Channel, not a dict)
            self.set(key, other.get(key))


_MISSING: Any = object()
