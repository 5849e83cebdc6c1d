"""Create channels by backend name: ``"memory"`` always, ``"redis"`` when redis-py is installed.

The redis backend is looked up lazily, on first use, so importing this module never imports
``redis``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graflow_core.channels.base import Channel
from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.exceptions import ConfigError

# Backends loaded on first use: name -> (required distribution module, module, class name).
_LAZY_BACKENDS: dict[str, tuple[str, str, str]] = {
    "redis": ("redis", "graflow_core.channels.redis_channel", "RedisChannel"),
}


def _load_lazy_backend(name: str) -> type[Channel] | None:
    """Import the lazily registered backend ``name``; None if it or its requirement is missing."""
    spec = _LAZY_BACKENDS.get(name)
    if spec is None:
        return None
    requirement, module_name, class_name = spec
    from importlib import import_module
    from importlib.util import find_spec

    try:
        if find_spec(requirement) is None:
            return None
        module = import_module(module_name)
    except ImportError:
        return None
    channel_class: type[Channel] = getattr(module, class_name)
    return channel_class


class ChannelFactory:
    """Registry of channel backends by name."""

    _backends: ClassVar[dict[str, type[Channel]]] = {"memory": MemoryChannel}
    _lazy_checked: ClassVar[set[str]] = set()

    @classmethod
    def _resolve(cls, backend: str) -> type[Channel] | None:
        channel_class = cls._backends.get(backend)
        if channel_class is None and backend in _LAZY_BACKENDS and backend not in cls._lazy_checked:
            cls._lazy_checked.add(backend)
            channel_class = _load_lazy_backend(backend)
            if channel_class is not None:
                cls._backends.setdefault(backend, channel_class)
        return channel_class

    @classmethod
    def _load_all_lazy(cls) -> None:
        for backend in _LAZY_BACKENDS:
            cls._resolve(backend)

    @classmethod
    def create_channel(cls, backend: str, name: str, **kwargs: Any) -> Channel:
        """Create a channel of type ``backend`` named ``name``; ``kwargs`` go to its constructor.

        Raises ``ConfigError`` if ``backend`` is not available.
        """
        channel_class = cls._resolve(backend)
        if channel_class is None:
            cls._load_all_lazy()
            available_backends = list(cls._backends.keys())
            raise ConfigError(
                f"Unsupported backend '{backend}'. Available backends: {available_backends}"
            )
        return channel_class(name, **kwargs)

    @classmethod
    def register_backend(cls, name: str, channel_class: type[Channel]) -> None:
        """Register ``channel_class`` (a :class:`Channel` subclass) as backend ``name``."""
        if not isinstance(channel_class, type) or not issubclass(channel_class, Channel):
            raise TypeError(f"Channel class must extend Channel, got {channel_class}")
        cls._backends[name] = channel_class

    @classmethod
    def get_available_backends(cls) -> list[str]:
        """Return the names of the available backends."""
        cls._load_all_lazy()
        return list(cls._backends.keys())

    @classmethod
    def is_backend_available(cls, backend: str) -> bool:
        """Return whether ``backend`` can be created."""
        return cls._resolve(backend) is not None
