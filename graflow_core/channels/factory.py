"""Create channels by backend name: ``"memory"`` is built in; others are registered.

The Redis channel is not part of graflow_core (see docs/compatibility.md); a plugin or an
application adds other backends with :meth:`ChannelFactory.register_backend`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from graflow_core.channels.base import Channel
from graflow_core.channels.memory_channel import MemoryChannel
from graflow_core.exceptions import ConfigError


class ChannelFactory:
    """Registry of channel backends by name."""

    _backends: ClassVar[dict[str, type[Channel]]] = {"memory": MemoryChannel}

    @classmethod
    def create_channel(cls, backend: str, name: str, **kwargs: Any) -> Channel:
        """Create a channel of type ``backend`` named ``name``; ``kwargs`` go to its constructor.

        Raises ``ConfigError`` if ``backend`` is not available.
        """
        channel_class = cls._backends.get(backend)
        if channel_class is None:
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
        return list(cls._backends.keys())

    @classmethod
    def is_backend_available(cls, backend: str) -> bool:
        """Return whether ``backend`` can be created."""
        return backend in cls._backends
