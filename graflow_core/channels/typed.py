"""Schema-checked channels: :class:`TypedChannel` wraps a channel and validates TypedDicts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Generic, TypeVar, get_type_hints

from graflow_core.channels.base import Channel
from graflow_core.exceptions import ConfigError

T = TypeVar("T")

_BASIC_TYPES = (str, int, float, bool, list, dict)

# Per TypedDict class: (all annotated keys, required keys, {key: basic type to isinstance-check}).
_SchemaInfo = tuple[frozenset[str], frozenset[str], dict[str, type]]
_schema_cache: dict[type, _SchemaInfo] = {}


def _is_typed_dict(cls: object) -> bool:
    """Return whether ``cls`` looks like a TypedDict class."""
    return hasattr(cls, "__annotations__") and hasattr(cls, "__total__")


def _schema_info(typed_dict_class: type) -> _SchemaInfo:
    info = _schema_cache.get(typed_dict_class)
    if info is None:
        annotations = get_type_hints(typed_dict_class)
        allowed = frozenset(annotations)
        required_attr = getattr(typed_dict_class, "__required_keys__", None)
        if required_attr is not None:
            required = frozenset(required_attr)
        elif not getattr(typed_dict_class, "__total__", True):
            required = frozenset()
        else:
            required = allowed
        checks = {key: tp for key, tp in annotations.items() if tp in _BASIC_TYPES}
        info = (allowed, required, checks)
        _schema_cache[typed_dict_class] = info
    return info


def _schema_problem(data: Any, typed_dict_class: type) -> str | None:
    """Return why ``data`` does not conform to ``typed_dict_class``, or None if it does.

    The rules: ``data`` is a dict, has every required key and no other keys, and values of
    keys annotated ``str``/``int``/``float``/``bool``/``list``/``dict`` are instances of
    that type. Other annotations are not checked.
    """
    if not isinstance(data, dict):
        return f"expected a dict, got {type(data).__name__}"
    if not _is_typed_dict(typed_dict_class):
        return f"{typed_dict_class!r} is not a TypedDict"
    allowed, required, checks = _schema_info(typed_dict_class)
    missing = required.difference(data)
    if missing:
        return f"missing required key(s) {sorted(missing)}"
    extra = [key for key in data if key not in allowed]
    if extra:
        return f"unexpected key(s) {sorted(map(str, extra))}"
    for key, expected in checks.items():
        if key in data and not isinstance(data[key], expected):
            return f"key '{key}' must be {expected.__name__}, got {type(data[key]).__name__}"
    return None


def _validate_typed_dict(data: Any, typed_dict_class: type) -> bool:
    """Return whether ``data`` conforms to the TypedDict ``typed_dict_class``."""
    return _schema_problem(data, typed_dict_class) is None


class TypedChannel(Channel, Generic[T]):
    """A view of a channel whose values must match the TypedDict ``message_type``.

    ``set``/``send`` raise ``TypeError`` for a value that does not conform; ``get``/``receive``
    return None for a stored value that does not. List and counter operations pass through
    unchecked. Validation: required keys present, no extra keys, and ``isinstance`` checks for
    keys annotated with ``str``, ``int``, ``float``, ``bool``, ``list`` or ``dict``.
    """

    def __init__(self, channel: Channel, message_type: type[T]) -> None:
        """Wrap ``channel``; raises ``ValueError`` if ``message_type`` is not a TypedDict."""
        self._channel = channel
        self._message_type = message_type
        if not _is_typed_dict(message_type):
            raise ValueError(f"message_type must be a TypedDict, got {message_type}")

    @property
    def name(self) -> str:  # type: ignore[override]
        """The wrapped channel's name."""
        return self._channel.name

    @property
    def message_type(self) -> type[T]:
        """The TypedDict class values are checked against."""
        return self._message_type

    def _check(self, value: Any, what: str) -> None:
        problem = _schema_problem(value, self._message_type)
        if problem is not None:
            raise TypeError(f"{what} does not conform to {self._message_type.__name__}: {problem}")

    def _checked(self, data: Any) -> Any:
        if data is None or _schema_problem(data, self._message_type) is not None:
            return None
        return data

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        """Validate ``value`` (``TypeError`` if it does not conform) and store it."""
        self._check(value, "Value")
        self._channel.set(key, value, ttl)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value under ``key`` (or ``default``) if it conforms, else None."""
        return self._checked(self._channel.get(key, default))

    def exists(self, key: str) -> bool:
        """Return whether ``key`` exists in the wrapped channel."""
        return self._channel.exists(key)

    def delete(self, key: str) -> bool:
        """Remove ``key`` from the wrapped channel; return whether it was present."""
        return self._channel.delete(key)

    def keys(self) -> list[str]:
        """Return the wrapped channel's keys."""
        return self._channel.keys()

    def clear(self) -> None:
        """Clear the wrapped channel."""
        self._channel.clear()

    def append(self, key: str, value: Any, ttl: int | None = None) -> int:
        """Append to the list under ``key`` without validation; return its length."""
        return self._channel.append(key, value, ttl)

    def prepend(self, key: str, value: Any, ttl: int | None = None) -> int:
        """Prepend to the list under ``key`` without validation; return its length."""
        return self._channel.prepend(key, value, ttl)

    def atomic_add(self, key: str, amount: int | float = 1) -> int | float:
        """Add ``amount`` to the number under ``key`` in the wrapped channel."""
        return self._channel.atomic_add(key, amount)

    @contextmanager
    def lock(self, key: str, timeout: float = 10.0) -> Iterator[None]:
        """Hold the wrapped channel's advisory lock on ``key``."""
        with self._channel.lock(key, timeout):
            yield

    def send(self, key: str, message: T, ttl: int | None = None) -> None:
        """Validate ``message`` (``TypeError`` if it does not conform) and store it."""
        self._check(message, "Message")
        self._channel.set(key, message, ttl)

    def receive(self, key: str, default: T | None = None) -> T | None:
        """Return the message under ``key`` (or ``default``) if it conforms, else None."""
        result: T | None = self._checked(self._channel.get(key, default))
        return result


class ChannelTypeRegistry:
    """Named TypedDict schemas, e.g. ``"task_result"`` from :mod:`graflow_core.channels.schemas`.

    The predefined schemas are registered when that module is first imported; ``get`` and
    ``create_channel`` import it on demand.
    """

    _types: ClassVar[dict[str, type]] = {}

    @classmethod
    def register(cls, name: str, message_type: type) -> None:
        """Register ``message_type`` under ``name``; ``ValueError`` if it is not a TypedDict."""
        if not _is_typed_dict(message_type):
            raise ValueError(f"message_type must be a TypedDict, got {message_type}")
        cls._types[name] = message_type

    @classmethod
    def get(cls, name: str) -> type | None:
        """Return the schema registered under ``name``, or None."""
        message_type = cls._types.get(name)
        if message_type is None:
            import graflow_core.channels.schemas  # noqa: F401  (registers the predefined ones)

            message_type = cls._types.get(name)
        return message_type

    @classmethod
    def create_channel(cls, channel: Channel, type_name: str) -> TypedChannel[Any]:
        """Wrap ``channel`` with the schema ``type_name``; ``ConfigError`` if it is unknown."""
        message_type = cls.get(type_name)
        if message_type is None:
            raise ConfigError(f"Message type '{type_name}' not registered")
        return TypedChannel(channel, message_type)
