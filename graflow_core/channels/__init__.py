"""Channels: the key/value stores through which the tasks of a workflow share data.

The public classes are imported on first access, so ``import graflow_core.channels`` is cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from graflow_core.channels.base import Channel
    from graflow_core.channels.factory import ChannelFactory
    from graflow_core.channels.memory_channel import MemoryChannel
    from graflow_core.channels.typed import ChannelTypeRegistry, TypedChannel

__all__ = ["Channel", "ChannelFactory", "ChannelTypeRegistry", "MemoryChannel", "TypedChannel"]

_LAZY = {
    "Channel": "graflow_core.channels.base",
    "ChannelFactory": "graflow_core.channels.factory",
    "ChannelTypeRegistry": "graflow_core.channels.typed",
    "MemoryChannel": "graflow_core.channels.memory_channel",
    "TypedChannel": "graflow_core.channels.typed",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
